"""Which way of writing the schema into the prompt to train with, chosen on dev: what each costs and buys.

For each rendering (`none`, or a `jsontune.data.schema_rendering` format) one LoRA model is trained from the
same recipe and split, each in a process of its own, and scored greedily (no grammar: what the model
itself learned to read) on the split the recipe evaluates on, which for a choice must be a dev split
(`split: {name: domains, ..., evaluate_on: dev}`). Per rendering: prompt tokens (mean), training time,
and schema adherence and field F1 on each of the split's labels (in-domain and held-out domains apart).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jsontune.benchmarks.runs import train_in_subprocess
from jsontune.data.prompting import prompt_ids
from jsontune.decoding.strategies import DecodingConfig
from jsontune.evaluation.evaluate import evaluate_model, load_predictions
from jsontune.evaluation.metrics import aggregate
from jsontune.evaluation.tables import fmt, markdown_table
from jsontune.models.loading import load_tokenizer
from jsontune.recipe import Recipe, load_recipe

NONE = "none"


@dataclass
class FormatResult:
    schema_format: str
    prompt_tokens: float
    train_s: float
    by_label: dict[str, dict] = field(default_factory=dict)  # label -> aggregate metrics


def _recipe_for(recipe_path: Path, schema_format: str, out_dir: Path, overrides: list[str]) -> Recipe:
    shown = schema_format != NONE
    return load_recipe(recipe_path, [*overrides, "--output_dir", str(out_dir / "models" / schema_format),
                                     "--schema_in_prompt", str(shown).lower(),
                                     "--schema_format", schema_format if shown else "json_schema"])


def compare_schema_formats(recipe_path: Path, formats: list[str], out_dir: Path,
                           overrides: list[str]) -> list[FormatResult]:
    """Train and score one model per rendering (see the module docstring); results in `formats` order."""
    results = []
    for schema_format in formats:
        recipe = _recipe_for(recipe_path, schema_format, out_dir, overrides)
        splits = recipe.splits()
        began = time.perf_counter()
        train_in_subprocess(f"lora-{schema_format}", recipe, out_dir)
        train_s = time.perf_counter() - began
        model_dir = recipe.training.output_dir
        tokenizer = load_tokenizer(model_dir)
        config = recipe.prompt_config(tokenizer)
        tokens = float(np.mean([len(prompt_ids(tokenizer, record, config)) for record in splits.test]))
        eval_dir = out_dir / "runs" / schema_format
        evaluate_model(model_dir, splits.test, eval_dir, batch_size=recipe.jsontune.eval_batch_size,
                       max_new_tokens=recipe.jsontune.eval_max_new_tokens, decoding=DecodingConfig("greedy"),
                       label=schema_format, datasets=splits.test_datasets())
        grouped: dict[str, list[dict]] = defaultdict(list)
        for row in load_predictions(eval_dir):
            grouped[row["dataset"]].append(row)
        results.append(FormatResult(schema_format, tokens, train_s,
                                    {label: aggregate(rows) for label, rows in sorted(grouped.items())}))
    (out_dir / "schema_formats.json").write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    return results


def format_table(results: list[FormatResult]) -> str:
    """A row per rendering: prompt tokens, training time, and schema adherence / field F1 per label."""
    labels = sorted({label for result in results for label in result.by_label})
    header = ["schema in prompt", "prompt tokens", "train s",
              *(f"{name} ({label})" for label in labels for name in ("schema", "field F1"))]
    body = [[r.schema_format, fmt(r.prompt_tokens, 1), fmt(r.train_s, 0),
             *(fmt((r.by_label.get(label) or {}).get(key), 3) for label in labels
               for key in ("schema_adherence", "field_f1"))] for r in results]
    return "\n".join(markdown_table(header, body))

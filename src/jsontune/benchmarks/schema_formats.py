"""Which way of writing the schema into the prompt to train with, chosen on dev: what each costs and buys.

For each rendering (`none`, or a `jsontune.data.schema_rendering` format) one LoRA model is trained from the
same recipe and split, each in a process of its own, and scored greedily (no grammar: what the model
itself learned to read) on the split the recipe evaluates on, which for a choice must be a dev split
(`split: {name: domains, ..., evaluate_on: dev}`). Per rendering: prompt tokens (mean), training time,
and schema adherence and field F1 on each of the split's labels (in-domain and held-out domains apart).

With `requests` (the hand-written dev set, `data/dev/requests.jsonl`: real-world-style requests whose schemas
speak in words) each model is also scored greedily on them, per task: exact arguments of the function calls,
schema adherence and field F1 of the rows with a schema, fact F1 of the rows without one, and their prompt
tokens. The synthetic dev split cannot see what a rendering drops from real schemas (its schemas say less).
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
from jsontune.evaluation.metrics import aggregate, by_task
from jsontune.evaluation.tables import fmt, markdown_table
from jsontune.models.loading import load_tokenizer
from jsontune.recipe import Recipe, load_recipe

NONE = "none"
WITH_SCHEMA = "with schema"
# The requests' answers are longer than the synthetic ones (API payloads with nested lists).
REQUESTS_MAX_NEW_TOKENS = 256


@dataclass
class FormatResult:
    schema_format: str
    prompt_tokens: float
    train_s: float
    by_label: dict[str, dict] = field(default_factory=dict)  # label -> aggregate metrics
    requests_tokens: float | None = None
    requests: dict[str, dict] = field(default_factory=dict)  # task -> aggregate metrics on the requests


def _recipe_for(recipe_path: Path, schema_format: str, out_dir: Path, overrides: list[str]) -> Recipe:
    shown = schema_format != NONE
    return load_recipe(recipe_path, [*overrides, "--output_dir", str(out_dir / "models" / schema_format),
                                     "--schema_in_prompt", str(shown).lower(),
                                     "--schema_format", schema_format if shown else "json_schema"])


def compare_schema_formats(recipe_path: Path, formats: list[str], out_dir: Path, overrides: list[str],
                           requests: list[dict] | None = None) -> list[FormatResult]:
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
        result = FormatResult(schema_format, tokens, train_s,
                              {label: aggregate(rows) for label, rows in sorted(grouped.items())})
        if requests:
            result.requests_tokens = float(np.mean([len(prompt_ids(tokenizer, r, config)) for r in requests]))
            result.requests = _score_requests(model_dir, requests, out_dir / "requests" / schema_format, recipe)
        results.append(result)
    (out_dir / "schema_formats.json").write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    return results


def _score_requests(model_dir: Path, requests: list[dict], eval_dir: Path, recipe: Recipe) -> dict[str, dict]:
    """Greedy figures of a model on the requests: per task, and `with schema` over every row that has one."""
    evaluate_model(model_dir, requests, eval_dir, batch_size=recipe.jsontune.eval_batch_size,
                   max_new_tokens=REQUESTS_MAX_NEW_TOKENS, decoding=DecodingConfig("greedy"), label="requests",
                   datasets=["requests"] * len(requests), overwrite=True)
    rows = load_predictions(eval_dir)
    groups = {**by_task(rows), WITH_SCHEMA: aggregate([row for row in rows if row.get("schema")])}
    return groups


def requests_table(results: list[FormatResult]) -> str:
    """A row per rendering on the requests: prompt tokens, exact arguments of the function calls, schema adherence
    and field F1 of the rows with a schema, fact F1 of the rows without one."""
    header = ["schema in prompt", "prompt tokens", "exact arguments (function calls)", "schema adherence",
              "field F1", "fact F1 (no schema)"]
    body = [[r.schema_format, fmt(r.requests_tokens, 1),
             fmt((r.requests.get("function_call") or {}).get("exact_match"), 3),
             fmt((r.requests.get(WITH_SCHEMA) or {}).get("schema_adherence"), 3),
             fmt((r.requests.get(WITH_SCHEMA) or {}).get("field_f1"), 3),
             fmt((r.requests.get("schema_free") or {}).get("fact_f1"), 3)] for r in results if r.requests]
    return "\n".join(markdown_table(header, body))


def format_table(results: list[FormatResult]) -> str:
    """A row per rendering: prompt tokens, training time, and schema adherence / field F1 per label."""
    labels = sorted({label for result in results for label in result.by_label})
    header = ["schema in prompt", "prompt tokens", "train s",
              *(f"{name} ({label})" for label in labels for name in ("schema", "field F1"))]
    body = [[r.schema_format, fmt(r.prompt_tokens, 1), fmt(r.train_s, 0),
             *(fmt((r.by_label.get(label) or {}).get(key), 3) for label in labels
               for key in ("schema_adherence", "field_f1"))] for r in results]
    return "\n".join(markdown_table(header, body))

"""The experiment: fine-tune completely and with LoRA on the same data, then compare with the base model."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jsontune.base_model import resolve_model_name
from jsontune.evaluation import evaluate_model, write_json
from jsontune.recipe import Recipe, load_recipe
from jsontune.training import load_recipe_splits, load_tokenizer, prompt_config_for

logger = logging.getLogger(__name__)

# --debug: a few steps and a few test rows, to check the whole pipeline in minutes.
DEBUG_OVERRIDES = ["--max_steps", "2", "--max_test_rows_per_file", "3"]
SUMMARY_COLUMNS = ("model", "parse_rate", "field_f1", "exact_match", "train_runtime_s", "trainable_parameters")


def _model_size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("*.safetensors")) / 2**20


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the summary rows."""
    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3f}" if value <= 1 else f"{value:.1f}"
        return str(value)

    header = "| " + " | ".join(SUMMARY_COLUMNS) + " |"
    rule = "|" + "---|" * len(SUMMARY_COLUMNS)
    body = ["| " + " | ".join(cell(row.get(c)) for c in SUMMARY_COLUMNS) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def run_experiment(
    full_recipe: str | Path = "recipes/full.yaml",
    lora_recipe: str | Path = "recipes/lora.yaml",
    results_dir: str | Path = "results/experiment",
    skip_complete: bool = False,
    skip_lora: bool = False,
    skip_benchmark: bool = False,
    dataset: str | None = None,
    debug: bool = False,
) -> list[dict[str, Any]]:
    """Train (unless skipped) and evaluate base, complete and LoRA models on the recipes' test split."""
    started = time.perf_counter()
    overrides = DEBUG_OVERRIDES if debug else []
    recipes = {"complete": load_recipe(full_recipe, overrides), "lora": load_recipe(lora_recipe, overrides)}
    if dataset:
        for recipe in recipes.values():
            _use_dataset(recipe, dataset)
    reference = recipes["lora"]
    test = _shared_test_split(recipes)
    results_dir = Path(results_dir)

    for label, skip in (("complete", skip_complete), ("lora", skip_lora)):
        if not skip:
            _train_in_subprocess(label, recipes[label], results_dir)
    if skip_benchmark:
        return []

    base_path = resolve_model_name(reference.model.model_name_or_path)
    tokenizer = load_tokenizer(base_path)
    candidates: list[tuple[str, str, Recipe | None]] = [("base", base_path, None)]
    for label, recipe in recipes.items():
        if (Path(recipe.training.output_dir) / "jsontune_prompt.json").is_file():
            candidates.append((label, recipe.training.output_dir, recipe))
        else:
            logger.warning("no trained %s model in %s: left out of the comparison", label, recipe.training.output_dir)

    rows = []
    for label, path, recipe in candidates:
        metrics = evaluate_model(
            path, test, results_dir / label, prompt_config=prompt_config_for(reference, tokenizer),
            batch_size=reference.jsontune.eval_batch_size, max_new_tokens=reference.jsontune.eval_max_new_tokens,
            label=label,
        )
        figures = _train_figures(Path(path)) if recipe else {}
        rows.append({
            "model": label, **{k: metrics[k] for k in ("n", "parse_rate", "field_f1", "exact_match")},
            "mean_latency_s": metrics["mean_latency_s"], "size_mb": _model_size_mb(Path(path)),
            "train_runtime_s": figures.get("train_runtime_s"),
            "trainable_parameters": figures.get("trainable_parameters"),
        })
        gc.collect()

    table = format_table(rows)
    summary = {"rows": rows, "test_rows": len(test), "wall_time_s": time.perf_counter() - started,
               "recipes": {k: str(r.path) for k, r in recipes.items()}, "debug": debug}
    write_json(results_dir / "summary.json", summary)
    (results_dir / "summary.md").write_text(table + "\n")
    print(f"\nTest split: {len(test)} rows. Wall time: {summary['wall_time_s'] / 60:.1f} min\n\n{table}\n")
    return rows


def _train_in_subprocess(label: str, recipe: Recipe, results_dir: Path) -> None:
    """Train as `scripts/sft.py` would, in a process of its own, so its peak memory is its own."""
    resolved = recipe.save(results_dir / "recipes", f"{label}.yaml")
    logger.info("training the %s model with %s (resolved from %s)", label, resolved, recipe.path)
    done = subprocess.run([sys.executable, "-m", "jsontune.cli", "train", str(resolved)])
    if done.returncode != 0:
        raise RuntimeError(f"training the {label} model failed (exit code {done.returncode}); see the log above")


def _shared_test_split(recipes: dict[str, Recipe]) -> list[dict]:
    """The test split, which must be the same for every recipe for the comparison to mean anything."""
    splits = {label: load_recipe_splits(recipe) for label, recipe in recipes.items()}
    ids = {label: [r["id"] for r in split.test] for label, split in splits.items()}
    if len({tuple(v) for v in ids.values()}) != 1:
        raise ValueError("the recipes' data settings give different test splits: align their jsontune sections")
    return next(iter(splits.values())).test


def _use_dataset(recipe: Recipe, dataset: str) -> None:
    """Point a recipe at one contract file; per-file row limits that named other files no longer apply."""
    if not Path(dataset).is_file():
        raise FileNotFoundError(f"--dataset: no such file {dataset!r}")
    args = recipe.jsontune
    args.data_files = [dataset]
    for key in ("max_train_rows_per_file", "max_test_rows_per_file"):
        if getattr(args, key) is not None and len(getattr(args, key)) > 1:
            setattr(args, key, None)


def _train_figures(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "train_results.json"
    return json.loads(path.read_text()) if path.is_file() else {}

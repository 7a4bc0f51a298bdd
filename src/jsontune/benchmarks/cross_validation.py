"""Cross-validation: complete fine-tuning and LoRA over every domain of the data, each scored by a model that never
saw it.

The experiment tests on 7 held-out domains (56 rows): its intervals are wide and which domains were drawn decides
much of its result. Here the data's domains are dealt into K folds (`jsontune.data.domain_folds`: seeded, balanced
by rows); for each fold the complete and LoRA recipes (the experiment's, or any given) train on the other folds'
domains, each in a process of its own, and both are evaluated greedy and constrained on the fold's domains. Every
domain is held out in exactly one fold, so the pooled predictions score every row once.
`jsontune.benchmarks.cross_validation_report` then writes per-fold and pooled figures (intervals by bootstrap over
domains), complete - LoRA paired over the pooled rows, the spread across folds and a plot.

Work already done is reused (`jsontune.benchmarks.runs`: a model trained from the same recipe, an evaluation of the
same model, rows and decoding), so a stopped run picks up where it stopped; `fresh` redoes everything. Each fold
records its wall time in `fold-K/fold.json` once its evaluations are done.

The defaults (`jsontune.data.domain_folds`: 5 folds, 8 training rows and 4 held-out rows per domain) are sized for
about an hour on a 2-core CPU: a fold trains each recipe on the 40 or so domains of four folds (about 320 rows,
against the experiment's 507) and scores about 41 rows four times.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

from jsontune.benchmarks.experiment import DEBUG_OVERRIDES, DEBUG_ROWS_PER_LABEL, first_rows_per_label, shared_splits
from jsontune.benchmarks.runs import decoding_for, evaluate_once, train_afresh, trained_as
from jsontune.data.domain_folds import (
    CV_HELD_OUT_ROWS_PER_DOMAIN,
    CV_TRAIN_ROWS_PER_DOMAIN,
    DEFAULT_FOLDS,
    NAME,
    DomainFoldOptions,
    fold_of_domains,
)
from jsontune.data.domain_split import domain_of
from jsontune.evaluation.compare import load_run
from jsontune.files import write_json
from jsontune.recipe import SPLIT_KEY, Recipe, load_recipe

logger = logging.getLogger(__name__)

DEFAULT_RESULTS_DIR = Path("results/cv")
METHODS = ("complete", "lora")
MODES = ("greedy", "constrained")
FOLD_FILE = "fold.json"


def fold_recipes(recipes: dict[str, str | Path], options: DomainFoldOptions, fold_dir: Path,
                 debug: bool = False) -> dict[str, Recipe]:
    """Each method's recipe split by `domain_folds` at `options`, training into `fold_dir/models/<method>`."""
    split = json.dumps({"name": NAME, **asdict(options)})
    return {method: load_recipe(path, [*(DEBUG_OVERRIDES if debug else []), f"--{SPLIT_KEY}", split,
                                       "--output_dir", str(fold_dir / "models" / method)])
            for method, path in recipes.items()}


def run_cross_validation(
    complete_recipe: str | Path = "recipes/complete.yaml",
    lora_recipe: str | Path = "recipes/lora.yaml",
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    folds: int = DEFAULT_FOLDS,
    max_train_rows_per_domain: int | None = CV_TRAIN_ROWS_PER_DOMAIN,
    max_held_out_rows_per_domain: int | None = CV_HELD_OUT_ROWS_PER_DOMAIN,
    fresh: bool = False,
    debug: bool = False,
) -> dict[str, Path]:
    """Train and evaluate every fold (reusing what is done unless `fresh`), then write the report; returns its paths.
    With `debug`, two training steps and 3 rows per test label of each fold, to check the pipeline in minutes."""
    from jsontune.benchmarks.cross_validation_report import write_cv_report

    started = time.perf_counter()
    results_dir = Path(results_dir)
    paths = {"complete": complete_recipe, "lora": lora_recipe}
    options = [DomainFoldOptions(folds, k, max_train_rows_per_domain, max_held_out_rows_per_domain)
               for k in range(folds)]
    # Every fold's recipes and splits first: a wrong recipe or too few domains stops here, before any training.
    planned = []
    for k, fold_options in enumerate(options):
        fold_dir = results_dir / f"fold-{k}"
        recipes = fold_recipes(paths, fold_options, fold_dir, debug)
        planned.append((fold_dir, recipes, shared_splits(recipes)))
    reference = planned[0][1]["lora"]
    assignment = fold_of_domains(reference.jsontune.data_files, reference.jsontune.split_seed, options[0])
    results = []
    for k, (fold_dir, recipes, splits) in enumerate(planned):
        test, datasets = splits.test, splits.test_datasets()
        domains = {r["id"]: domain_of(r, f) for r, f in zip(test, splits.test_files)}
        if debug:
            test, datasets = first_rows_per_label(test, datasets, DEBUG_ROWS_PER_LABEL)
        print(f"\nFold {k + 1}/{folds}: {len(splits.train)} training rows, {len(test)} test rows from "
              f"{len(set(domains.values()))} held-out domains", flush=True)
        results.append(_run_fold(k, fold_dir, recipes, test, datasets, domains, fresh))
    total_s = time.perf_counter() - started
    context = {
        "command": sys.argv,
        "debug": debug,
        "folds": folds,
        "split": {"name": NAME, "seed": reference.jsontune.split_seed,
                  "max_train_rows_per_domain": max_train_rows_per_domain,
                  "max_held_out_rows_per_domain": max_held_out_rows_per_domain},
        "fold_of_domain": assignment,
        "recipes": {method: str(path) for method, path in paths.items()},
        "wall_time_s": total_s,
    }
    written = write_cv_report(results_dir, results, context)
    print(f"\nCross-validation: {folds} folds, {sum(len(r.domains) for r in results)} pooled rows. "
          f"Wall time of this run: {total_s / 60:.1f} min.\nReport: {written['report']}; CSV, plot and metadata "
          "beside it.")
    return written


def _run_fold(k: int, fold_dir: Path, recipes: dict[str, Recipe], test: list[dict], datasets: list[str],
              domains: dict[str, str], fresh: bool):
    """Train (or reuse) both methods and evaluate (or reuse) each in each mode; the fold's runs and wall time."""
    from jsontune.benchmarks.cross_validation_report import FoldResult

    began = time.perf_counter()
    did_work = False
    for method, recipe in recipes.items():
        model_dir = Path(recipe.training.output_dir)
        if not fresh and trained_as(model_dir, recipe):
            logger.info("fold %d: %s already trained in %s, reused", k, method, model_dir)
            continue
        train_afresh(method, recipe, fold_dir)
        did_work = True
    runs = {}
    for method, recipe in recipes.items():
        for mode in MODES:
            decoding, budget = decoding_for(mode, recipe)
            out = fold_dir / "runs" / method / mode
            did_work |= evaluate_once(Path(recipe.training.output_dir), test, out, decoding, budget, fresh,
                                      batch_size=recipe.jsontune.eval_batch_size, label=method, datasets=datasets)
            runs[method, mode] = load_run(out, method)
            gc.collect()
    record_file = fold_dir / FOLD_FILE
    if did_work or not record_file.is_file():
        record = {"fold": k, "wall_time_s": time.perf_counter() - began,
                  "domains": sorted(set(domains.values())), "test_rows": len(test)}
        write_json(record_file, record)
    record = json.loads(record_file.read_text())
    kept = {row_id: domains[row_id] for row_id in (r["id"] for r in test)}
    return FoldResult(fold=k, runs=runs, domains=kept, wall_time_s=record["wall_time_s"])

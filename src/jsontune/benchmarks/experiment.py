"""The experiment: fine-tune completely and with LoRA on the same data, then benchmark both against the base.

Each model trains in a process of its own from its resolved recipe (the command `scripts/sft.py`
runs), so its peak memory is its own. The benchmark then evaluates every model on the shared test
split: the base model greedily (retrying a model never taught the format costs minutes and tells
nothing), the fine-tuned ones with the recipe's decoding (progressive by default, whose first
attempts give the greedy figures too), and every model also with grammar-constrained decoding
(unless the recipe turns it off), so that the report shows how much validity comes from training
and how much from decoding. `results/benchmarks/` receives the per-run predictions and
metrics, then the plot, CSV, metadata and report (`jsontune.evaluation.report`).

"Complete" is the original experiment's "complete fine-tuning": every weight of the model trains.
With `--with-ablation`, "lora-no-schema" is trained too: the LoRA recipe with `schema_in_prompt: false`, so the
report shows what reading the schema buys. It is scored greedily only (what the model itself learned). It is not
trained by default: its answer has not changed run after run (held-out field F1 0.05-0.09 against 0.54-0.61
with the schema), and its 4.5 minutes are what keeps the experiment inside 25 minutes.

With `--with-grpo`, two more rows compare what the same extra time buys: "lora+grpo" reinforces the LoRA
model with GRPO (recipes/grpo.yaml, JSON rewards), and "lora+more-sft" is the LoRA recipe trained for longer,
from the base, for as long as LoRA and GRPO took together (`jsontune.max_train_seconds` stops it there;
its epochs are set so its schedule ends about then). The times are `train_runtime`: the training loops,
without loading. Both are scored as the LoRA model is, and the report tests them against each other.

A recipe split by domain (`split: {name: domains, ...}`) gives two test splits, in-domain rows and whole
held-out domains that no training row comes from; the report gives each its own table and plot.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from pathlib import Path

from jsontune import run_dir
from jsontune.benchmarks.runs import train_in_subprocess
from jsontune.data.contract import write_jsonl
from jsontune.decoding.strategies import DecodingConfig
from jsontune.errors import MissingFileError
from jsontune.evaluation.compare import load_run
from jsontune.evaluation.evaluate import evaluate_model
from jsontune.evaluation.report import GRPO, GRPO_SECTION, MORE_SFT, SPLITS_SECTION, BenchmarkRun, write_benchmark
from jsontune.models.base_model import resolve_model_name
from jsontune.models.loading import load_tokenizer
from jsontune.recipe import Recipe, load_recipe

logger = logging.getLogger(__name__)

# --debug: a few steps and a few test rows, to check the whole pipeline in minutes.
DEBUG_OVERRIDES = ["--max_steps", "2"]
DEBUG_ROWS_PER_LABEL = 3
DEFAULT_RESULTS_DIR = Path("results/benchmarks")
ABLATION = "lora-no-schema"
DEFAULT_GRPO_RECIPE = Path("recipes/grpo.yaml")


def run_experiment(
    complete_recipe: str | Path = "recipes/complete.yaml",
    lora_recipe: str | Path = "recipes/lora.yaml",
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    skip_complete: bool = False,
    skip_lora: bool = False,
    skip_benchmark: bool = False,
    dataset: str | None = None,
    debug: bool = False,
    with_ablation: bool = False,
    with_grpo: bool = False,
    grpo_recipe: str | Path = DEFAULT_GRPO_RECIPE,
) -> list[BenchmarkRun]:
    """Train (unless skipped), then benchmark base, complete and LoRA on the test split (with_ablation, the LoRA
    recipe without the schema too; with_grpo, LoRA + GRPO against LoRA trained for as long)."""
    started = time.perf_counter()
    overrides = DEBUG_OVERRIDES if debug else []

    def load(path: str | Path, extra: list[str] = (), **kwargs) -> Recipe:
        recipe = load_recipe(path, [*overrides, *extra], **kwargs)
        if dataset:
            _use_dataset(recipe, dataset)
        return recipe

    recipes = {"complete": load(complete_recipe), "lora": load(lora_recipe)}
    # Beside the LoRA model's folder: models/lora -> models/lora-no-schema, -more-sft, -grpo.
    lora_dir = Path(recipes["lora"].training.output_dir)
    beside = {label: str(lora_dir.with_name(f"{lora_dir.name}-{suffix}"))
              for label, suffix in ((ABLATION, "no-schema"), (MORE_SFT, "more-sft"), (GRPO, "grpo"))}
    if with_ablation:
        recipes[ABLATION] = load(lora_recipe, ["--schema_in_prompt", "false", "--output_dir", beside[ABLATION]])
    if with_grpo:
        from trl import GRPOConfig

        # Loaded now to check them and their splits before anything trains, and again once their start is known:
        # GRPO's model is the LoRA model, more SFT's time budget is what LoRA and GRPO took.
        recipes[MORE_SFT] = load(lora_recipe, ["--output_dir", beside[MORE_SFT]])
        recipes[GRPO] = load(grpo_recipe, ["--model_name_or_path", recipes["lora"].model.model_name_or_path,
                                           "--output_dir", beside[GRPO]], trainer_config=GRPOConfig)
    reference = recipes["lora"]
    splits = shared_splits(recipes)
    results_dir = Path(results_dir)
    timings: dict[str, float] = {}

    for label, skip in (("complete", skip_complete), ("lora", skip_lora), (ABLATION, False)):
        if label in recipes and not skip:
            began = time.perf_counter()
            train_in_subprocess(label, recipes[label], results_dir)
            timings[f"train_{label}_s"] = time.perf_counter() - began
    equal_time = None
    if with_grpo:
        equal_time = _train_grpo_and_more_sft(recipes, load, results_dir, timings)
    if skip_benchmark:
        return []

    test, datasets = splits.test, splits.test_datasets()
    if debug:
        test, datasets = first_rows_per_label(test, datasets, DEBUG_ROWS_PER_LABEL)
    write_jsonl(results_dir / "test.jsonl", test)
    base_path = resolve_model_name(reference.model.model_name_or_path)
    base_prompt = reference.prompt_config(load_tokenizer(base_path))
    args = reference.jsontune
    decoding = DecodingConfig(args.eval_decoding, tuple(args.eval_temperatures), args.eval_max_attempts,
                              seed=reference.training.seed)
    constrained = DecodingConfig("constrained", backend=args.eval_grammar_backend, open_objects=args.eval_open_objects)
    models = [("base", base_path, DecodingConfig("greedy"))]
    for label, recipe in recipes.items():
        if run_dir.is_trained(recipe.training.output_dir):
            models.append((label, recipe.training.output_dir, decoding))
        else:
            logger.warning("no trained %s model in %s: left out of the comparison", label, recipe.training.output_dir)
    candidates = []
    for label, path, model_decoding in models:
        if label == ABLATION:  # what the model learned without the schema: greedy alone
            candidates.append((label, path, DecodingConfig("greedy"), args.eval_max_new_tokens))
            continue
        candidates.append((label, path, model_decoding, args.eval_max_new_tokens))
        if args.eval_constrained:
            candidates.append((label, path, constrained, args.eval_constrained_max_new_tokens))

    runs: list[BenchmarkRun] = []
    for label, path, model_decoding, budget in candidates:
        began = time.perf_counter()
        out = results_dir / "runs" / label / model_decoding.mode
        greedy_out = results_dir / "runs" / label / "greedy" if model_decoding.mode == "progressive" else None
        evaluate_model(path, test, out, prompt_config=base_prompt, batch_size=args.eval_batch_size,
                       max_new_tokens=budget, decoding=model_decoding, label=label, datasets=datasets,
                       greedy_out_dir=greedy_out)
        timings[f"eval_{label}_{model_decoding.mode}_s"] = time.perf_counter() - began
        for directory in filter(None, (greedy_out, out)):
            runs.append(load_run(directory, label))
        gc.collect()

    timings["total_s"] = time.perf_counter() - started
    context = {
        "command": sys.argv,
        "debug": debug,
        "recipes": {label: {"path": str(r.path), "resolved": r.resolved()} for label, r in recipes.items()},
        "seeds": {"split_seed": args.split_seed, "training": {k: r.training.seed for k, r in recipes.items()},
                  "decoding": decoding.seed},
        "decoding": {f"{label}/{d.mode}": {**d.describe(), "max_new_tokens": budget}
                     for label, _, d, budget in candidates},
        "data_files": splits.files,
        "test_rows": len(test),
        "timings": timings,
    }
    if equal_time is not None:
        context["grpo_vs_more_sft"] = equal_time
    paths = write_benchmark(results_dir, runs, context)
    print(f"\nTest split: {len(test)} rows. Wall time: {timings['total_s'] / 60:.1f} min.\n")
    print(_headline(paths["report"].read_text()))
    print(f"Full report: {paths['report']}; plot, CSV and metadata beside it.")
    return runs


def _train_grpo_and_more_sft(recipes: dict[str, Recipe], load, results_dir: Path, timings: dict[str, float]) -> dict:
    """Reinforce the LoRA model with GRPO, then train the LoRA recipe from the base for the time LoRA and GRPO
    took together (both recipes replaced in `recipes` by the ones that ran); returns the times that make the
    comparison fair."""
    from trl import GRPOConfig

    lora_dir = Path(recipes["lora"].training.output_dir)
    lora_figures = run_dir.read_train_results(lora_dir)
    if not run_dir.is_trained(lora_dir) or not (lora_figures or {}).get("train_runtime_s"):
        raise MissingFileError(f"--with-grpo starts from the LoRA model, and {lora_dir} holds no trained run "
                               "with its training time: train it first (leave out --skip-lora)")
    recipes[GRPO] = load(recipes[GRPO].path, ["--model_name_or_path", str(lora_dir),
                                              "--output_dir", recipes[GRPO].training.output_dir],
                         trainer_config=GRPOConfig)
    began = time.perf_counter()
    train_in_subprocess(GRPO, recipes[GRPO], results_dir, command="grpo")
    timings[f"train_{GRPO}_s"] = time.perf_counter() - began
    grpo_figures = run_dir.read_train_results(recipes[GRPO].training.output_dir)
    lora_s, grpo_s = lora_figures["train_runtime_s"], grpo_figures["train_runtime_s"]
    budget = lora_s + grpo_s
    # Epochs in proportion to the time, so that the schedule ends near the budget; the budget stops it.
    epochs = recipes["lora"].training.num_train_epochs * budget / lora_s
    recipes[MORE_SFT] = more_sft = load(recipes[MORE_SFT].path, [
        "--output_dir", recipes[MORE_SFT].training.output_dir, "--num_train_epochs", f"{epochs:.3f}",
        "--max_train_seconds", f"{budget:.1f}"])
    began = time.perf_counter()
    train_in_subprocess(MORE_SFT, more_sft, results_dir)
    timings[f"train_{MORE_SFT}_s"] = time.perf_counter() - began
    more_figures = run_dir.read_train_results(more_sft.training.output_dir)
    return {
        "lora_train_s": lora_s, "grpo_train_s": grpo_s, "budget_s": budget,
        "grpo_steps": grpo_figures.get("global_steps"),
        "more_sft_train_s": more_figures.get("train_runtime_s"), "more_sft_epochs": round(epochs, 3),
        "more_sft_steps": more_figures.get("global_steps"), "lora_steps": lora_figures.get("global_steps"),
        "more_sft_stopped_by_time_budget": more_figures.get("stopped_by_time_budget"),
    }


def _headline(report: str) -> str:
    """The report's overall and per-test-split tables and paired tests, for the terminal."""
    sections = report.split("\n## ")
    return "\n".join("## " + s for s in sections[1:]
                     if s.startswith(("Overall", SPLITS_SECTION, "Complete vs LoRA", GRPO_SECTION)))


def first_rows_per_label(test: list[dict], labels: list[str], n: int) -> tuple[list[dict], list[str]]:
    """The first n test rows of each label (--debug), in their order."""
    kept: dict[str, int] = {}
    rows, names = [], []
    for record, label in zip(test, labels):
        if kept.get(label, 0) < n:
            kept[label] = kept.get(label, 0) + 1
            rows.append(record)
            names.append(label)
    return rows, names


def shared_splits(recipes: dict[str, Recipe]):
    """The data splits, whose test split must be the same for every recipe for the comparison to mean anything."""
    splits = {label: recipe.splits() for label, recipe in recipes.items()}
    ids = {label: [r["id"] for r in split.test] for label, split in splits.items()}
    if len({tuple(v) for v in ids.values()}) != 1:
        raise ValueError("the recipes' data settings give different test splits: align their jsontune sections")
    return next(iter(splits.values()))


def _use_dataset(recipe: Recipe, dataset: str) -> None:
    """Point a recipe at one contract file; per-file row limits that named other files no longer apply."""
    if not Path(dataset).is_file():
        raise MissingFileError(f"--dataset: no such file {dataset!r}")
    args = recipe.jsontune
    args.data_files = [dataset]
    args.split = None  # the recipe's split builder names the recipe's domains, not this file's
    for key in ("max_train_rows_per_file", "max_test_rows_per_file"):
        if getattr(args, key) is not None and len(getattr(args, key)) > 1:
            setattr(args, key, None)


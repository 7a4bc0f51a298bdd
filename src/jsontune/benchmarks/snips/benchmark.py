"""The SNIPS learning curve: train at several sizes, score slot filling on the fixed test split.

For each method (LoRA, complete) and each number of training queries per intent, the method's recipe (on the whole
pool, its whole-pool recipe where it has one: `defaults`) is trained in a process of its own (its `snips` split at
`per_intent: N`, `--output_dir <models>/<method>-<N>`), then evaluated on the split's test (or dev) queries with
each decoding mode: `greedy` (unconstrained) and `constrained`, whose grammar is the query's span schema
(`jsontune.benchmarks.snips.span_schema`: one branch per intent, slot values copied from the query). The records
keep their references; their `schema` becomes the span schema in both modes, so schema adherence means the same
thing in each.

Work already done is reused: a model whose saved recipe is the one asked for (and whose slot catalogue text, if
its prompts end with one, is today's) is not trained again,
and an evaluation whose model, records and decoding are unchanged is not run again (`--fresh`
redoes everything). So an interrupted run picks up where it stopped. `results/snips/` then gets
the CSVs, plot, metadata and report of `jsontune.benchmarks.snips.report`.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jsontune.benchmarks.runs import decoding_for, evaluate_once, train_afresh, trained_as
from jsontune.benchmarks.snips.defaults import MODELS_DIR, MODES, OUT_DIR, RECIPES, SIZES, WHOLE_POOL_RECIPES
from jsontune.benchmarks.snips.report import CurvePoint, write_snips_report
from jsontune.benchmarks.snips.slot_catalogue import with_catalogue
from jsontune.benchmarks.snips.span_schema import slots_by_intent, span_schema
from jsontune.benchmarks.snips.split import (
    SPLIT_BUILDER,
    SnipsSplit,
    SnipsSplitOptions,
    catalogue_prompt,
    load_snips_split,
    parse_per_intent,
    query_text,
)
from jsontune.evaluation.evaluate import load_predictions
from jsontune.evaluation.metrics import aggregate
from jsontune.files import write_text
from jsontune.recipe import SPLIT_KEY, Recipe, RecipeError, load_recipe
from jsontune.run_dir import METRICS_FILE

logger = logging.getLogger(__name__)

METHODS = ("lora", "complete")
# Beside a model trained with a slot catalogue: the text its prompts ended with. The recipe names only the
# rendering, so a changed description would otherwise reuse a model trained on the old text.
CATALOGUE_FILE = "slot_catalogue.txt"


@dataclass(frozen=True)
class Model:
    """One trained model of the curve."""

    method: str  # "lora" or "complete"
    size: str  # training queries per intent: "10", ..., or "all"
    recipe: Recipe

    @property
    def label(self) -> str:
        return f"{self.method}-{self.size}"

    @property
    def directory(self) -> Path:
        return Path(self.recipe.training.output_dir)


def plan_models(recipes: dict[str, str | Path], sizes: dict[str, list[str]], models_dir: Path,
                overrides: list[str], split_settings: dict | None = None,
                whole_pool_recipes: dict[str, str | Path] | None = None) -> list[Model]:
    """The models to train: one per method and size, each recipe loaded with its split at that size (and
    `split_settings`, other split options for every run) and its own output folder. The whole pool ("all") takes
    the method's recipe in `whole_pool_recipes` where it has one (None: none has), else the method's own."""
    models = []
    for method in METHODS:
        for size in sizes.get(method) or []:
            per_intent = parse_per_intent(size)
            name = "all" if per_intent is None else str(per_intent)
            path = (whole_pool_recipes or {}).get(method, recipes[method]) if per_intent is None else recipes[method]
            split = {**_snips_split(load_recipe(path, overrides)), **(split_settings or {})}
            sized = json.dumps({**split, "per_intent": name if per_intent is None else per_intent})
            recipe = load_recipe(path, [*overrides, f"--{SPLIT_KEY}", sized,
                                        "--output_dir", str(models_dir / f"{method}-{name}")])
            models.append(Model(method, name, recipe))
    return models


def _snips_split(recipe: Recipe) -> dict:
    """The recipe's split mapping, which must be the snips builder's (the curve varies its per_intent)."""
    split = recipe.jsontune.split
    if not split or split.get("name") != SPLIT_BUILDER.name:
        raise RecipeError(f"{recipe.path}: the SNIPS benchmark needs jsontune.{SPLIT_KEY}: {{name: "
                          f"{SPLIT_BUILDER.name}, ...}} (the fixed test split and nested training sizes), not {split}")
    return split


def split_options(recipe: Recipe) -> SnipsSplitOptions:
    """The snips split options of a planned model's recipe."""
    return SPLIT_BUILDER.parse_options({k: v for k, v in _snips_split(recipe).items() if k != "name"})


def _is_trained(model: Model, catalogue: str | None) -> bool:
    """Whether the model's folder holds a finished training of this recipe (`runs.trained_as`), whose prompts ended
    with this slot catalogue text (None: none)."""
    if catalogue and _read_text(model.directory / CATALOGUE_FILE) != catalogue:
        return False
    return trained_as(model.directory, model.recipe)


def train(model: Model, catalogue: str | None, out_dir: Path) -> None:
    """Train the model in a process of its own, into a fresh folder, and record its slot catalogue text beside it
    (`_is_trained` reads it back)."""
    train_afresh(model.label, model.recipe, out_dir)
    if catalogue:
        write_text(model.directory / CATALOGUE_FILE, catalogue)


def _read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def model_catalogue(model: Model, data_split: SnipsSplit) -> str | None:
    """The slot catalogue text the model's prompts end with (`catalogue_prompt`, as `snips_splits` writes it), or
    None when its split puts none there."""
    return catalogue_prompt(data_split, split_options(model.recipe))


def prompted(records: list[dict], model: Model, data_split: SnipsSplit) -> list[dict]:
    """The evaluation records as the model's training prompts were written: with its slot catalogue, if any."""
    text = model_catalogue(model, data_split)
    return with_catalogue(records, text) if text else records


def evaluation_records(records: list[dict], catalogue: dict[str, list[str]],
                       per_intent_limit: int | None) -> list[dict]:
    """Copies of the records to score, each with its query's span schema; at most per_intent_limit per intent."""
    kept: list[dict] = []
    seen: dict[str, int] = {}
    for record in records:
        intent = record["reference"]["intent"]
        if per_intent_limit is not None and seen.get(intent, 0) >= per_intent_limit:
            continue
        seen[intent] = seen.get(intent, 0) + 1
        copied = copy.deepcopy(record)
        copied["schema"] = span_schema(query_text(record), catalogue)
        kept.append(copied)
    return kept


def run_snips_benchmark(
    lora_recipe: str | Path = RECIPES["lora"],
    complete_recipe: str | Path = RECIPES["complete"],
    lora_sizes: list[str] | None = None,
    complete_sizes: list[str] | None = None,
    modes: list[str] | None = None,
    split: str = "test",
    out_dir: str | Path = OUT_DIR,
    models_dir: str | Path = MODELS_DIR,
    overrides: list[str] | None = None,
    fresh: bool = False,
    per_intent_limit: int | None = None,
    slot_catalogue: str | None = None,
    whole_pool_recipes: dict[str, str | Path] | None = None,
) -> list[CurvePoint]:
    """Train and evaluate every (method, size), then write the report; returns the evaluated points.

    Sizes default to the whole comparison (`defaults.SIZES`), and the whole pool to its own recipes
    (`defaults.WHOLE_POOL_RECIPES`; {} trains the method's recipe on it). slot_catalogue (template, outline) puts
    every intent's slots in every run's prompts; None leaves the recipes' split as it is."""
    started = time.perf_counter()
    modes = list(modes or MODES)
    unknown = [m for m in modes if m not in MODES]
    if unknown or split not in ("test", "dev"):
        raise ValueError(f"modes must be among {', '.join(MODES)} (got {unknown}); split 'test' or 'dev' "
                         f"(got {split!r})")
    sizes = {"lora": list(SIZES["lora"]) if lora_sizes is None else lora_sizes,
             "complete": list(SIZES["complete"]) if complete_sizes is None else complete_sizes}
    out_dir, models_dir = Path(out_dir), Path(models_dir)
    models = plan_models({"lora": lora_recipe, "complete": complete_recipe}, sizes, models_dir, list(overrides or []),
                         {"slot_catalogue": slot_catalogue} if slot_catalogue else None,
                         WHOLE_POOL_RECIPES if whole_pool_recipes is None else whole_pool_recipes)
    if not models:
        raise ValueError("no sizes to run: give --lora-sizes and/or --complete-sizes")
    for model in models:
        if split_options(model.recipe).slot_catalogue and model.recipe.jsontune.schema_in_prompt:
            raise ValueError(f"{model.recipe.path}: schema_in_prompt with a slot_catalogue would also write each "
                             "record's own schema, whose intent is a const, into its prompt: set schema_in_prompt: "
                             "false")
    args, held_out = models[0].recipe.jsontune, split_options(models[0].recipe)
    for model in models[1:]:
        other, options = model.recipe.jsontune, split_options(model.recipe)
        if (other.data_files, other.split_seed, options.test_per_intent, options.dev_per_intent) != \
                (args.data_files, args.split_seed, held_out.test_per_intent, held_out.dev_per_intent):
            raise ValueError(f"{model.recipe.path} and {models[0].recipe.path} split the data differently: align "
                             "their data_files, split_seed and the split's test_per_intent and dev_per_intent")
    data_split, _ = load_snips_split(args.data_files, args.split_seed, held_out.test_per_intent,
                                     held_out.dev_per_intent)
    catalogue = slots_by_intent(data_split.records())
    records = evaluation_records(getattr(data_split, split), catalogue, per_intent_limit)
    timings: dict[str, float] = {}
    points: list[CurvePoint] = []
    total = len(models) * (1 + len(modes))
    step = 0
    for model in models:
        step += 1
        catalogue = model_catalogue(model, data_split)
        if fresh or not _is_trained(model, catalogue):
            logger.info("[%d/%d] training %s (%s training queries per intent)", step, total, model.label, model.size)
            began = time.perf_counter()
            train(model, catalogue, out_dir)
            timings[f"train_{model.label}_s"] = time.perf_counter() - began
        else:
            logger.info("[%d/%d] %s: already trained in %s, reused", step, total, model.label, model.directory)
        model_records = prompted(records, model, data_split)
        for mode in modes:
            step += 1
            points.append(_evaluate(model, mode, model_records, out_dir / "runs" / model.label / mode, fresh, timings,
                                    f"[{step}/{total}]"))
            gc.collect()
    timings["total_s"] = time.perf_counter() - started
    context = {
        "command": sys.argv,
        "split": split,
        "records": len(records),
        "per_intent_limit": per_intent_limit,
        "recipes": {model.label: {"path": str(model.recipe.path), "resolved": model.recipe.resolved()}
                    for model in models},
        "split_settings": {"split_seed": args.split_seed, "test_per_intent": held_out.test_per_intent,
                           "dev_per_intent": held_out.dev_per_intent, "data_files": args.data_files},
        "record_ids": [r["id"] for r in records],
        "timings": timings,
    }
    paths = write_snips_report(out_dir, points, context)
    print(f"\n{split} split: {len(records)} queries. Wall time: {timings['total_s'] / 60:.1f} min.")
    print(f"Report: {paths['report']}; CSV, plot and metadata beside it.")
    return points


def _evaluate(model: Model, mode: str, records: list[dict], out: Path, fresh: bool, timings: dict[str, float],
              progress: str) -> CurvePoint:
    """Evaluate one model in one mode (or reuse the same evaluation done before) and load its results."""
    decoding, budget = decoding_for(mode, model.recipe)
    began = time.perf_counter()
    logger.info("%s evaluating %s, %s decoding, on %d queries (unless done before)", progress, model.label, mode,
                len(records))
    if evaluate_once(model.directory, records, out, decoding, budget, fresh,
                     batch_size=model.recipe.jsontune.eval_batch_size, label=f"{model.label} {mode}"):
        timings[f"eval_{model.label}_{mode}_s"] = time.perf_counter() - began
    else:
        logger.info("%s %s, %s decoding: evaluated before, reused", progress, model.label, mode)
    rows = load_predictions(out)
    # The figures again from the saved answers, so that an evaluation reused from before a protocol was added has it.
    metrics = {**json.loads((out / METRICS_FILE).read_text()), **aggregate(rows)}
    return CurvePoint(method=model.method, size=model.size, mode=mode, metrics=metrics, rows=rows)

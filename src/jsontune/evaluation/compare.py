"""Several evaluations of the same data side by side: the experiment's report, from any evaluation folders.

`compare_runs(folders, out_dir)` reads each folder's `metrics.json` and `predictions.jsonl` (written by
`jsontune eval`, by `jsontune eval --endpoint`, by `jsontune score`, or by the experiment under
`results/runs/MODEL/DECODING/`) and writes the experiment's deliverables (`jsontune.evaluation.report`: the
tables, the plot, the CSV, the metadata) with one more section: every run against the first, paired on the same
rows. The experiment's own folders, given in its order, give its report's tables.

A run is named by its model (a folder's `metrics.json` label, else the folder's name; `NAME=FOLDER` names it)
and its decoding mode. Folders given one NAME (`new=runs/seed42 new=runs/seed43`) are one recipe trained with
several seeds: they are pooled into one run whose rows hold their means over the seeds
(`jsontune.evaluation.seed_pooling`), so that a choice is tested on more than one seed's luck. Every folder must
hold the same rows (the same ids), and two folders of one name that was not given, or one folder given twice,
are refused; then nothing is written: a comparison of different rows would pair nothing with its like.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jsontune.errors import JsontuneError, MissingFileError
from jsontune.evaluation.evaluate import load_predictions
from jsontune.evaluation.report import REPORT_FILE, BenchmarkRun, write_benchmark
from jsontune.evaluation.seed_pooling import pool_runs
from jsontune.files import check_replaceable
from jsontune.run_dir import METRICS_FILE, PREDICTIONS_FILE

MAX_LISTED = 5


class CompareError(JsontuneError):
    """The folders cannot be compared: one is not an evaluation, or they hold different rows."""


def load_run(directory: str | Path, label: str | None = None) -> BenchmarkRun:
    """One evaluation folder as a run of the report: named `label`, else by its metrics' label, else the folder."""
    directory = Path(directory)
    missing = [name for name in (METRICS_FILE, PREDICTIONS_FILE) if not (directory / name).is_file()]
    if missing:
        raise MissingFileError(f"{directory}: not an evaluation folder (no {' or '.join(missing)})")
    metrics = json.loads((directory / METRICS_FILE).read_text(encoding="utf-8"))
    name = label or metrics.get("label") or directory.name
    return BenchmarkRun(model=name, decoding=metrics["decoding"]["mode"], metrics=metrics,
                        rows=load_predictions(directory))


def parse_folder(argument: str) -> tuple[str | None, Path]:
    """`FOLDER` or `NAME=FOLDER` (a folder that exists as written is never split)."""
    if "=" in argument and not Path(argument).exists():
        name, _, folder = argument.partition("=")
        if name:
            return name, Path(folder)
    return None, Path(argument)


def check_comparable(runs: list[BenchmarkRun], folders: list[Path], names: list[str | None]) -> None:
    """Every run holds the first run's row ids; runs share a label only where they were given one NAME (seeds to
    pool), and no folder is given twice."""
    resolved = [folder.resolve() for folder in folders]
    twice = next((folder for i, folder in enumerate(folders) if resolved[i] in resolved[:i]), None)
    if twice is not None:
        raise CompareError(f"{twice}: given twice (folders given one NAME are pooled as seeds: give each once)")
    labels = [run.label for run in runs]
    for label in sorted({label for label in labels if labels.count(label) > 1}):
        if any(name is None for name, run in zip(names, runs) if run.label == label):
            raise CompareError(f"two folders give the run {label!r}: name them apart as NAME=FOLDER, or give them "
                               "one NAME to pool them as seeds of one recipe")
    first = [row["id"] for row in runs[0].rows]
    for run, folder in zip(runs[1:], folders[1:]):
        ids = [row["id"] for row in run.rows]
        if sorted(ids) == sorted(first):
            continue
        extra = sorted(set(ids) - set(first))
        missing = sorted(set(first) - set(ids))
        parts = [f"{len(missing)} of its rows missing ({', '.join(missing[:MAX_LISTED])})" if missing else "",
                 f"{len(extra)} rows it does not hold ({', '.join(extra[:MAX_LISTED])})" if extra else "",
                 "rows given twice" if len(set(ids)) < len(ids) else ""]
        raise CompareError(f"{folder}: not the same rows as {folders[0]}: " + "; ".join(p for p in parts if p))


def compare_runs(arguments: list[str], out_dir: str | Path, overwrite: bool = False) -> dict[str, Path]:
    """Write the comparison of the evaluation folders (`FOLDER` or `NAME=FOLDER`, the first one the baseline)."""
    if len(arguments) < 2:
        raise CompareError("give two evaluation folders or more to compare")
    out_dir = Path(out_dir)
    check_replaceable([out_dir / REPORT_FILE], overwrite)
    named = [parse_folder(argument) for argument in arguments]
    runs = [load_run(folder, name) for name, folder in named]
    folders = [folder for _, folder in named]
    check_comparable(runs, folders, [name for name, _ in named])
    groups: dict[str, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(run.label, []).append(i)
    pooled = [pool_runs([runs[i] for i in members], runs[members[0]].model) for members in groups.values()]
    compared = {label: [str(folders[i]) for i in members] if len(members) > 1 else str(folders[members[0]])
                for label, members in groups.items()}
    if len(pooled) < 2:
        raise CompareError("every folder was given one NAME: give another run to compare them with")
    context = {"title": "jsontune comparison", "command": sys.argv, "baseline": pooled[0].label,
               "compared": compared}
    return write_benchmark(out_dir, pooled, context)

"""Several evaluations of one recipe trained with different seeds, as one run whose rows hold their means.

Why: on a dev set of 160 rows a training seed alone moves schema adherence by about ±0.05 and field F1 by ±0.02
(README, "Prompt rendering"), as much as the choices being made. One run per side cannot tell such a choice from
its seed; several seeds per side can, if each row is scored by its mean over the seeds before the rows are
paired. `pool_runs(runs)` makes that run:

- each row's figures (numbers and yes/no answers) are their mean over the seeds, so schema adherence on a row is
  the share of seeds whose answer followed the schema; a yes/no count (`invented_keys`, `duplicate_keys`) becomes
  the share of seeds with at least one; slot counts (true positives, false positives, false negatives per slot)
  are summed, so slot F1 is micro-averaged over the seeds' answers;
- what is not a figure (the prompt, the reference, the answer's text and parsed value) is the first seed's;
- the run's figures are recomputed from the pooled rows (`metrics.aggregate`: a bootstrap over rows, each row
  one mean, so the interval counts rows, not seed x row pairs), and its other numbers (latency, memory, training
  time) are their means over the seeds.

The paired tests of the report then pair row means: field F1 and schema adherence by Wilcoxon signed-rank (an
adherence share is no longer yes or no, so McNemar does not apply). Every pooled run must hold the same rows and
the same decoding mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jsontune.errors import JsontuneError
from jsontune.evaluation.metrics import aggregate
from jsontune.evaluation.report import POOLED_RUNS, BenchmarkRun

COUNTED = ("invented_keys", "duplicate_keys")  # a count per answer; pooled as the share of seeds with one or more
SUMMED = ("slot_counts", "published_slot_counts")  # {slot: [tp, fp, fn]}: summed over the seeds
NOT_FIGURES = {"parsed", "reference"}  # JSON values that may be numbers, never averaged


class PoolingError(JsontuneError):
    """The runs cannot be pooled: other decoding modes or other rows."""


def is_figure(value: Any) -> bool:
    return isinstance(value, (bool, int, float)) and not (isinstance(value, float) and np.isnan(value))


def mean_of(values: list[Any]) -> Any:
    """The mean of numbers (yes/no as 1/0), key by key for objects present in every value; else the first value."""
    first = values[0]
    if all(is_figure(v) for v in values):
        return float(np.mean([float(v) for v in values]))
    if all(isinstance(v, dict) for v in values):
        return {key: mean_of([v[key] for v in values]) if all(key in v for v in values) else first[key]
                for key in first}
    return first


def summed_counts(counts: list[dict[str, list[int]]]) -> dict[str, list[int]]:
    """{slot: [tp, fp, fn]} summed over the seeds (a slot one seed never predicted counts zero there)."""
    total: dict[str, list[int]] = {}
    for per_slot in counts:
        for slot, figures in per_slot.items():
            total[slot] = [a + b for a, b in zip(total.get(slot, [0] * len(figures)), figures)]
    return {slot: total[slot] for slot in sorted(total)}


def pooled_row(rows: list[dict]) -> dict:
    """One row holding the mean of each figure of `rows` (the same record answered by each seed's model)."""
    pooled = dict(rows[0])
    for key in rows[0].keys() - NOT_FIGURES:
        values = [row.get(key) for row in rows]
        if all(is_figure(value) for value in values):
            pooled[key] = mean_of(values)
    for key in COUNTED:
        counts = [row.get(key) for row in rows]
        if all(is_figure(count) for count in counts):
            pooled[key] = float(np.mean([float(count > 0) for count in counts]))
    for key in SUMMED:
        if all(isinstance(row.get(key), dict) for row in rows):
            pooled[key] = summed_counts([row[key] for row in rows])
    return pooled


def pool_runs(runs: list[BenchmarkRun], model: str | None = None) -> BenchmarkRun:
    """The runs (one recipe, several seeds; the same rows, one decoding mode) as one run named `model`."""
    if len(runs) == 1:
        return runs[0]
    decodings = sorted({run.decoding for run in runs})
    if len(decodings) > 1:
        raise PoolingError(f"runs of one name are pooled as seeds of one recipe, but these were decoded "
                           f"{' and '.join(decodings)}: give them other names")
    ids = [row["id"] for row in runs[0].rows]
    by_id = [{row["id"]: row for row in run.rows} for run in runs]
    if any(sorted(rows) != sorted(ids) for rows in by_id):
        raise PoolingError("runs pooled as seeds must hold the same rows")
    rows = [pooled_row([rows[row_id] for rows in by_id]) for row_id in ids]
    metrics = {**mean_of([run.metrics for run in runs]), **aggregate(rows), POOLED_RUNS: len(runs)}
    return BenchmarkRun(model=model or runs[0].model, decoding=decodings[0], metrics=metrics, rows=rows)

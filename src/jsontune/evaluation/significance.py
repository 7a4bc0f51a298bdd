"""Whether two models differ on the same rows: a paired bootstrap with Wilcoxon for scores, McNemar for yes/no.

Rows are matched by id, so the comparison is of the same questions answered by two models, never of two
samples; pairs where either side lacks the value are dropped. The benchmark report states its
complete-vs-LoRA verdicts from these.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

from jsontune.evaluation.metrics import bootstrap_ci


def _matched(rows_a: list[dict], rows_b: list[dict], key: str) -> list[tuple[Any, Any]]:
    """(a[key], b[key]) for the row ids present in both, in rows_a's order; pairs with a missing value are dropped."""
    by_id = {row["id"]: row for row in rows_b if "id" in row}
    pairs = []
    for row in rows_a:
        other = by_id.get(row.get("id"))
        if other is None or row.get(key) is None or other.get(key) is None:
            continue
        pairs.append((row[key], other[key]))
    return pairs


def paired_comparison(rows_a: list[dict], rows_b: list[dict], key: str, seed: int = 0) -> dict[str, Any]:
    """Compare a per-row score of two models on the same rows (matched by id); differences are b − a.

    Returns {"n", "mean_difference", "ci", "p_value", "test"}: the mean difference, its paired
    bootstrap 95% CI (matched pairs resampled) and the two-sided Wilcoxon signed-rank p-value (zero
    differences dropped, scipy's default). When every difference is zero, p is 1.0 and "test" says so.
    """
    differences = [float(b) - float(a) for a, b in _matched(rows_a, rows_b, key)]
    n = len(differences)
    if n == 0:
        return {"n": 0, "mean_difference": None, "ci": None, "p_value": None, "test": "not run: no matched pairs"}
    mean = float(np.mean(differences))
    if all(d == 0 for d in differences):
        return {"n": n, "mean_difference": 0.0, "ci": [0.0, 0.0], "p_value": 1.0,
                "test": "wilcoxon signed-rank (all differences zero)"}
    # Resampling the differences resamples matched pairs: each difference is one pair.
    ci = bootstrap_ci(differences, seed=seed)
    with warnings.catch_warnings():
        # Few non-zero differences: scipy warns that its normal approximation is rough; the p-value stands.
        warnings.simplefilter("ignore", (RuntimeWarning, UserWarning))
        p_value = float(stats.wilcoxon(differences).pvalue)
    return {"n": n, "mean_difference": mean, "ci": [float(ci[0]), float(ci[1])] if ci is not None else None,
            "p_value": p_value if math.isfinite(p_value) else None, "test": "wilcoxon signed-rank"}


def mcnemar(rows_a: list[dict], rows_b: list[dict], key: str = "parse_ok") -> dict[str, Any]:
    """Exact McNemar test of a per-row yes/no outcome of two models on the same rows (matched by id).

    Returns {"n", "a_only", "b_only", "mean_difference" (rate of b − rate of a), "p_value", "test"}; the
    p-value is the two-sided binomial test of the discordant pairs against 1/2 (1.0 when there are none).
    """
    pairs = [(bool(a), bool(b)) for a, b in _matched(rows_a, rows_b, key)]
    n = len(pairs)
    a_only = sum(a and not b for a, b in pairs)
    b_only = sum(b and not a for a, b in pairs)
    if n == 0:
        return {"n": 0, "a_only": 0, "b_only": 0, "mean_difference": None, "p_value": None,
                "test": "not run: no matched pairs"}
    discordant = a_only + b_only
    p_value = 1.0 if discordant == 0 else float(stats.binomtest(b_only, discordant, 0.5).pvalue)
    return {"n": n, "a_only": a_only, "b_only": b_only, "mean_difference": (b_only - a_only) / n,
            "p_value": p_value, "test": "exact McNemar (binomial test of discordant pairs)"}

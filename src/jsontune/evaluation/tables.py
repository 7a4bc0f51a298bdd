"""How reports print figures: one rule for a number, an interval, a missing value, a Markdown table and a CSV.

Every report (the experiment's benchmark, the SNIPS learning curve) formats through these, so a missing
value reads "–" everywhere and a CSV keeps every digit a float has (`repr`), never a rounded copy.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

MISSING = "–"


def number(value: Any) -> float | None:
    """A finite float, or None for missing / non-numeric / NaN values."""
    if value is None or isinstance(value, str):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def interval(metrics: dict, name: str) -> tuple[float | None, float | None]:
    """(low, high) of a metric's confidence interval in an aggregate's "ci", or (None, None)."""
    bounds = (metrics.get("ci") or {}).get(name)
    if not bounds or len(bounds) != 2:
        return None, None
    return number(bounds[0]), number(bounds[1])


def fmt(value: Any, digits: int = 3) -> str:
    """A figure to `digits` decimals, or MISSING."""
    figure = number(value)
    return MISSING if figure is None else f"{figure:.{digits}f}"


def fmt_with_interval(value: Any, low: Any, high: Any) -> str:
    """`0.812 [0.771, 0.853]`, or just the value when no interval is known; MISSING when the value is missing.
    The bounds keep three decimals: with two, 0.937 reads as 0.94, on the far side of a published 0.940."""
    figure = number(value)
    if figure is None:
        return MISSING
    low, high = number(low), number(high)
    if low is None or high is None:
        return f"{figure:.3f}"
    return f"{figure:.3f} [{low:.3f}, {high:.3f}]"


def fmt_ci(metrics: dict, name: str) -> str:
    """A metric of an aggregate with its interval (see `fmt_with_interval`)."""
    return fmt_with_interval(metrics.get(name), *interval(metrics, name))


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in body)]


def csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None or a non-finite float, 0/1 for a bool, every digit of a float."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return value


def csv_text(records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV of records in `columns` order (default: every key, in order of first appearance)."""
    columns = list(columns) if columns is not None else list(dict.fromkeys(key for row in records for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: csv_cell(record.get(key)) for key in columns})
    return buffer.getvalue()

"""Scores of generated JSON against a reference.

Field precision/recall/F1 compare the multisets of (path, value) leaves of the prediction and the
reference. Paths name object keys and list positions (`order.items[1].quantity`); values are
normalised (strings case-folded with whitespace collapsed, numbers compared as floats, so 5 == 5.0).
Example: reference {"a": 1, "b": ["x", "y"]} -> leaves {a: 1, b[0]: "x", b[1]: "y"}; prediction
{"a": 1, "b": ["x"], "c": 2} -> leaves {a: 1, b[0]: "x", c: 2}; 2 shared leaves, so precision 2/3,
recall 2/3, F1 2/3. Two empty containers match with F1 1; a prediction that does not parse scores 0.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

# A leaf-free container still counts as one leaf, so {} vs {"a": 1} is not a free match.
_EMPTY = "<empty>"


def parse_strict(text: str) -> tuple[bool, Any]:
    """(True, value) when the text, less surrounding whitespace, is exactly one JSON value."""
    try:
        return True, json.loads(text.strip())
    except (json.JSONDecodeError, RecursionError):
        return False, None


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, normalised leaf) pairs of a JSON value."""
    if isinstance(value, dict):
        if not value:
            return [(path, _EMPTY + "{}")]
        return [leaf for key, item in value.items() for leaf in flatten(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        if not value:
            return [(path, _EMPTY + "[]")]
        return [leaf for i, item in enumerate(value) for leaf in flatten(item, f"{path}[{i}]")]
    return [(path, (type(_normalise(value)).__name__, _normalise(value)))]


def field_scores(prediction: Any, reference: Any) -> dict[str, float]:
    """Field precision, recall and F1 of a parsed prediction against the reference."""
    predicted, expected = Counter(flatten(prediction)), Counter(flatten(reference))
    shared = sum((predicted & expected).values())
    precision = shared / sum(predicted.values())
    recall = shared / sum(expected.values())
    f1 = 0.0 if shared == 0 else 2 * precision * recall / (precision + recall)
    return {"field_precision": precision, "field_recall": recall, "field_f1": f1}


def row_metrics(output: str, reference: Any) -> dict[str, Any]:
    """The per-row figures of one generated answer."""
    ok, parsed = parse_strict(output)
    scores = field_scores(parsed, reference) if ok else {"field_precision": 0.0, "field_recall": 0.0, "field_f1": 0.0}
    return {"parsed": parsed, "parse_ok": ok, "exact_match": ok and parsed == reference, **scores}


def aggregate(rows: list[dict]) -> dict[str, float]:
    """Means over rows of the per-row figures."""
    n = len(rows)
    if n == 0:
        return {"n": 0}
    mean = lambda key: sum(float(r[key]) for r in rows) / n  # noqa: E731
    return {
        "n": n,
        "parse_rate": mean("parse_ok"),
        "exact_match": mean("exact_match"),
        "field_precision": mean("field_precision"),
        "field_recall": mean("field_recall"),
        "field_f1": mean("field_f1"),
    }

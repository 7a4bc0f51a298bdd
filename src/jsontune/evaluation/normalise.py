"""How two leaf values of JSON are compared: strings case-folded with whitespace collapsed, numbers as floats.

One rule for every figure that compares values (field scores, similarity, exact match of normalised
strings, slot values), so "New  York" and "new york", or 5 and 5.0, count as the same value everywhere.
"""

from __future__ import annotations

from typing import Any


def normalise_leaf(value: Any) -> Any:
    """The comparable form of a leaf: normalised text, a float for any number; bools and null as they are."""
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value

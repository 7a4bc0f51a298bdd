"""Walking a JSON Schema: every subschema with its JSON pointer, for the bounds and the keyword audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Keywords whose value is one subschema, a list of them, or a map of names to them.
_ONE = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "contains",
        "propertyNames", "not", "if", "then", "else")
_LIST = ("prefixItems", "anyOf", "oneOf", "allOf")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def subschemas(node: Any, pointer: str = "") -> Iterator[tuple[str, dict]]:
    """(JSON pointer, subschema) of the schema and of every schema nested in it, depth first."""
    if not isinstance(node, dict):
        return
    yield pointer, node
    for key in _ONE:
        yield from subschemas(node.get(key), f"{pointer}/{key}")
    for key in _LIST:
        for i, child in enumerate(node.get(key) or []):
            yield from subschemas(child, f"{pointer}/{key}/{i}")
    for key in _MAP:
        children = node.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from subschemas(child, f"{pointer}/{key}/{name}")


def under_negation(pointer: str) -> bool:
    """Whether a subschema's pointer passes through a "not" or "if" keyword (not a property so named)."""
    parts = pointer.split("/")
    return any(part in ("not", "if") and parts[i - 1] not in _MAP for i, part in enumerate(parts) if i > 0)

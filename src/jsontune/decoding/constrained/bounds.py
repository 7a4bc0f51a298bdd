"""Bounds on what a schema leaves unbounded, so that a model that rambles still closes its JSON in budget.

Strings and arrays are bounded in the schema that is compiled (`bound_schema`; the bounded schema is
stricter than the original, so what it accepts the original accepts too); digit runs and nesting are
bounded while decoding (`jsontune.decoding.constrained.guard`). A record without a schema gets the generic
grammar's schema, `any_object_schema`: any JSON object within the bounds.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from jsontune.decoding.constrained.subschemas import subschemas, under_negation
from jsontune.decoding.defaults import DEFAULT_BACKEND


@dataclass(frozen=True)
class Bounds:
    """Default bounds on what a schema leaves unbounded (None: unbounded).

    Strings and arrays are bounded in the schema that is compiled. Digits and nesting are bounded
    while decoding (`RunawayGuard`): after `max_digit_run` digits in a row (in a number or a string)
    the next token may not be a digit, and at `max_depth` open objects and arrays no token may open
    another one, whenever the grammar allows anything else. The defaults let the untrained embedded
    model close its JSON within 256 tokens on the embedded test split while cutting almost no real
    value: of the embedded data's 56,727 reference strings, 13 are longer than 64 characters; no
    array has more than 3 items, no number more than 8 digits, no value is nested deeper than 4.
    """

    max_string_length: int | None = 64
    max_items: int | None = 4
    max_digit_run: int | None = 16
    max_depth: int | None = 8


def bound_schema(schema: dict, bounds: Bounds, backend: str = DEFAULT_BACKEND) -> dict:
    """A copy of schema in which every string without maxLength and array without maxItems gets one.

    Strings with an enum or const are left alone, and so are, for xgrammar (which would drop the
    length), strings with a pattern or format. A bound never goes below the schema's own minimum.
    """
    bounded = copy.deepcopy(schema)
    fixed = ("enum", "const", "maxLength") + (("pattern", "format") if backend == "xgrammar" else ())
    for pointer, node in subschemas(bounded):
        if under_negation(pointer):
            continue  # a bound under "not" or "if" would loosen the schema, not tighten it
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        free_string = not any(k in node for k in fixed)
        if "string" in types and free_string and bounds.max_string_length is not None:
            node["maxLength"] = max(bounds.max_string_length, node.get("minLength", 0))
        if "array" in types and "maxItems" not in node and bounds.max_items is not None:
            node["maxItems"] = max(bounds.max_items, node.get("minItems", 0))
    return bounded


def any_object_schema(bounds: Bounds) -> dict:
    """The generic grammar's schema: a JSON object of any values, within the bounds."""
    string: dict[str, Any] = {"type": "string"}
    array: dict[str, Any] = {"type": "array", "items": {"$ref": "#/$defs/value"}}
    obj: dict[str, Any] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}}
    if bounds.max_string_length is not None:
        string["maxLength"] = bounds.max_string_length
    if bounds.max_items is not None:
        array["maxItems"] = obj["maxProperties"] = bounds.max_items
    value = {"anyOf": [string, {"type": "number"}, {"type": "boolean"}, {"type": "null"}, array,
                       {"$ref": "#/$defs/object"}]}
    return {"$defs": {"value": value, "object": obj}, "$ref": "#/$defs/object"}

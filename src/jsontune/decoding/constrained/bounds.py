"""Bounds on what a schema leaves unbounded, so that a model that rambles still closes its JSON in budget.

Strings, arrays and objects are bounded in the schema that is compiled (`bound_schema`; the bounded schema
is stricter than the original, so what it accepts the original accepts too); digit runs and nesting are
bounded while decoding (`jsontune.decoding.constrained.guard`). A record without a schema gets the generic
grammar's schema, `any_object_schema`: any JSON object within the bounds.

Objects are closed by default, as strict structured outputs close them (the OpenAI API's `strict: true`):
an object that lists its `properties` and says nothing of `additionalProperties` takes no other key. Real
schemas (function parameters, API payloads) leave it unset, and under an open grammar a model appends
invented keys until the token budget cuts it off. Both backends happen to read an unset
`additionalProperties` as closed today (tests/decoding/test_constrained.py checks the installed versions),
so jsontune writes the choice into the schema either way: `false` by default, `true` with
`close_objects=False`, which restores JSON Schema's own meaning whatever a backend's default.
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
    close_objects: bool = True


# Keywords beside which closing an object would change what it means: other keys it allows (patterns,
# composition, conditionals, references to other parts) or an explicit say on the rest.
_LEAVE_OPEN = ("additionalProperties", "patternProperties", "unevaluatedProperties", "allOf", "anyOf", "oneOf",
               "$ref", "dependentSchemas", "if", "propertyNames")


def bound_schema(schema: dict, bounds: Bounds, backend: str = DEFAULT_BACKEND) -> dict:
    """A copy of schema in which every string without maxLength and array without maxItems gets one, and
    every object that lists its properties and leaves `additionalProperties` unset gets it: `false` with
    `bounds.close_objects`, else `true` (JSON Schema's meaning, said out loud for the backends).

    Strings with an enum or const are left alone, and so are, for xgrammar (which would drop the
    length), strings with a pattern or format. A bound never goes below the schema's own minimum. An
    object stays open where closing it could reject what the schema accepts (`closable`).
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
        if closable(pointer, node):
            node["additionalProperties"] = not bounds.close_objects
    return bounded


def closable(pointer: str, node: dict) -> bool:
    """Whether the node's other keys are jsontune's to decide: `additionalProperties: false` would only take away
    keys the schema does not name. The node lists its
    properties (every required key among them), says nothing else about other keys, and is not a branch of a
    composition (an allOf branch closed on its own would refuse the other branches' keys)."""
    properties = node.get("properties")
    if not isinstance(properties, dict) or not properties or any(k in node for k in _LEAVE_OPEN):
        return False
    if "/allOf/" in f"{pointer}/" or "/dependentSchemas/" in pointer:
        return False
    return set(node.get("required") or []) <= set(properties)


def any_object_schema(bounds: Bounds) -> dict:
    """The generic grammar's schema: a JSON object of any values, within the bounds."""
    string: dict[str, Any] = {"type": "string"}
    array: dict[str, Any] = {"type": "array", "items": {"$ref": "#/$defs/value"}}
    obj: dict[str, Any] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}}
    if bounds.max_string_length is not None:
        string["maxLength"] = bounds.max_string_length
        # Keys too, or a rambling key never ends. As a pattern: llguidance drops `propertyNames`.
        obj["patternProperties"] = {f"^.{{0,{bounds.max_string_length}}}$": obj.pop("additionalProperties")}
        obj["additionalProperties"] = False
    if bounds.max_items is not None:
        array["maxItems"] = obj["maxProperties"] = bounds.max_items
    value = {"anyOf": [string, {"type": "number"}, {"type": "boolean"}, {"type": "null"}, array,
                       {"$ref": "#/$defs/object"}]}
    return {"$defs": {"value": value, "object": obj}, "$ref": "#/$defs/object"}

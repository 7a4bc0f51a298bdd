"""Per-query JSON Schemas that let a slot take only a value copied from the query.

A slot filler's answer is `{"intent": ..., "slots": {name: value}}`, and every gold value is a
stretch of the query. `span_schema` writes that down for one query: one branch per intent (so the
schema does not give the intent away), each allowing only that intent's slot names, in any order,
and every value is one of the query's spans (or a list of two or more of them, for a slot that
occurs twice). Under grammar-constrained decoding a model then cannot invent a value, misspell one,
or use a slot name of another intent.

Spans are runs of whole tokens, a token being a run of word characters or one other non-space
character, so "Bob's" offers "Bob" and "Bob's", and "R&B" is one span. On the shipped SNIPS data
every one of the 33,470 gold values of the training pool is such a span
(`test_every_shipped_gold_value_is_a_span_of_its_query` in tests/benchmarks/snips/test_benchmark.py checks
all of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jsontune.data.schemas import DRAFT_2020_12

_TOKEN = re.compile(r"\w+|[^\w\s]")


def query_spans(text: str) -> list[str]:
    """Every distinct run of whole tokens of `text`, as it is written there, sorted."""
    tokens = list(_TOKEN.finditer(text))
    return sorted({text[first.start():last.end()] for i, first in enumerate(tokens) for last in tokens[i:]})


def span_schema(text: str, slots_by_intent: dict[str, Iterable[str]]) -> dict:
    """The JSON Schema of answers for this query whose slot values are all spans of it."""
    value = {"anyOf": [{"$ref": "#/$defs/span"},
                       {"type": "array", "items": {"$ref": "#/$defs/span"}, "minItems": 2}]}
    branches = []
    for intent, names in slots_by_intent.items():
        # patternProperties, not properties: grammar backends emit `properties` in schema order, and a model
        # writes slots in the order it meets them in the query.
        names_pattern = "^(" + "|".join(re.escape(name) for name in sorted(names)) + ")$"
        slots = {"type": "object", "patternProperties": {names_pattern: value}, "additionalProperties": False}
        branches.append({"type": "object", "properties": {"intent": {"const": intent}, "slots": slots},
                         "required": ["intent", "slots"], "additionalProperties": False})
    return {"$schema": DRAFT_2020_12, "$defs": {"span": {"enum": query_spans(text)}},
            "anyOf": branches}


def slots_by_intent(records: Iterable[dict]) -> dict[str, list[str]]:
    """Each intent's slot names, from the records' schemas (`slots.properties`) and references, sorted."""
    found: dict[str, set[str]] = {}
    for record in records:
        intent = record["reference"]["intent"]
        names = found.setdefault(intent, set())
        names.update(record["reference"]["slots"])
        schema = record.get("schema") or {}
        names.update(((schema.get("properties") or {}).get("slots") or {}).get("properties") or {})
    return {intent: sorted(names) for intent, names in sorted(found.items())}

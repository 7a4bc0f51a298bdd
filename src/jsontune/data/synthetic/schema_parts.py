"""The JSON Schema pieces the synthetic shapes are built from (Draft 2020-12, every object closed)."""

from __future__ import annotations

from jsontune.data.schemas import DRAFT_2020_12

STR = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 1}
MONEY = {"type": "number", "minimum": 0}
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}


def enum(values: tuple[str, ...]) -> dict:
    return {"type": "string", "enum": list(values)}


def array(items: dict) -> dict:
    return {"type": "array", "items": items, "minItems": 1}


def obj(required: dict[str, dict], optional: dict[str, dict] | None = None) -> dict:
    # Optional properties come last, matching the key order of the references.
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def root(key: str, inner: dict) -> dict:
    return {"$schema": DRAFT_2020_12, **obj({key: inner})}


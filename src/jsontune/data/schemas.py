"""Compiled JSON Schema validators: one per distinct schema, in the schema's own dialect.

The dialect is the one the schema's `$schema` names (Draft 2020-12 when absent), format assertions
are on (a "date" must be a date), and the schema itself is checked first: an invalid one raises
`jsonschema.SchemaError`. Files repeat a handful of schemas, so compiled validators are cached.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from jsontune.errors import JsontuneError

# The dialect jsontune writes its own schemas in, and reads a schema in when its `$schema` names none.
DRAFT_2020_12: str = Draft202012Validator.META_SCHEMA["$id"]

@lru_cache(maxsize=512)
def _compiled(schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def validator(schema: dict) -> Validator:
    """The cached, checked validator of a schema."""
    return _compiled(json.dumps(schema, sort_keys=True))


def resolve_ref(node: Any, root: dict, refs: int = 0, max_refs: int = 4) -> tuple[dict, int]:
    """(the subschema `node` stands for, with its local `#/...` $refs followed; the references followed so far).

    `refs` counts references already followed on the way here; past `max_refs` the answer is {}, so a walk
    through a recursive schema ends. A reference to nothing is {} too.
    """
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        if refs >= max_refs:
            return {}, refs
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node, refs = target, refs + 1
    return (node if isinstance(node, dict) else {}), refs


class InvalidSchema(JsontuneError):
    """A schema a user gave is not a JSON object, or breaks its dialect's meta-schema."""


def checked_schema(schema: Any, where: str) -> dict:
    """The schema, once it is known to be a valid JSON Schema; `InvalidSchema` naming `where` and the reason."""
    if not isinstance(schema, dict):
        raise InvalidSchema(f"{where}: a JSON Schema must be a JSON object, not {type(schema).__name__}")
    try:
        validator(schema)
    except jsonschema.SchemaError as err:
        at = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise InvalidSchema(f"{where}: not a valid JSON Schema at {at}: {err.message}") from None
    return schema

"""Schema variants: the same sentence asked for in another schema, so that only reading the schema solves it.

Each variant rewrites a draft's schema and answer together, and the answer still satisfies the schema:

- `subset`: one field the text states is left out of the schema, and so out of the answer;
- `unwrapped`: the wrapping key goes ({"booking": {...}} becomes {...});
- `flattened`: a nested object's keys move up with its name as a prefix (recipient.city -> recipient_city);
- `synonyms`: some keys are renamed to a synonym (customer -> client);
- `enum_style`: the enum values are written in another style (in_transit -> IN_TRANSIT, in-transit, in transit).

Key styles (camelCase, PascalCase, a form's "Full name" labels) are `key_style`, a separate augmentation
whose prompts say which style they use. Renaming keeps key order, and a rename that would give two
keys of one object the same name is not made.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping
from typing import Any

P_SUBSET = 0.2
P_UNWRAP = 0.35
P_FLATTEN = 0.35
P_SYNONYMS = 0.5
P_SYNONYM_PER_KEY = 0.35
P_ENUM_STYLE = 0.3

ENUM_STYLES: dict[str, Callable[[str], str]] = {
    "upper": lambda value: value.upper(),
    "kebab": lambda value: value.replace("_", "-").replace(" ", "-"),
    "words": lambda value: value.replace("_", " "),
}


def vary(schema: dict, reference: dict, synonyms: Mapping[str, tuple[str, ...]],
         rng: random.Random) -> tuple[dict, dict, list[str]]:
    """A schema variant of (schema, reference), the variants applied by name; the inputs are not changed."""
    schema, reference = copy.deepcopy(schema), copy.deepcopy(reference)
    applied: list[str] = []
    draws = [rng.random() for _ in range(5)]
    if draws[0] < P_SUBSET and _subset(schema, reference, rng):
        applied.append("subset")
    if draws[1] < P_UNWRAP and _wrapper(schema) is not None:
        key = _wrapper(schema)
        inner = schema["properties"][key]
        schema = {**{k: v for k, v in schema.items() if k == "$schema"}, **inner}
        reference = reference[key]
        applied.append("unwrapped")
    if draws[2] < P_FLATTEN and _flatten(schema, reference):
        applied.append("flattened")
    if draws[3] < P_SYNONYMS:
        mapping = {key: rng.choice(synonyms[key]) for key in sorted(_keys(schema))
                   if synonyms.get(key) and rng.random() < P_SYNONYM_PER_KEY}
        if mapping and not collides(schema, lambda key: mapping.get(key, key)):
            schema, reference = rename(schema, reference, lambda key: mapping.get(key, key))
            applied.append("synonyms")
    if draws[4] < P_ENUM_STYLE:
        style = ENUM_STYLES[rng.choice(sorted(ENUM_STYLES))]
        restyled = _restyled_schema(schema, style)
        if restyled != schema:
            schema, reference = restyled, _restyled_value(schema, reference, style)
            applied.append("enum_style")
    return schema, reference, applied


def rename(schema: Any, reference: Any, to: Callable[[str], str]) -> tuple[Any, Any]:
    """Every property name of the schema and every key of the reference mapped through `to`."""
    return _rename_schema(schema, to), _rename_value(reference, to)


def _rename_value(value: Any, to: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {to(key): _rename_value(item, to) for key, item in value.items()}
    if isinstance(value, list):
        return [_rename_value(item, to) for item in value]
    return value


def _rename_schema(schema: Any, to: Callable[[str], str]) -> Any:
    if isinstance(schema, list):
        return [_rename_schema(item, to) for item in schema]
    if not isinstance(schema, dict):
        return schema
    renamed: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            renamed[key] = {to(name): _rename_schema(sub, to) for name, sub in value.items()}
        elif key == "required":
            renamed[key] = [to(name) for name in value]
        elif key in ("enum", "const"):
            renamed[key] = value  # values, not keys
        else:
            renamed[key] = _rename_schema(value, to)
    return renamed


def _objects(schema: Any):
    """Every object node of a schema that names properties."""
    if isinstance(schema, list):
        for item in schema:
            yield from _objects(item)
    elif isinstance(schema, dict):
        if isinstance(schema.get("properties"), dict):
            yield schema
        for key, value in schema.items():
            if key not in ("enum", "const"):
                yield from _objects(value.values() if key == "properties" else value)


def _keys(schema: dict) -> set[str]:
    return {name for node in _objects(schema) for name in node["properties"]}


def collides(schema: dict, to: Callable[[str], str]) -> bool:
    """Whether mapping names through `to` gives two keys of one object the same name."""
    for node in _objects(schema):
        names = [to(name) for name in node["properties"]]
        if len(set(names)) < len(names):
            return True
    return False



def _wrapper(schema: dict) -> str | None:
    """The wrapping key of {"key": {object}}, or None when the schema is not a wrapper."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or len(properties) != 1:
        return None
    (key, inner), = properties.items()
    return key if isinstance(inner, dict) and isinstance(inner.get("properties"), dict) else None


def _entity(schema: dict, reference: dict) -> tuple[dict, dict]:
    """The object the facts are about: inside the wrapper when there is one."""
    key = _wrapper(schema)
    return (schema["properties"][key], reference[key]) if key is not None else (schema, reference)


def _subset(schema: dict, reference: dict, rng: random.Random) -> bool:
    node, value = _entity(schema, reference)
    present = [key for key in node["properties"] if key in value]
    if len(node["properties"]) < 4 or len(present) < 2:  # never leave an answer with nothing in it
        return False
    dropped = rng.choice(present)
    del node["properties"][dropped]
    node["required"] = [key for key in node.get("required", []) if key != dropped]
    del value[dropped]
    return True


def _flatten(schema: dict, reference: dict) -> bool:
    """Move each plain nested object of the entity up into it, its keys prefixed by its name."""
    node, value = _entity(schema, reference)
    nested = [key for key, sub in node["properties"].items()
              if isinstance(sub, dict) and sub.get("type") == "object" and isinstance(sub.get("properties"), dict)
              and isinstance(value.get(key, {}), dict)]
    if not nested:
        return False
    new_names = [f"{group}_{key}" for group in nested for key in node["properties"][group]["properties"]]
    if set(new_names) & set(node["properties"]) or len(set(new_names)) < len(new_names):
        return False
    properties, required, flat = {}, [], {}
    for key, sub in node["properties"].items():
        if key not in nested:
            properties[key] = sub
            required += [key] if key in node.get("required", []) else []
            if key in value:
                flat[key] = value[key]
            continue
        for inner_key, inner in sub["properties"].items():
            name = f"{key}_{inner_key}"
            properties[name] = inner
            if key in node.get("required", []) and inner_key in sub.get("required", []):
                required.append(name)
            if inner_key in value.get(key, {}):
                flat[name] = value[key][inner_key]
    node["properties"], node["required"] = properties, required
    value.clear()
    value.update(flat)
    return True


def _restylable(node: dict, style: Callable[[str], str]) -> bool:
    """An enum of lower-case strings that `style` changes and keeps distinct."""
    values = node.get("enum")
    if not isinstance(values, list) or not any(isinstance(v, str) for v in values):
        return False
    strings = [v for v in values if isinstance(v, str)]
    styled = [style(v) for v in strings]
    return all(v == v.lower() for v in strings) and styled != strings and len(set(styled)) == len(styled)


def _restyled_schema(schema: Any, style: Callable[[str], str]) -> Any:
    if isinstance(schema, list):
        return [_restyled_schema(item, style) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if _restylable(schema, style):
        return {**schema, "enum": [style(v) if isinstance(v, str) else v for v in schema["enum"]]}
    return {key: value if key in ("enum", "const") else
            {name: _restyled_schema(sub, style) for name, sub in value.items()} if key == "properties" else
            _restyled_schema(value, style) for key, value in schema.items()}


def _restyled_value(schema: Any, value: Any, style: Callable[[str], str]) -> Any:
    """`value` with every string that a restylable enum of its (original) schema holds restyled."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, str) and _restylable(schema, style) and value in schema["enum"]:
        return style(value)
    for branch in schema.get("anyOf") or []:
        restyled = _restyled_value(branch, value, style)
        if restyled != value:
            return restyled
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        return {key: _restyled_value(schema["properties"].get(key), item, style) for key, item in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_restyled_value(schema["items"], item, style) for item in value]
    return value

"""How a record's JSON Schema is written into its prompt, so that a model can read the answer it must give.

Four renderings, chosen by `PromptConfig.schema_format` and saved with a trained model:

- `json_schema`: the schema itself, as compact JSON. Complete, and the longest.
- `template`: the answer's skeleton with a type where each value goes (NuExtract's idea): `{"name":"string",
  "items":[{"type":"string","quantity":"integer"}],"paid":"boolean","priority":"low|normal|high"}`, and a
  `const` as its value. Short, shaped like the answer; drops constraints, descriptions and which keys are
  optional.
- `marked_template`: the template with every optional key's type marked `(optional)`
  (`{"seat":"string (optional)"}`): the one thing the template drops that decides what an answer holds,
  since a required key whose value the text does not give is written as null rather than left out.
  Only values the template writes as a string are marked: type names, and an object-or-null alternative
  (`'{"x": "integer"}|null (optional)'`); a nested object, a list and a const are not.
- `described_template`: the template with what each value's schema says in words after its type: optional,
  its default, its pattern and its description (`{"city":"string: The city and state, e.g. 'Boston, MA'",
  "unit":"celsius|fahrenheit (optional, default celsius)"}`). Real schemas put formats, defaults and
  optionality there (function parameters, API payloads, forms); the template drops them, and an answer that
  follows "amount in cents" or leaves out an optional key cannot be written without them.
- `noted_template`: the template as it is, then a line of notes per key whose schema says something
  (`- city: The city and state, e.g. 'Boston, MA'` / `- unit: optional, default celsius`): the same words
  as `described_template`, kept out of the skeleton, so that a value's place holds only its type and a
  model does not copy a description as the value.
- `outline`: one line per key, indented by depth, with its type, `required` or `optional`, and its
  description: `- items: list of object, required` / `  - quantity: integer, required`. Keeps what a
  reader needs (which keys, which are optional, what each means) in few tokens.

Local `$ref`s are followed (recursive ones a few levels deep); a required key without a schema of its
own is written with the type `any`; `anyOf`/`oneOf` become alternatives joined by `|`; `enum` and
`const` are written as their values; keys a schema does not name (an open object, a map) are written
as `...`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from jsontune.data.schemas import resolve_ref

SchemaFormat = Literal["json_schema", "template", "marked_template", "described_template", "noted_template",
                       "outline"]
SCHEMA_FORMATS: tuple[str, ...] = ("json_schema", "template", "marked_template", "described_template",
                                   "noted_template", "outline")
# How the rendered schema is introduced in the prompt, per format.
INTRODUCTIONS: dict[str, str] = {
    "json_schema": "The JSON must follow this JSON Schema:",
    "template": "Fill in this JSON template (each value's type is given; use exactly these keys):",
    "marked_template": "Fill in this JSON template (each value's type is given; use exactly these keys; leave out "
                       "an optional key the text does not give):",
    "described_template": "Fill in this JSON template (each value's type and notes are given; use exactly these "
                          "keys; leave out an optional key the text does not give):",
    "noted_template": "Fill in this JSON template (each value's type is given; use exactly these keys; leave out "
                      "an optional key the text does not give; follow the notes):",
    "outline": "The JSON must have exactly these keys:",
}


def render_schema(schema: dict, schema_format: str) -> str:
    """The schema written in `schema_format` (see the module docstring)."""
    if schema_format == "json_schema":
        return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    if schema_format in ("template", "marked_template", "described_template"):
        return json.dumps(_template(schema, schema, 0, schema_format), ensure_ascii=False, separators=(",", ":"))
    if schema_format == "noted_template":
        notes = _notes_lines(schema, schema, 0, "")
        skeleton = json.dumps(_template(schema, schema, 0), ensure_ascii=False, separators=(",", ":"))
        return "\n".join([skeleton, "Notes:", *notes]) if notes else skeleton
    if schema_format == "outline":
        return "\n".join(_outline(schema, schema, 0, 0))
    raise ValueError(f"schema_format must be one of {', '.join(SCHEMA_FORMATS)}, not {schema_format!r}")


def _named_keys(node: dict) -> dict[str, Any]:
    """The keys an object schema names: its properties, then required keys it gives no schema (any value)."""
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    required = [key for key in node.get("required") or [] if isinstance(key, str) and key not in properties]
    return {**properties, **{key: {} for key in required}}


def _alternatives(node: dict) -> list[dict]:
    return [branch for key in ("anyOf", "oneOf") for branch in node.get(key) or [] if isinstance(branch, dict)]


def _type_name(node: dict, root: dict, refs: int) -> str:
    """A short name of what a value may be: "string", "integer|null", "low|high", "list of object"."""
    node, refs = resolve_ref(node, root, refs)
    if "const" in node:
        return json.dumps(node["const"], ensure_ascii=False)
    if "enum" in node:
        return "|".join(v if isinstance(v, str) else json.dumps(v) for v in node["enum"])
    branches = _alternatives(node)
    if branches:
        return "|".join(dict.fromkeys(_type_name(branch, root, refs) for branch in branches))
    types = node.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    if not types:
        types = ["object"] if "properties" in node else ["array"] if "items" in node else ["any"]
    names = []
    for kind in types:
        if kind == "array":
            items = node.get("items")
            names.append(f"list of {_type_name(items, root, refs)}" if isinstance(items, dict) else "list")
        else:
            names.append(kind)
    fmt = node.get("format")
    return "|".join(names) + (f" ({fmt})" if fmt else "")


def _template(node: Any, root: dict, refs: int, style: str = "template") -> Any:
    node, refs = resolve_ref(node, root, refs)
    object_branch = next((b for b in _alternatives(node) if _named_keys(resolve_ref(b, root, refs)[0])), None)
    if object_branch is not None and not _named_keys(node):
        template = _template(object_branch, root, refs, style)
        others = "|".join(_type_name(b, root, refs) for b in _alternatives(node) if b is not object_branch)
        return f"{json.dumps(template, ensure_ascii=False)}|{others}" if others else template
    if "const" in node:
        return node["const"]  # the one value it can take, written as itself
    properties = _named_keys(node)
    if properties:
        required = set(node.get("required") or [])
        out: dict[str, Any] = {}
        for key, child in properties.items():
            value = _template(child, root, refs, style)
            # A `$ref` node's own words (its description beside the reference) win over the target's.
            resolved = {**resolve_ref(child, root, refs)[0], **(child if isinstance(child, dict) else {})}
            # A const is a value to copy as it is, not a type name to annotate.
            if not isinstance(value, str) or "const" in resolved:
                out[key] = value
            elif style == "marked_template":
                out[key] = value if key in required else f"{value} (optional)"
            elif style == "described_template":
                out[key] = value + _notes(resolved, key in required)
            else:
                out[key] = value
        if _open(node):
            out["..."] = "..."
        return out
    if isinstance(node.get("items"), dict) and "array" in _types(node):
        return [_template(node["items"], root, refs, style)]
    return _type_name(node, root, refs)


def _note_parts(node: dict, required: bool) -> tuple[list[str], str | None]:
    """What a value's schema says in words: ([optional, default x, pattern p], its description or None)."""
    parts = [] if required else ["optional"]
    if "default" in node:
        parts.append(f"default {node['default'] if isinstance(node['default'], str) else json.dumps(node['default'])}")
    if isinstance(node.get("pattern"), str):
        parts.append(f"pattern {node['pattern']}")
    description = node.get("description")
    described = " ".join(description.split()) if isinstance(description, str) and description.strip() else None
    return parts, described


def _notes(node: dict, required: bool) -> str:
    """What `described_template` writes after a value's type: " (optional, default x, pattern p): description"."""
    parts, description = _note_parts(node, required)
    return (f" ({', '.join(parts)})" if parts else "") + (f": {description}" if description else "")


def _keyed(node: Any, root: dict, refs: int) -> tuple[dict, int, dict | None]:
    """The object schema whose keys a value's lines name: the node itself, or its first alternative that names
    keys; or, for a list that names none, (node, refs, its items' schema) to describe instead."""
    node, refs = resolve_ref(node, root, refs)
    if not _named_keys(node):
        branch = next((b for b in _alternatives(node) if _named_keys(resolve_ref(b, root, refs)[0])), None)
        if branch is not None:
            node, refs = resolve_ref(branch, root, refs)
        elif isinstance(node.get("items"), dict):
            return node, refs, node["items"]
    return node, refs, None


def _notes_lines(node: Any, root: dict, refs: int, prefix: str) -> list[str]:
    """`- key: notes` for every key, at any depth (`items[].qty`), whose schema says something in words."""
    node, refs, items = _keyed(node, root, refs)
    if items is not None:
        return _notes_lines(items, root, refs, prefix + "[]")
    required = set(node.get("required") or [])
    lines = []
    for key, child in _named_keys(node).items():
        resolved = {**resolve_ref(child, root, refs)[0], **(child if isinstance(child, dict) else {})}
        path = f"{prefix}.{key}" if prefix else key
        parts, description = _note_parts(resolved, key in required)
        if description:
            parts.append(description)
        if parts:
            lines.append(f"- {path}: {', '.join(parts)}")
        if _has_children(resolved, root, refs):
            lines += _notes_lines(resolved, root, refs, path)
    return lines


def _types(node: dict) -> list[str]:
    types = node.get("type")
    return types if isinstance(types, list) else [types] if types else ["array"] if "items" in node else []


def _open(node: dict) -> bool:
    """Whether the object takes keys beyond its properties (a schema says so, or a map of other keys)."""
    extra = node.get("additionalProperties")
    return extra is True or isinstance(extra, dict) and bool(extra) or bool(node.get("patternProperties"))


def _outline(node: Any, root: dict, depth: int, refs: int) -> list[str]:
    node, refs, items = _keyed(node, root, refs)
    if items is not None:
        return _outline(items, root, depth, refs)
    required = set(node.get("required") or [])
    lines = []
    indent = "  " * depth
    for key, child in _named_keys(node).items():
        resolved, child_refs = resolve_ref(child, root, refs)
        description = resolved.get("description") or (child.get("description") if isinstance(child, dict) else None)
        line = f"{indent}- {key}: {_type_name(child, root, refs)}, {'required' if key in required else 'optional'}"
        lines.append(line + (f": {description}" if description else ""))
        lines += _outline(resolved, root, depth + 1, child_refs) if _has_children(resolved, root, child_refs) else []
    if _open(node):
        lines.append(f"{indent}- ...: other keys allowed")
    return lines


def _has_children(node: dict, root: dict, refs: int) -> bool:
    if _named_keys(node):
        return True
    items = node.get("items")
    if isinstance(items, dict):
        return bool(_named_keys(resolve_ref(items, root, refs)[0]))
    return any(_named_keys(resolve_ref(b, root, refs)[0]) for b in _alternatives(node))

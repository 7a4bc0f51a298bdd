"""A record's schema written into its prompt: the JSON Schema itself, a typed template, or an outline."""

from __future__ import annotations

import json

import pytest

from jsontune.data.prompting import PromptConfig, user_text
from jsontune.data.schema_rendering import SCHEMA_FORMATS, render_schema

ORDER = {
    "type": "object",
    "properties": {
        "customer": {"type": "string", "description": "who ordered"},
        "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
        "priority": {"enum": ["low", "high"]},
        "note": {"type": ["string", "null"]},
        "kind": {"const": "order"},
        "when": {"type": "string", "format": "date"},
        "paid_by": {"anyOf": [{"type": "object", "properties": {"card": {"type": "string"}}}, {"type": "null"}]},
    },
    "required": ["customer", "items"],
    "$defs": {"item": {"type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
                       "required": ["name"]}},
}


def test_the_template_is_the_answers_skeleton_with_each_values_type():
    assert json.loads(render_schema(ORDER, "template")) == {
        "customer": "string", "items": [{"name": "string", "qty": "integer"}], "priority": "low|high",
        "note": "string|null", "kind": "order", "when": "string (date)", "paid_by": '{"card": "string"}|null',
    }


def test_the_marked_template_marks_the_optional_keys_whose_value_is_a_type_name():
    assert json.loads(render_schema(ORDER, "marked_template")) == {
        "customer": "string", "items": [{"name": "string", "qty": "integer (optional)"}],
        "priority": "low|high (optional)", "note": "string|null (optional)", "kind": "order",
        "when": "string (date) (optional)", "paid_by": '{"card": "string (optional)"}|null (optional)',
    }


def test_the_described_template_writes_what_each_values_schema_says_in_words():
    weather = {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state,\n e.g. San Francisco, CA"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer", "default": 1, "description": "Forecast days"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "slot": {"$ref": "#/$defs/value", "description": "a state or region"},
        },
        "required": ["location", "code"],
        "$defs": {"value": {"type": "string"}},
    }
    assert json.loads(render_schema(weather, "described_template")) == {
        "location": "string: The city and state, e.g. San Francisco, CA",
        "unit": "celsius|fahrenheit (optional, default celsius)",
        "days": "integer (optional, default 1): Forecast days",
        "code": "string (pattern ^[A-Z]{3}$)",
        "slot": "string (optional): a state or region",
    }
    # Nested values, lists and consts as the template writes them, optional keys marked as in marked_template.
    assert json.loads(render_schema(ORDER, "described_template")) == {
        "customer": "string: who ordered", "items": [{"name": "string", "qty": "integer (optional)"}],
        "priority": "low|high (optional)", "note": "string|null (optional)", "kind": "order",
        "when": "string (date) (optional)", "paid_by": '{"card": "string (optional)"}|null (optional)',
    }


def test_the_noted_template_keeps_the_skeleton_and_writes_the_words_as_notes_below_it():
    assert render_schema(ORDER, "noted_template").splitlines() == [
        json.dumps(json.loads(render_schema(ORDER, "template")), separators=(",", ":")),
        "Notes:",
        "- customer: who ordered",
        "- items[].qty: optional",
        "- priority: optional",
        "- note: optional",
        "- kind: optional",
        "- when: optional",
        "- paid_by: optional",
        "- paid_by.card: optional",
    ]
    # Nothing to say: the template alone.
    plain = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert render_schema(plain, "noted_template") == '{"a":"string"}'


def test_the_outline_names_every_key_with_its_type_whether_required_and_its_description():
    assert render_schema(ORDER, "outline").splitlines() == [
        "- customer: string, required: who ordered",
        "- items: list of object, required",
        "  - name: string, required",
        "  - qty: integer, optional",
        "- priority: low|high, optional",
        "- note: string|null, optional",
        '- kind: "order", optional',
        "- when: string (date), optional",
        "- paid_by: object|null, optional",
        "  - card: string, optional",
    ]


def test_an_open_object_says_other_keys_are_allowed_and_a_recursive_schema_ends():
    tree = {"type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#"}},
            "additionalProperties": True}
    assert "- ...: other keys allowed" in render_schema(tree, "outline")
    assert '"...":"..."' in render_schema(tree, "template")


@pytest.mark.parametrize("schema_format", SCHEMA_FORMATS)
def test_the_prompt_carries_the_schema_in_the_chosen_format_only_when_asked(schema_format):
    record = {"prompt": "Carla ordered 5 notebooks.", "schema": ORDER}
    shown = user_text(record, PromptConfig("chat", schema_in_prompt=True, schema_format=schema_format))
    assert shown.startswith(record["prompt"] + "\n\n") and shown.endswith(render_schema(ORDER, schema_format))
    assert user_text(record, PromptConfig("chat", schema_format=schema_format)) == record["prompt"]


def test_prompt_settings_saved_before_the_schema_format_existed_load_as_json_schema(tmp_path):
    saved = {"format": "chat", "system_prompt": None, "schema_in_prompt": True}
    (tmp_path / "jsontune_prompt.json").write_text(json.dumps(saved))
    assert PromptConfig.load(tmp_path).schema_format == "json_schema"


def test_the_json_schema_rendering_is_the_schema_as_compact_json():
    assert json.loads(render_schema(ORDER, "json_schema")) == ORDER
    with pytest.raises(ValueError, match="schema_format must be one of"):
        render_schema(ORDER, "yaml")


def test_a_required_key_without_a_schema_of_its_own_is_named_with_any_type():
    schema = {"type": "object", "required": ["order"]}
    assert render_schema(schema, "template") == '{"order":"any"}'
    assert render_schema(schema, "outline") == "- order: any, required"

"""generate_json / generate_json_lora: the parsed JSON, or a falsy InvalidJSON carrying the raw text."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jsontune import InvalidJSON, api, generate_json, generate_json_lora
from jsontune.decoding.strategies import Attempt

SCHEMA = {"type": "object", "required": ["name"]}


@pytest.mark.slow
def test_an_answer_that_cannot_be_json_gives_invalid_json(make_recipe):
    from jsontune.recipe import load_recipe
    from jsontune.training.train import train

    recipe = load_recipe(make_recipe(use_peft=True, max_steps=1))
    train(recipe)
    # One token cannot hold an object with a "name" key.
    result = generate_json_lora("Bob lives in Oslo.", model_path=recipe.training.output_dir, schema=SCHEMA,
                                max_new_tokens=1, decoding="progressive", temperatures=(0.7,))
    assert isinstance(result, InvalidJSON) and not result
    assert result.attempts == 2 and isinstance(result.raw, str) and result.reason


def test_valid_and_invalid_answers(monkeypatch):
    answers = {"ok": '```json\n{"name": "Bob", "empty": {}}\n```', "schema": '{"nom": "Bob"}', "junk": "Sorry!"}
    from jsontune.data.prompting import PromptConfig

    source = SimpleNamespace(context_length=lambda: None, config=None, prompt_config=lambda: None)
    monkeypatch.setattr(api, "_source", lambda path, adapter: (source, None, PromptConfig("chat")))
    monkeypatch.setattr(api, "_weights", lambda source, merge_adapter: None)
    monkeypatch.setattr(api, "prompt_ids", lambda tokenizer, record, config: [0])

    def fake_decode(model, tokenizer, prompts, schemas, config, **kwargs):
        text = answers[current]
        from jsontune.decoding.strategies import is_valid_answer

        return [[Attempt(text, 5, 0.1, True, None, is_valid_answer(text, schemas[0]))]]

    monkeypatch.setattr(api, "decode", fake_decode)
    current = "ok"
    assert generate_json("Bob", schema=SCHEMA) == {"name": "Bob", "empty": {}}
    current = "schema"
    result = generate_json("Bob", schema=SCHEMA)
    assert isinstance(result, InvalidJSON) and result.raw == '{"nom": "Bob"}' and "schema" in result.reason
    current = "junk"
    result = generate_json("Bob")
    assert not result and result.raw == "Sorry!"


def test_a_model_trained_with_the_schema_in_its_prompts_warns_when_given_none(monkeypatch, caplog):
    from jsontune.data.prompting import PromptConfig

    trained = PromptConfig("chat", schema_in_prompt=True)
    saved = {"settings": trained}
    source = SimpleNamespace(context_length=lambda: None, config=None, prompt_config=lambda: saved["settings"])
    monkeypatch.setattr(api, "_source", lambda path, adapter: (source, None, trained))
    monkeypatch.setattr(api, "_weights", lambda source, merge_adapter: None)
    monkeypatch.setattr(api, "prompt_ids", lambda tokenizer, record, config: [0])
    monkeypatch.setattr(api, "decode", lambda *a, **k: [[Attempt('{"name": "Bob"}', 5, 0.1, True, None, True)]])
    with caplog.at_level("WARNING", logger="jsontune.api"):
        generate_json("Bob", model_path="models/lora")
    assert "trained with the schema in its prompts" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="jsontune.api"):
        generate_json("Bob", model_path="models/lora", schema=SCHEMA)
    assert caplog.text == ""
    # A model jsontune did not train saved no settings: the default prompt shows a schema, but nothing warns.
    saved["settings"] = None
    with caplog.at_level("WARNING", logger="jsontune.api"):
        generate_json("Bob", model_path="models/base")
    assert caplog.text == ""

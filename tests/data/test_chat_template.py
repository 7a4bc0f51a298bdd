"""The exported chat template prompts a model exactly as jsontune's own rendering does, whatever its settings."""

from __future__ import annotations

import pytest

from jsontune.data.chat_template import trained_chat_template
from jsontune.data.prompting import PromptConfig, prompt_ids, user_text

RECORD = {"prompt": 'Carla ordered 5 "notebooks".\nThanks, é 😀',
          "schema": {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}}


@pytest.mark.parametrize("config", [
    PromptConfig("chat"),
    PromptConfig("chat", system_prompt='Answer in JSON.\n"Strict", é 😀 {{ not jinja }}'),
    PromptConfig("chat", schema_in_prompt=True, schema_format="template"),
    PromptConfig("plain"),
    PromptConfig("plain", system_prompt='Write JSON.\n"only"'),
    PromptConfig("plain", system_prompt="Write JSON.", schema_in_prompt=True, schema_format="json_schema"),
], ids=lambda c: f"{c.format}-system={c.system_prompt is not None}-schema={c.schema_in_prompt}")
def test_one_user_message_through_the_template_gives_the_token_ids_of_jsontunes_prompt(tokenizer, config):
    template = trained_chat_template(tokenizer, config)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": user_text(RECORD, config)}],
                                        chat_template=template, add_generation_prompt=True, tokenize=True,
                                        return_dict=False)
    assert ids == prompt_ids(tokenizer, RECORD, config)


def test_a_system_message_of_the_client_replaces_the_trained_system_prompt(tokenizer):
    config = PromptConfig("chat", system_prompt="Trained prompt.")
    template = trained_chat_template(tokenizer, config)
    text = tokenizer.apply_chat_template([{"role": "system", "content": "Mine."}, {"role": "user", "content": "x"}],
                                         chat_template=template, add_generation_prompt=True, tokenize=False)
    assert "Mine." in text and "Trained prompt." not in text

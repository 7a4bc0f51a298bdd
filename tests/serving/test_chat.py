"""A chat request becomes the prompt jsontune trained the model on, the same prompt the exported template gives."""

from __future__ import annotations

import json

import pytest

from jsontune.data.chat_template import trained_chat_template
from jsontune.data.prompting import PromptConfig, end_of_turn_id, user_text
from jsontune.decoding.constrained.backends import backend_for
from jsontune.serving.chat import MAX_SCHEMA_DEPTH, ChatModel, Limits
from jsontune.serving.protocol import ApiError, parse_chat_request

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _chat_model(tokenizer, config: PromptConfig) -> ChatModel:
    stop = end_of_turn_id(tokenizer)
    backend = backend_for("llguidance", tokenizer, len(tokenizer), stop)
    return ChatModel(tokenizer, config, stop, len(tokenizer), backend, Limits(max_tokens=64, max_prompt_tokens=512))


def _request(messages, **fields) -> bytes:
    return json.dumps({"model": "m", "messages": messages, **fields}).encode()


@pytest.mark.parametrize("config", [PromptConfig("chat", system_prompt="Trained."),
                                    PromptConfig("chat", schema_in_prompt=True, schema_format="template"),
                                    PromptConfig("plain", system_prompt="Trained.", schema_in_prompt=True)],
                         ids=["chat-system", "chat-schema", "plain"])
@pytest.mark.parametrize("system", [None, ("system", "Mine."), ("developer", "Mine.")], ids=["none", "system",
                                                                                               "developer"])
def test_the_server_and_the_exported_template_prompt_the_same_request_alike(tokenizer, config, system):
    text = "Bob lives in Oslo."
    schema_format = {"type": "json_schema", "json_schema": {"name": "c", "schema": SCHEMA}}
    messages = ([{"role": system[0], "content": system[1]}] if system else []) + [{"role": "user", "content": text}]
    prepared = _chat_model(tokenizer, config).prepare(parse_chat_request(_request(messages,
                                                                                  response_format=schema_format)))
    client_messages = messages[:-1] + [{"role": "user", "content": user_text({"prompt": text, "schema": SCHEMA},
                                                                             config)}]
    exported = tokenizer.apply_chat_template(client_messages, chat_template=trained_chat_template(tokenizer, config),
                                             add_generation_prompt=True, tokenize=True, return_dict=False)
    assert prepared.request.prompt == exported and prepared.prompt_tokens == len(exported)


@pytest.mark.parametrize("body, param", [
    (b"[" * 100_000, None),
    (_request([{"role": "user", "content": "x"}], seed=2**70), "seed"),
    (_request([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]), "messages[0].content[0].type"),
    (_request([{"role": "system", "content": "a"}, {"role": "system", "content": "b"},
               {"role": "user", "content": "x"}]), "messages[1].role"),
])
def test_hostile_or_malformed_bodies_are_refused_with_the_field_named(body, param):
    with pytest.raises(ApiError) as caught:
        parse_chat_request(body)
    assert caught.value.status == 400 and caught.value.param == param


def test_a_schema_nested_too_deeply_or_too_large_is_refused_before_it_compiles(tokenizer):
    chat = _chat_model(tokenizer, PromptConfig("chat"))
    deep: dict = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH):
        deep = {"type": "object", "properties": {"a": deep}}
    large = {"type": "object", "properties": {f"field_{i}": {"type": "string"} for i in range(3000)}}
    for schema, words in ((deep, "nested deeper"), (large, "bytes")):
        request = parse_chat_request(_request([{"role": "user", "content": "x"}], response_format={
            "type": "json_schema", "json_schema": {"name": "s", "schema": schema}}))
        with pytest.raises(ApiError, match=words):
            chat.prepare(request)


def test_a_tiny_temperature_decodes_greedily_instead_of_overflowing(tokenizer):
    chat = _chat_model(tokenizer, PromptConfig("chat"))
    request = parse_chat_request(_request([{"role": "user", "content": "x"}], temperature=1e-300))
    assert chat.prepare(request).request.sampling.temperature is None

"""The Python API of the original experiment: `generate_json(prompt, model_path=...)`.

    from jsontune import generate_json, generate_json_lora
    order = generate_json("Carla ordered 5 notebooks.", model_path="models/complete")
    order = generate_json_lora("Carla ordered 5 notebooks.", model_path="models/lora")

Both return the parsed JSON value. When no valid JSON comes out (after progressive sampling, by
default), they return an `InvalidJSON`: a falsy value that carries the raw text and the reason, so
`if not result:` tells the two apart even when the JSON itself is falsy (`{}`, `[]`): check with
`isinstance(result, InvalidJSON)` there. Models stay loaded between calls (the two most recent).

A bad input raises a `jsontune.errors.JsontuneError` before the model loads: an empty prompt, a token
budget below 1, a schema that is not a JSON Schema (or, constrained, one that does not compile), a model
path that holds no model, or a prompt that does not fit the model's context beside the token budget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsontune.data.prompting import choose_prompt_config, end_of_turn_id, prompt_ids
from jsontune.data.schemas import checked_schema
from jsontune.decoding.budget import check_prompts_fit, check_settings
from jsontune.decoding.constrained import GrammarError, compile_error
from jsontune.decoding.defaults import DEFAULT_MAX_NEW_TOKENS, DEFAULT_TEMPERATURES
from jsontune.decoding.repair import recover_json
from jsontune.decoding.strategies import CUT_OFF, DecodingConfig, decode
from jsontune.errors import JsontuneError
from jsontune.models.loading import ModelSource, load_weights, model_source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvalidJSON:
    """What generate_json returns when the model wrote no valid JSON: the last raw answer and why."""

    raw: str
    reason: str
    attempts: int

    def __bool__(self) -> bool:
        return False


@lru_cache(maxsize=2)
def _source(model_path: str, adapter: str | None):
    """(checked source, tokenizer, prompt settings) of a model: everything but its weights."""
    source = model_source(model_path, adapter)
    tokenizer = source.tokenizer()
    return source, tokenizer, source.prompt_config() or choose_prompt_config(tokenizer)


@lru_cache(maxsize=2)
def _weights(source: ModelSource, merge_adapter: bool):
    return load_weights(source, merge_adapter=merge_adapter)


def generate_json(
    prompt: str,
    model_path: str | Path = "models/complete",
    adapter: str | Path | None = None,
    schema: dict | None = None,
    decoding: str | DecodingConfig = "progressive",
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    seed: int = 0,
    merge_adapter: bool = True,
) -> Any:
    """The JSON a fine-tuned model writes for `prompt`, parsed; an `InvalidJSON` when there is none.

    `model_path` is a complete model, or a LoRA adapter directory (its base is found from the
    adapter's config); `adapter` applies an adapter on top of `model_path`. With a `schema`, an
    answer must follow it to count as valid (and it is shown to a model trained with the schema in
    its prompt). `decoding="progressive"` retries invalid answers with sampling at `temperatures`;
    `decoding="constrained"` masks every token with a grammar compiled from `schema` (any JSON object
    without one) and raises `GrammarError` when the backend cannot compile the schema. A
    `DecodingConfig` sets every option (e.g. the grammar backend and the bounds). An adapter is merged into
    its base for decoding (faster; the same answers in fp32) unless `merge_adapter` is False.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise JsontuneError("the prompt is empty: give the text to turn into JSON")
    check_settings(1, max_new_tokens)
    if schema is not None:
        checked_schema(schema, "the schema")
    if isinstance(decoding, DecodingConfig):
        decoding_config = decoding
    else:
        decoding_config = DecodingConfig(mode=decoding, temperatures=tuple(temperatures), seed=seed)
    source, tokenizer, config = _source(str(model_path), str(adapter) if adapter else None)
    saved = source.prompt_config()  # None for a model jsontune did not train: nothing to warn about
    if schema is None and saved is not None and saved.schema_in_prompt:
        logger.warning("%s was trained with the schema in its prompts; without a schema it writes keys of its "
                       "own choosing: pass schema= for the keys you want", model_path)
    record = {"prompt": prompt, "schema": schema}
    ids = prompt_ids(tokenizer, record, config)
    check_prompts_fit([ids], [record], source.context_length(), max_new_tokens)
    if decoding_config.mode == "constrained" and schema is not None:
        vocab_size = getattr(source.config, "vocab_size", None) or len(tokenizer)
        error = compile_error(schema, tokenizer, vocab_size, decoding_config.backend, decoding_config.bounds,
                              end_of_turn_id(tokenizer))
        if error is not None:
            raise GrammarError(error)
    [tries] = decode(_weights(source, merge_adapter), tokenizer, [ids], [schema], decoding_config,
                     max_new_tokens=max_new_tokens, batch_size=1, progress=False)
    answer = tries[-1]
    if answer.grammar_error:
        raise GrammarError(answer.grammar_error)
    if answer.cut_off:
        return InvalidJSON(raw=answer.text, reason=CUT_OFF, attempts=len(tries))
    recovery = recover_json(answer.text)
    if answer.valid:
        return recovery.value
    reason = recovery.reason if not recovery.ok else "the JSON does not follow the schema"
    return InvalidJSON(raw=answer.text, reason=reason or "invalid JSON", attempts=len(tries))


def generate_json_lora(prompt: str, model_path: str | Path = "models/lora", **kwargs) -> Any:
    """`generate_json` with a LoRA adapter directory (the original experiment's second entry point)."""
    return generate_json(prompt, model_path=model_path, **kwargs)

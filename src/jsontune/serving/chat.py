"""From a chat request to a decoding-engine request: the trained prompt, the grammar, the token budget.

The model is prompted the way it was trained (`jsontune.data.prompting`): its saved prompt settings give the
format, the system prompt and whether the schema is shown after the user's text, so a client sends only that
text. A system (or developer) message of the client's replaces the trained system prompt. `response_format` chooses the
decoding: `json_schema` masks every token with the grammar of that schema (`strict: true` closes every object
that lists its properties, as the OpenAI API does; otherwise JSON Schema's own meaning, open objects, holds),
`json_object` with the grammar of any JSON object, none or `text` decodes freely.

Every refusal is an `ApiError` naming the field: a schema that is not a JSON Schema, or that the grammar backend
cannot compile (its message names the keyword); a prompt or a budget beyond the server's limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from jsontune.data.prompting import PromptConfig, prompt_ids
from jsontune.data.schemas import InvalidSchema, checked_schema
from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.constrained.grammars import Constraints, GrammarCache
from jsontune.decoding.constrained.guard import token_table
from jsontune.decoding.engine import Request, Sampling
from jsontune.serving.protocol import ApiError, ChatRequest

SCHEMA_FIELD = "response_format.json_schema.schema"
# Distinct schemas whose compiled grammars are kept (the least recently used go first), and the largest schema
# taken: its compile time and its grammar's memory grow with it.
GRAMMARS_KEPT = 256
MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 64  # nested objects and arrays of the schema's JSON; the validators and compilers recurse
MIN_TEMPERATURE = 1e-3


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    max_tokens: int  # the most tokens of an answer, and the budget of a request that names none
    max_prompt_tokens: int


@dataclass
class Prepared:
    """A chat request ready for the engine, and the size of its prompt (for `usage`)."""

    request: Request
    prompt_tokens: int


class ChatModel:
    """Turns chat requests into engine requests for one model (its tokenizer, prompt settings and grammars)."""

    def __init__(self, tokenizer, prompt_config: PromptConfig, stop_token: int, vocab_size: int, backend,
                 limits: Limits, bounds: Bounds | None = None):
        self.tokenizer = tokenizer
        self.prompt_config = prompt_config
        self.stop_token = stop_token
        self.vocab_size = vocab_size
        self.limits = limits
        bounds = bounds or Bounds()
        # strict: true and false compile the same schema differently, so each has its cache.
        self._grammars = {strict: GrammarCache(backend, replace(bounds, close_objects=strict), GRAMMARS_KEPT,
                                              warn_each_schema=True)
                          for strict in (True, False)}
        self._tokens = token_table(tokenizer, vocab_size)

    def prepare(self, chat: ChatRequest) -> Prepared:
        """The engine request of a checked chat request; an `ApiError` when the server cannot answer it."""
        schema, strict, constrained = self._response_format(chat)
        config = self.prompt_config
        if len(chat.messages) > 1:  # a system (or developer) message, checked in protocol
            config = replace(config, system_prompt=chat.messages[0].text())
        ids = prompt_ids(self.tokenizer, {"prompt": chat.messages[-1].text(), "schema": schema}, config)
        if len(ids) > self.limits.max_prompt_tokens:
            raise ApiError(400, f"messages: the prompt is {len(ids)} tokens, above this server's limit of "
                                f"{self.limits.max_prompt_tokens}", "messages", "context_length_exceeded")
        name, budget = chat.token_budget()
        if budget is not None and budget > self.limits.max_tokens:
            raise ApiError(400, f"{name}: {budget} is above this server's limit of {self.limits.max_tokens}", name)
        constraint = self._constraint(schema, strict) if constrained else None
        return Prepared(Request(ids, budget or self.limits.max_tokens, _sampling(chat), constraint), len(ids))

    def _response_format(self, chat: ChatRequest) -> tuple[dict | None, bool, bool]:
        """(the schema, whether it is strict, whether to decode with a grammar)."""
        form = chat.response_format
        if form is None or form.type == "text":
            return None, False, False
        if form.type == "json_object":
            return None, True, True
        schema = form.json_schema.schema_
        size = len(json.dumps(schema))
        if size > MAX_SCHEMA_BYTES:
            raise ApiError(400, f"{SCHEMA_FIELD}: {size} bytes, above this server's limit of {MAX_SCHEMA_BYTES}",
                           SCHEMA_FIELD, "invalid_schema")
        if _depth(schema) > MAX_SCHEMA_DEPTH:
            raise ApiError(400, f"{SCHEMA_FIELD}: nested deeper than this server's limit of {MAX_SCHEMA_DEPTH}",
                           SCHEMA_FIELD, "invalid_schema")
        try:
            checked_schema(schema, SCHEMA_FIELD)
        except InvalidSchema as err:
            raise ApiError(400, str(err), SCHEMA_FIELD, "invalid_schema") from None
        except RecursionError:
            raise ApiError(400, f"{SCHEMA_FIELD}: nested too deeply", SCHEMA_FIELD, "invalid_schema") from None
        return schema, bool(form.json_schema.strict), True

    def _constraint(self, schema: dict | None, strict: bool):
        cache = self._grammars[strict]
        grammar = cache.for_schema(schema)
        if grammar.error is not None:
            raise ApiError(400, f"{SCHEMA_FIELD}: the {cache.backend.name} grammar backend cannot compile it: "
                                f"{grammar.error}", SCHEMA_FIELD, "unsupported_schema")
        constraints = Constraints(cache.backend, [grammar], self.vocab_size, self.stop_token, self._tokens,
                                  cache.bounds)
        # The first grammar state is built here, off the model thread: for llguidance that is the real compile.
        first = [constraints.constraint(0)]
        return lambda: first.pop() if first else constraints.constraint(0)


def _sampling(chat: ChatRequest) -> Sampling:
    """Greedy unless the request asks for a temperature of at least `MIN_TEMPERATURE` (then seeded by its `seed`,
    or at random): below it, sampling is greedy in all but name, and dividing by it could overflow."""
    if chat.temperature is None or chat.temperature < MIN_TEMPERATURE:
        return Sampling()
    import secrets

    return Sampling(temperature=chat.temperature, seed=chat.seed if chat.seed is not None else secrets.randbits(63))


def _depth(value) -> int:
    """How deeply objects and arrays nest in a JSON value (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest

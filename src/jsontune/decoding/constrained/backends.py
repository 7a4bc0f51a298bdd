"""The grammar backends behind one small interface, chosen by name: llguidance (the default) and xgrammar.

Both compile a JSON Schema into a grammar that emits compact JSON (no whitespace, `,` and `:` separators,
as in training) and allows the end-of-turn token exactly when the JSON is complete. Neither enforces every
JSON Schema keyword: `unenforced_keywords` names the ones a backend ignores in a schema, so callers can
flag them; every constrained answer is validated with jsonschema afterwards anyway.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Protocol

import torch

from jsontune.decoding.constrained.subschemas import subschemas
from jsontune.decoding.defaults import BACKENDS
from jsontune.errors import JsontuneError

# Keywords a backend parses but does not enforce (checked against the installed versions by
# tests/decoding/test_constrained.py, which feeds each backend a value that breaks only that keyword).
_IGNORED_BY_BOTH = {
    "uniqueItems": "duplicates are not prevented",
    "not": "the negated schema is not enforced",
    "contains": "an array may lack the item it must contain",
    "maxContains": "an array may hold too many of the item",
    "dependentRequired": "dependencies between properties are not enforced",
    "dependentSchemas": "dependencies between properties are not enforced",
    "if": "conditional schemas are not enforced",
    "oneOf": "enforced as anyOf: a value may match more than one branch",
}
IGNORED_KEYWORDS: dict[str, dict[str, str]] = {
    "llguidance": {**_IGNORED_BY_BOTH, "propertyNames": "property names are not constrained",
                   "minContains": "an array may lack the item it must contain"},
    "xgrammar": {**_IGNORED_BY_BOTH, "allOf": "only partly supported"},
}
# xgrammar drops a keyword beside some others: (dropped keywords, the ones that make it drop them).
_XGRAMMAR_DROPS = (
    (("minLength", "maxLength"), ("pattern", "format"), "ignored beside a pattern or format"),
    (("multipleOf",), ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), "ignored beside a range"),
)


class GrammarError(JsontuneError):
    """A backend could not compile a schema into a grammar."""


def unenforced_keywords(schema: dict | None, backend: str) -> list[str]:
    """'keyword at /json/pointer: why' for every keyword of schema that backend does not enforce."""
    if schema is None:
        return []
    ignored = IGNORED_KEYWORDS[_check_backend(backend)]
    found = []
    for pointer, node in subschemas(schema):
        for keyword, why in ignored.items():
            if keyword in node:
                found.append(f"{keyword} at {pointer or '/'}: {why}")
        if backend == "xgrammar":
            for dropped, beside, why in _XGRAMMAR_DROPS:
                if any(k in node for k in beside):
                    found += [f"{k} at {pointer or '/'}: {why}" for k in dropped if k in node]
    return found


def _check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown grammar backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


class Matcher(Protocol):
    """One row's grammar state."""

    def fill_mask(self, bitmask: torch.Tensor, row: int) -> None: ...
    def consume(self, token: int) -> bool: ...


class GrammarBackend(Protocol):
    name: str

    def compile(self, schema: dict) -> tuple[Any, list[str]]:
        """The compiled grammar, and the backend's own warnings about what it leaves out."""
        ...
    def matcher(self, compiled: Any) -> Matcher: ...


class _LLGuidanceMatcher:
    def __init__(self, matcher):
        self._matcher = matcher

    def fill_mask(self, bitmask: torch.Tensor, row: int) -> None:
        from llguidance.torch import fill_next_token_bitmask

        fill_next_token_bitmask(self._matcher, bitmask, row)

    def consume(self, token: int) -> bool:
        return self._matcher.consume_token(token)


class LLGuidanceBackend:
    name = "llguidance"

    def __init__(self, tokenizer, vocab_size: int, stop_token: int):
        import llguidance.hf

        self._tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size, eos_token=stop_token)

    def compile(self, schema: dict) -> tuple[str, list[str]]:
        import llguidance

        # lenient: unimplemented keywords are dropped with a warning (which the caller reports), not refused
        options = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":", "lenient": True}
        grammar = llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema), defaults=options)
        is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar, self._tokenizer)
        if is_error:
            raise GrammarError(f"llguidance cannot compile the schema: {messages[0] if messages else 'unknown'}")
        return grammar, list(messages)

    def matcher(self, compiled: str) -> Matcher:
        import llguidance

        return _LLGuidanceMatcher(llguidance.LLMatcher(self._tokenizer, compiled, log_level=0))


class _XGrammarMatcher:
    def __init__(self, matcher):
        self._matcher = matcher

    def fill_mask(self, bitmask: torch.Tensor, row: int) -> None:
        self._matcher.fill_next_token_bitmask(bitmask, row)

    def consume(self, token: int) -> bool:
        return self._matcher.accept_token(token)


XGRAMMAR_CACHE_BYTES = 256 * 2**20


class XGrammarBackend:
    name = "xgrammar"

    def __init__(self, tokenizer, vocab_size: int, stop_token: int):
        import xgrammar

        info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=[stop_token])
        # Its own cache of compiled grammars is unbounded by default: a server sees schemas without end.
        self._compiler = xgrammar.GrammarCompiler(info, cache_limit_bytes=XGRAMMAR_CACHE_BYTES)

    def compile(self, schema: dict):
        try:
            # strict_mode=False keeps JSON Schema's meaning (unlisted properties are allowed unless the
            # schema says otherwise). xgrammar prints its warnings from C++, out of reach: the static
            # audit (IGNORED_KEYWORDS, _XGRAMMAR_DROPS) stands in for them.
            return self._compiler.compile_json_schema(json.dumps(schema), any_whitespace=False,
                                                      separators=(",", ":"), strict_mode=False), []
        except RuntimeError as error:
            raise GrammarError(f"xgrammar cannot compile the schema: {str(error).strip()[-300:]}") from error

    def matcher(self, compiled) -> Matcher:
        import xgrammar

        return _XGrammarMatcher(xgrammar.GrammarMatcher(compiled))


@lru_cache(maxsize=4)
def _backend(name: str, tokenizer, vocab_size: int, stop_token: int) -> GrammarBackend:
    cls = {backend.name: backend for backend in (LLGuidanceBackend, XGrammarBackend)}[name]
    return cls(tokenizer, vocab_size, stop_token)


def backend_for(name: str, tokenizer, vocab_size: int, stop_token: int) -> GrammarBackend:
    """The named backend for this tokenizer (built once: wrapping a tokenizer takes about a second).

    vocab_size is the width of the model's logits (config.vocab_size), which may exceed len(tokenizer).
    """
    return _backend(_check_backend(name), tokenizer, vocab_size, stop_token)

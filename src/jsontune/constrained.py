"""Grammar-constrained decoding: each row's next token is masked by a grammar built from its JSON Schema.

Two backends sit behind one small interface, chosen by name: llguidance (the default) and xgrammar.
A record without a schema gets a generic grammar: any JSON object. Before compiling, jsontune bounds
every string and array whose schema sets no bound (`Bounds`), so that a model that rambles inside a
string (an untrained one does) still closes its JSON within the token budget; the bounded schema is
stricter than the original, so what it accepts the original accepts too.

Both backends emit compact JSON (no whitespace, `,` and `:` separators, as in training), and allow the
end-of-turn token exactly when the JSON is complete. Neither enforces every JSON Schema keyword:
`unenforced_keywords` names the ones a backend ignores in a schema, so callers can flag them; every
constrained answer is validated with jsonschema afterwards anyway.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import torch
from transformers import LogitsProcessor

logger = logging.getLogger(__name__)

BACKENDS = ("llguidance", "xgrammar")
DEFAULT_BACKEND = "llguidance"

# Keywords a backend parses but does not enforce (checked against the installed versions by
# tests/test_constrained.py, which feeds each backend a value that breaks only that keyword).
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


class GrammarError(ValueError):
    """A backend could not compile a schema into a grammar."""


@dataclass(frozen=True)
class Bounds:
    """Default bounds on what a schema leaves unbounded (None: unbounded).

    Strings and arrays are bounded in the schema that is compiled. Digits and nesting are bounded
    while decoding (`RunawayGuard`): after `max_digit_run` digits in a row (in a number or a string)
    the next token may not be a digit, and at `max_depth` open objects and arrays no token may open
    another one, whenever the grammar allows anything else. The defaults let the untrained embedded
    model close its JSON within 256 tokens on the embedded test split while cutting almost no real
    value: of the embedded data's 56,727 reference strings, 13 are longer than 64 characters; no
    array has more than 3 items, no number more than 8 digits, no value is nested deeper than 4.
    """

    max_string_length: int | None = 64
    max_items: int | None = 4
    max_digit_run: int | None = 16
    max_depth: int | None = 8


def bound_schema(schema: dict, bounds: Bounds, backend: str = DEFAULT_BACKEND) -> dict:
    """A copy of schema in which every string without maxLength and array without maxItems gets one.

    Strings with an enum or const are left alone, and so are, for xgrammar (which would drop the
    length), strings with a pattern or format. A bound never goes below the schema's own minimum.
    """
    bounded = copy.deepcopy(schema)
    fixed = ("enum", "const", "maxLength") + (("pattern", "format") if backend == "xgrammar" else ())
    for pointer, node in _subschemas_with_pointers(bounded, ""):
        if _under_negation(pointer):
            continue  # a bound under "not" or "if" would loosen the schema, not tighten it
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        free_string = not any(k in node for k in fixed)
        if "string" in types and free_string and bounds.max_string_length is not None:
            node["maxLength"] = max(bounds.max_string_length, node.get("minLength", 0))
        if "array" in types and "maxItems" not in node and bounds.max_items is not None:
            node["maxItems"] = max(bounds.max_items, node.get("minItems", 0))
    return bounded


def any_object_schema(bounds: Bounds) -> dict:
    """The generic grammar's schema: a JSON object of any values, within the bounds."""
    string: dict[str, Any] = {"type": "string"}
    array: dict[str, Any] = {"type": "array", "items": {"$ref": "#/$defs/value"}}
    obj: dict[str, Any] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}}
    if bounds.max_string_length is not None:
        string["maxLength"] = bounds.max_string_length
    if bounds.max_items is not None:
        array["maxItems"] = obj["maxProperties"] = bounds.max_items
    value = {"anyOf": [string, {"type": "number"}, {"type": "boolean"}, {"type": "null"}, array,
                       {"$ref": "#/$defs/object"}]}
    return {"$defs": {"value": value, "object": obj}, "$ref": "#/$defs/object"}


def unenforced_keywords(schema: dict | None, backend: str) -> list[str]:
    """'keyword at /json/pointer: why' for every keyword of schema that backend does not enforce."""
    if schema is None:
        return []
    ignored = IGNORED_KEYWORDS[_check_backend(backend)]
    found = []
    for pointer, node in _subschemas_with_pointers(schema, ""):
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


# Keywords whose value is one subschema, a list of them, or a map of names to them.
_ONE = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "contains",
        "propertyNames", "not", "if", "then", "else")
_LIST = ("prefixItems", "anyOf", "oneOf", "allOf")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _subschemas_with_pointers(node: Any, pointer: str) -> Iterator[tuple[str, dict]]:
    if not isinstance(node, dict):
        return
    yield pointer, node
    for key in _ONE:
        yield from _subschemas_with_pointers(node.get(key), f"{pointer}/{key}")
    for key in _LIST:
        for i, child in enumerate(node.get(key) or []):
            yield from _subschemas_with_pointers(child, f"{pointer}/{key}/{i}")
    for key in _MAP:
        children = node.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from _subschemas_with_pointers(child, f"{pointer}/{key}/{name}")


def _under_negation(pointer: str) -> bool:
    """Whether a subschema's pointer passes through a "not" or "if" keyword (not a property so named)."""
    parts = pointer.split("/")
    return any(part in ("not", "if") and parts[i - 1] not in _MAP for i, part in enumerate(parts) if i > 0)


# --------------------------------------------------------------------------- backends

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


class XGrammarBackend:
    name = "xgrammar"

    def __init__(self, tokenizer, vocab_size: int, stop_token: int):
        import xgrammar

        info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=[stop_token])
        self._compiler = xgrammar.GrammarCompiler(info)

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
    cls = {"llguidance": LLGuidanceBackend, "xgrammar": XGrammarBackend}[name]
    return cls(tokenizer, vocab_size, stop_token)


def backend_for(name: str, tokenizer, vocab_size: int, stop_token: int) -> GrammarBackend:
    """The named backend for this tokenizer (built once: wrapping a tokenizer takes about a second).

    vocab_size is the width of the model's logits (config.vocab_size), which may exceed len(tokenizer).
    """
    return _backend(_check_backend(name), tokenizer, vocab_size, stop_token)


# --------------------------------------------------------------------------- grammars for records

@dataclass
class RowGrammar:
    """What constrains one row: the compiled grammar and what it cannot promise."""

    compiled: Any
    unenforced: list[str]
    error: str | None = None  # the record's schema could not be compiled; the generic grammar stood in


class GrammarCache:
    """Compiles each distinct schema once per backend and bounds; warns once per schema about its gaps."""

    def __init__(self, backend: GrammarBackend, bounds: Bounds):
        self.backend = backend
        self.bounds = bounds
        self._cache: dict[str, RowGrammar] = {}

    def for_schema(self, schema: dict | None) -> RowGrammar:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._cache:
            self._cache[key] = self._build(schema)
        return self._cache[key]

    def _build(self, schema: dict | None) -> RowGrammar:
        if schema is None:
            target = any_object_schema(self.bounds)
        else:
            target = bound_schema(schema, self.bounds, self.backend.name)
        unenforced = unenforced_keywords(target, self.backend.name)  # what is compiled, bounds included
        try:
            compiled, warnings = self.backend.compile(target)
            error = None
        except GrammarError as failure:
            logger.warning("%s; that schema's rows use the generic JSON-object grammar", failure)
            compiled, warnings = self.backend.compile(any_object_schema(self.bounds))
            error = str(failure)
        unenforced += [f"{self.backend.name}: {w}" for w in warnings if not _already_listed(w, unenforced)]
        if unenforced:
            logger.warning("%s does not enforce parts of a schema (%s); answers are checked with jsonschema",
                           self.backend.name, "; ".join(unenforced))
        return RowGrammar(compiled, unenforced, error)


def _already_listed(warning: str, unenforced: list[str]) -> bool:
    """Whether a backend's 'Unimplemented keys: ["a", "b"]' warning only repeats keywords the audit named."""
    if not warning.startswith("Unimplemented keys:"):
        return False
    try:
        keys = json.loads(warning.split(":", 1)[1])
    except json.JSONDecodeError:
        return False
    named = {item.split(" at ", 1)[0] for item in unenforced}
    return set(keys) <= named


@dataclass
class Constraints:
    """The grammars of a list of prompts (one per prompt), for `jsontune.generation.generate`."""

    backend: GrammarBackend
    rows: list[RowGrammar]
    vocab_size: int
    stop_token: int
    tokens: TokenTable
    bounds: Bounds

    def processor(self, indices: list[int]) -> GrammarLogitsProcessor:
        """A fresh logits processor for one batch made of the prompts at these indices."""
        matchers = [self.backend.matcher(self.rows[i].compiled) for i in indices]
        guard = RunawayGuard(self.tokens, len(indices), self.bounds)
        return GrammarLogitsProcessor(matchers, self.vocab_size, self.stop_token, guard)


def constraints_for(model, tokenizer, schemas: list[dict | None], backend: str = DEFAULT_BACKEND,
                    bounds: Bounds | None = None, stop_token: int | None = None) -> Constraints:
    """Grammars for prompts whose records carry these schemas (None: any JSON object)."""
    bounds = bounds or Bounds()
    vocab_size = model.config.vocab_size
    stop = stop_token if stop_token is not None else tokenizer.eos_token_id
    cache = GrammarCache(backend_for(backend, tokenizer, vocab_size, stop), bounds)
    return Constraints(cache.backend, [cache.for_schema(schema) for schema in schemas], vocab_size, stop,
                       token_table(tokenizer, vocab_size), bounds)


# --------------------------------------------------------------------------- runaway bounds

@dataclass(frozen=True)
class TokenTable:
    """What each token id writes, for the runaway bounds."""

    texts: list[str]
    digits: torch.Tensor  # (vocab,) digits written by a token made only of digits, else 0
    opens_outside: torch.Tensor  # (vocab,) bool: the token opens an object or array, written outside a string
    opens_inside: torch.Tensor  # (vocab,) bool: the same, written inside a string (it closes it first)


@lru_cache(maxsize=4)
def token_table(tokenizer, vocab_size: int) -> TokenTable:
    """The TokenTable of a tokenizer for logits of width vocab_size (ids past the tokenizer write nothing)."""
    texts = [tokenizer.decode([i]) if i < len(tokenizer) else "" for i in range(vocab_size)]
    digits = torch.tensor([len(t) if t.isascii() and t.isdigit() else 0 for t in texts], dtype=torch.long)
    opens = {start: torch.tensor([_scan(t, start, False)[3] > 0 for t in texts]) for start in (False, True)}
    return TokenTable(texts, digits, opens[False], opens[True])


def _scan(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool, int, int]:
    """Follow JSON text from a lexer state: (in_string, escaped, depth change, highest depth rise on the way)."""
    depth = rise = 0
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            rise = max(rise, depth)
        elif char in "}]":
            depth -= 1
    return in_string, escaped, depth, rise


class RunawayGuard:
    """Per-row digit runs and nesting depth of the JSON written so far, and the tokens they rule out.

    It only narrows what the grammar allows, and never to nothing, so every answer still follows
    the grammar; it stops a model that repeats digits or nests forever before the budget runs out.
    """

    def __init__(self, tokens: TokenTable, rows: int, bounds: Bounds):
        self.tokens = tokens
        self.bounds = bounds
        self.digit_run = [0] * rows
        self.depth = [0] * rows
        self._in_string = [False] * rows
        self._escaped = [False] * rows

    def observe(self, row: int, token: int) -> None:
        written = int(self.tokens.digits[token]) if token < len(self.tokens.digits) else 0
        self.digit_run[row] = self.digit_run[row] + written if written else 0
        text = self.tokens.texts[token] if token < len(self.tokens.texts) else ""
        self._in_string[row], self._escaped[row], change, _ = _scan(text, self._in_string[row], self._escaped[row])
        self.depth[row] += change

    def restrict(self, allowed: torch.Tensor, active: list[bool]) -> None:
        """Narrow each active row's allowed tokens (a (rows, width) bool matrix), in place."""
        width = allowed.shape[1]
        digits = self._column(self.tokens.digits > 0, width)
        opens = {False: self._column(self.tokens.opens_outside, width),
                 True: self._column(self.tokens.opens_inside, width)}
        max_run, max_depth = self.bounds.max_digit_run, self.bounds.max_depth
        for row, is_active in enumerate(active):
            if not is_active:
                continue
            banned = torch.zeros(width, dtype=torch.bool)
            if max_run is not None and self.digit_run[row] >= max_run:
                banned |= digits
            if max_depth is not None and self.depth[row] >= max_depth:
                banned |= opens[self._in_string[row]]
            narrowed = allowed[row] & ~banned
            if banned.any() and narrowed.any():
                allowed[row] = narrowed

    @staticmethod
    def _column(values: torch.Tensor, width: int) -> torch.Tensor:
        column = torch.zeros(width, dtype=torch.bool)
        known = min(width, len(values))
        column[:known] = values[:known]
        return column


# --------------------------------------------------------------------------- masking logits

_BIT_POSITIONS = torch.arange(32, dtype=torch.int32)


def allocate_bitmask(rows: int, vocab_size: int) -> torch.Tensor:
    """One bit per token and row, packed in int32 words (the layout both backends fill)."""
    return torch.full((rows, (vocab_size + 31) // 32), -1, dtype=torch.int32)


def allowed_tokens(bitmask: torch.Tensor, width: int) -> torch.Tensor:
    """The (rows, width) boolean matrix a bitmask encodes; columns beyond the mask are disallowed."""
    allowed = ((bitmask.unsqueeze(-1) >> _BIT_POSITIONS) & 1).bool().view(bitmask.shape[0], -1)
    if allowed.shape[1] < width:
        allowed = torch.nn.functional.pad(allowed, (0, width - allowed.shape[1]), value=False)
    return allowed[:, :width]


def apply_bitmask(scores: torch.Tensor, bitmask: torch.Tensor) -> None:
    """Set the scores of disallowed tokens to -inf, in place."""
    scores.masked_fill_(~allowed_tokens(bitmask, scores.shape[-1]).to(scores.device), float("-inf"))


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks each row's logits with its own matcher, for one `generate` call on left-padded rows.

    Rows finish independently: once a row has produced the stop token (which its grammar allows only
    when the JSON is complete) it is left alone; the generator pads that row from then on. A
    `RunawayGuard` may narrow the allowed tokens further.
    """

    def __init__(self, matchers: list[Matcher], vocab_size: int, stop_token: int, guard: RunawayGuard | None = None):
        self.matchers = matchers
        self.stop_token = stop_token
        self.guard = guard
        self.done = [False] * len(matchers)
        self.bitmask = allocate_bitmask(len(matchers), vocab_size)
        self._started = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self.matchers):
            raise ValueError(f"{input_ids.shape[0]} rows in the batch but {len(self.matchers)} grammars")
        if self._started:
            for row, token in enumerate(input_ids[:, -1].tolist()):
                if self.done[row]:
                    continue
                if not self.matchers[row].consume(token):
                    raise RuntimeError(f"row {row}: token {token} broke its grammar (a masking bug)")
                self.done[row] = token == self.stop_token
                if self.guard is not None:
                    self.guard.observe(row, token)
        self._started = True
        for row, matcher in enumerate(self.matchers):
            if self.done[row]:
                self.bitmask[row] = -1  # any token: the generator discards it
            else:
                matcher.fill_mask(self.bitmask, row)
        allowed = allowed_tokens(self.bitmask, scores.shape[-1])
        if self.guard is not None:
            self.guard.restrict(allowed, [not done for done in self.done])
        scores.masked_fill_(~allowed.to(scores.device), float("-inf"))
        return scores

"""The grammars of a batch of records: each record's schema compiled once, with what it cannot promise.

`constraints_for(model, tokenizer, schemas)` gives one `RowGrammar` per prompt (its schema bounded and
compiled by the chosen backend; a record without a schema, or whose schema does not compile, gets the
generic JSON-object grammar), and a fresh grammar state for each answer (`Constraints.constraint`).

What a grammar cannot promise is said in short lines (at most `LOG_LINE_CHARS`): real schemas list dozens of
places a keyword is not enforced, and those places belong in each row's `grammar_unenforced`, not in the log.
A batch (`eval`, `generate`) says once how many rows had which keyword unenforced; a server, which sees
schemas without end, says it once per new schema, with counts instead of places.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsontune.decoding.constrained.backends import GrammarBackend, GrammarError, backend_for, unenforced_keywords
from jsontune.decoding.constrained.bounds import Bounds, any_object_schema, bound_schema
from jsontune.decoding.constrained.guard import RunawayGuard, TokenTable, token_table
from jsontune.decoding.constrained.processor import GrammarLogitsProcessor, RowConstraint
from jsontune.decoding.constrained.subschemas import subschemas
from jsontune.decoding.defaults import DEFAULT_BACKEND

logger = logging.getLogger(__name__)

# The most compiles `with_culprit` spends looking for the part of a schema that does not compile.
CULPRIT_COMPILES = 48
# The longest line this module logs; the whole text stays in the rows (`grammar_unenforced`, `grammar_error`).
LOG_LINE_CHARS = 300
# The most keywords a summary names (the most frequent first).
KEYWORDS_NAMED = 5
# A backend's own warning about keywords it skips (llguidance: 'Unimplemented keys: ["if"] (3 times)').
_UNIMPLEMENTED = re.compile(r"Unimplemented keys: (\[.*?\])")


@dataclass
class RowGrammar:
    """What constrains one row: the compiled grammar and what it cannot promise."""

    compiled: Any
    unenforced: list[str]
    error: str | None = None  # the record's schema could not be compiled; the generic grammar stood in


class GrammarCache:
    """Compiles each distinct schema once per backend and bounds.

    With `max_entries` it keeps only the most recently used grammars (a server sees schemas without end). It may
    be shared by threads (a server prepares requests in a pool): one compiles at a time. With
    `warn_each_schema` it says in one short line what each new schema's grammar does not enforce (a server);
    without, the caller sums the rows up (`unenforced_summary`).
    """

    def __init__(self, backend: GrammarBackend, bounds: Bounds, max_entries: int | None = None,
                 warn_each_schema: bool = False):
        self.backend = backend
        self.bounds = bounds
        self.max_entries = max_entries
        self.warn_each_schema = warn_each_schema
        self._cache: OrderedDict[str, RowGrammar] = OrderedDict()
        self._lock = threading.Lock()

    def for_schema(self, schema: dict | None) -> RowGrammar:
        key = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._build(schema)
                if self.max_entries is not None and len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
            self._cache.move_to_end(key)
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
            error = with_culprit(str(failure), target, self.backend)
            logger.warning(_short(f"a schema does not compile, so its rows use the generic JSON-object grammar "
                                  f"(the whole error is in grammar_error): {error}"))
            compiled, warnings = self.backend.compile(any_object_schema(self.bounds))
        unenforced += [f"{self.backend.name}: {w}" for w in warnings if not _already_listed(w, unenforced)]
        if unenforced and self.warn_each_schema:
            counts = Counter(keyword for item in unenforced for keyword in keywords_of(item))
            logger.warning(_short(f"{self.backend.name} does not enforce parts of a new schema: "
                                  f"{_counted(counts, 'place')}; answers are checked with jsonschema"))
        return RowGrammar(compiled, unenforced, error)


def keywords_of(item: str) -> set[str]:
    """The keywords an unenforced item names: 'uniqueItems at /tags: why' -> {'uniqueItems'}; a backend's
    'Unimplemented keys: ["if", "then"] (3 times)' -> {'if', 'then'}; another backend warning, cut short."""
    if " at /" in item:
        return {item.split(" at ", 1)[0]}
    keys = _unimplemented_keys(item)
    return set(keys) if keys else {_short(item, 60)}


def _unimplemented_keys(warning: str) -> list[str] | None:
    """The keys of a backend's 'Unimplemented keys: [...]' warning, or None for any other warning."""
    match = _UNIMPLEMENTED.search(warning)
    if match is None:
        return None
    try:
        keys = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return [str(key) for key in keys] if isinstance(keys, list) else None


def unenforced_summary(backend: str, rows: Iterable[list[str]]) -> str | None:
    """One short line: how many rows had which keyword unenforced (None when every grammar was whole)."""
    counts: Counter[str] = Counter()
    for items in rows:
        counts.update(set().union(*map(keywords_of, items)))
    if not counts:
        return None
    return _short(f"{backend} did not enforce {_counted(counts, 'row')}; answers are checked with jsonschema, and "
                  "each row's grammar_unenforced names the places")


def _counted(counts: Counter[str], unit: str) -> str:
    named = [f"{keyword} ({n} {unit}{'s' if n > 1 else ''})"
             for keyword, n in counts.most_common(KEYWORDS_NAMED)]
    more = len(counts) - len(named)
    return ", ".join(named) + (f" and {more} more keyword{'s' if more > 1 else ''}" if more else "")


def _short(text: str, limit: int = LOG_LINE_CHARS) -> str:
    """The text on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _already_listed(warning: str, unenforced: list[str]) -> bool:
    """Whether a backend's 'Unimplemented keys: ["a", "b"]' warning only repeats keywords the audit named
    (`then` and `else` go with a named `if`)."""
    keys = _unimplemented_keys(warning)
    if keys is None:
        return False
    named = {item.split(" at ", 1)[0] for item in unenforced}
    if "if" in named:
        named |= {"then", "else"}
    return set(keys) <= named


@dataclass
class Constraints:
    """The grammars of a list of prompts (one per prompt), for the decoding engine and HF `generate`."""

    backend: GrammarBackend
    rows: list[RowGrammar]
    vocab_size: int
    stop_token: int
    tokens: TokenTable
    bounds: Bounds

    def constraint(self, index: int) -> RowConstraint:
        """A fresh grammar state (matcher and runaway guard) for one answer to the prompt at `index`."""
        return RowConstraint(self.backend.matcher(self.rows[index].compiled), self.stop_token,
                             RunawayGuard(self.tokens, 1, self.bounds))

    def processor(self, indices: list[int]) -> GrammarLogitsProcessor:
        """A fresh logits processor for one HF `generate` batch made of the prompts at these indices."""
        return GrammarLogitsProcessor([self.constraint(i) for i in indices], self.vocab_size)


def constraints_for(model, tokenizer, schemas: list[dict | None], backend: str = DEFAULT_BACKEND,
                    bounds: Bounds | None = None, stop_token: int | None = None) -> Constraints:
    """Grammars for prompts whose records carry these schemas (None: any JSON object)."""
    bounds = bounds or Bounds()
    vocab_size = model.config.vocab_size
    stop = stop_token if stop_token is not None else tokenizer.eos_token_id
    cache = GrammarCache(backend_for(backend, tokenizer, vocab_size, stop), bounds)
    rows = [cache.for_schema(schema) for schema in schemas]
    if summary := unenforced_summary(cache.backend.name, (row.unenforced for row in rows)):
        logger.warning(summary)
    return Constraints(cache.backend, rows, vocab_size, stop, token_table(tokenizer, vocab_size), bounds)


def compile_error(schema: dict | None, tokenizer, vocab_size: int, backend: str = DEFAULT_BACKEND,
                  bounds: Bounds | None = None, stop_token: int | None = None) -> str | None:
    """Why a schema (bounded as decoding would bound it) does not compile into a grammar, else None.

    Needs the tokenizer and the model's logits width, not the model: a check to run before the weights load.
    """
    if schema is None:
        return None
    bounds = bounds or Bounds()
    stop = stop_token if stop_token is not None else tokenizer.eos_token_id
    compiler = backend_for(backend, tokenizer, vocab_size, stop)
    target = bound_schema(schema, bounds, compiler.name)
    try:
        compiler.compile(target)
    except GrammarError as failure:
        return with_culprit(str(failure), target, compiler)
    return None


def with_culprit(error: str, schema: dict, backend: GrammarBackend) -> str:
    """The backend's error, prefixed with the subschema and keyword that cause it when they can be found.

    Backends say what failed ("regex parse error: look-around not supported") but not where. The culprit is
    the deepest subschema that fails to compile on its own, and the first keyword without which it compiles. A
    subschema holding a local reference ("#/...") cannot compile alone and is not tried. The search gives up
    after `CULPRIT_COMPILES` compiles (a large schema would cost one per subschema and keyword).
    """
    budget = [CULPRIT_COMPILES]

    def compiles(node: dict) -> bool:
        if budget[0] <= 0:
            raise TimeoutError
        budget[0] -= 1
        try:
            backend.compile(node)
        except GrammarError:
            return False
        return True

    nodes = [(pointer, node) for pointer, node in subschemas(schema) if '"$ref": "#' not in json.dumps(node)]
    try:
        for pointer, node in sorted(nodes, key=lambda item: -item[0].count("/")):
            if compiles(node):
                continue
            # "type" last: without it a backend may skip the keyword at fault (a pattern needs a string)
            keywords = sorted(node, key=lambda keyword: keyword == "type")
            culprit = next((k for k in keywords if compiles({key: v for key, v in node.items() if key != k})), None)
            where = f"at {pointer or '/'}" + (f", keyword {culprit!r}" if culprit else "")
            return f"{where}: {error}"
    except TimeoutError:
        pass
    return error

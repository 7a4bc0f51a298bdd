"""The grammars of a batch of records: each record's schema compiled once, with what it cannot promise.

`constraints_for(model, tokenizer, schemas)` gives one `RowGrammar` per prompt (its schema bounded and
compiled by the chosen backend; a record without a schema, or whose schema does not compile, gets the
generic JSON-object grammar), and a fresh grammar state for each answer (`Constraints.constraint`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
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


@dataclass
class RowGrammar:
    """What constrains one row: the compiled grammar and what it cannot promise."""

    compiled: Any
    unenforced: list[str]
    error: str | None = None  # the record's schema could not be compiled; the generic grammar stood in


class GrammarCache:
    """Compiles each distinct schema once per backend and bounds; warns once per schema about its gaps.

    With `max_entries` it keeps only the most recently used grammars (a server sees schemas without end). It may
    be shared by threads (a server prepares requests in a pool): one compiles at a time.
    """

    def __init__(self, backend: GrammarBackend, bounds: Bounds, max_entries: int | None = None):
        self.backend = backend
        self.bounds = bounds
        self.max_entries = max_entries
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
            logger.warning("%s; that schema's rows use the generic JSON-object grammar", error)
            compiled, warnings = self.backend.compile(any_object_schema(self.bounds))
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
    return Constraints(cache.backend, [cache.for_schema(schema) for schema in schemas], vocab_size, stop,
                       token_table(tokenizer, vocab_size), bounds)


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

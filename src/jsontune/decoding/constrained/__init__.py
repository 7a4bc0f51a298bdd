"""Grammar-constrained decoding: each row's next token is masked by a grammar built from its JSON Schema.

- `backends`: llguidance and xgrammar behind one interface, and the keywords each leaves unenforced
- `bounds`: bounds on what a schema leaves unbounded, applied to the schema before it compiles
- `guard`: the same for digit runs and nesting, applied while decoding
- `processor`: the token bitmask, one row's grammar state, the masking of a batch (and its HF logits processor)
- `grammars`: the grammars of a batch of records (`constraints_for`), compiled once per schema

The names below are importable from this package; they load on first use (the backends need torch).
"""

_EXPORTS = {
    "GrammarError": "jsontune.decoding.constrained.backends",
    "Bounds": "jsontune.decoding.constrained.bounds",
    "Constraints": "jsontune.decoding.constrained.grammars",
    "compile_error": "jsontune.decoding.constrained.grammars",
    "constraints_for": "jsontune.decoding.constrained.grammars",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

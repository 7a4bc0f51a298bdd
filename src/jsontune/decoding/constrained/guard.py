"""The runaway guard: bounds on digit runs and nesting depth, applied while decoding.

A grammar cannot count digits in a row or open brackets cheaply, so the guard follows the JSON each row
has written (what each token writes, from a `TokenTable`) and rules out the tokens that would break
`Bounds.max_digit_run` or `Bounds.max_depth`, whenever the grammar allows anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from jsontune.decoding.constrained.bounds import Bounds


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
    opens = {start: torch.tensor([follow_json(t, start, False)[3] > 0 for t in texts]) for start in (False, True)}
    return TokenTable(texts, digits, opens[False], opens[True])


def follow_json(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool, int, int]:
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
        state = follow_json(text, self._in_string[row], self._escaped[row])
        self._in_string[row], self._escaped[row], change, _ = state
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

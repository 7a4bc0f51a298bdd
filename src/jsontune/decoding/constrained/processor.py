"""Masking logits with grammars: the token bitmask both backends fill, one row's grammar state, and the masking of
a batch of rows, for the decoding engine and (as a logits processor) for HF `generate`."""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from jsontune.decoding.constrained.backends import Matcher
from jsontune.decoding.constrained.guard import RunawayGuard

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


class RowConstraint:
    """One row's grammar matcher and runaway guard, from its first token to the stop token.

    `consume` advances both with the token chosen; once the stop token (which the grammar allows only when
    the JSON is complete) is consumed, the row is `done` and no longer masked.
    """

    def __init__(self, matcher: Matcher, stop_token: int, guard: RunawayGuard | None = None):
        self.matcher = matcher
        self.stop_token = stop_token
        self.guard = guard
        self.done = False

    def consume(self, token: int) -> None:
        if not self.matcher.consume(token):
            raise RuntimeError(f"token {token} broke the row's grammar (a masking bug)")
        self.done = token == self.stop_token
        if self.guard is not None:
            self.guard.observe(0, token)


def mask_scores(scores: torch.Tensor, rows: list[RowConstraint | None], bitmask: torch.Tensor) -> None:
    """Mask row i of `scores` (rows, vocab) by rows[i], in place; a row that is None or done is left alone.

    `bitmask` is scratch space of at least len(rows) rows (`allocate_bitmask`).
    """
    for i, row in enumerate(rows):
        if row is None or row.done:
            bitmask[i] = -1
        else:
            row.matcher.fill_mask(bitmask, i)
    allowed = allowed_tokens(bitmask[: len(rows)], scores.shape[-1])
    for i, row in enumerate(rows):
        if row is not None and not row.done and row.guard is not None:
            row.guard.restrict(allowed[i:i + 1], [True])
    scores.masked_fill_(~allowed.to(scores.device), float("-inf"))


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks each row's logits with its own `RowConstraint`, for one HF `generate` call on left-padded rows.

    Rows finish independently: a row that has produced the stop token is left alone; the generator pads it.
    """

    def __init__(self, rows: list[RowConstraint], vocab_size: int):
        self.rows = rows
        self.bitmask = allocate_bitmask(len(rows), vocab_size)
        self._started = False

    @property
    def done(self) -> list[bool]:
        return [row.done for row in self.rows]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self.rows):
            raise ValueError(f"{input_ids.shape[0]} rows in the batch but {len(self.rows)} grammars")
        if self._started:
            for row, token in zip(self.rows, input_ids[:, -1].tolist()):
                if not row.done:
                    row.consume(token)
        self._started = True
        mask_scores(scores, self.rows, self.bitmask)
        return scores

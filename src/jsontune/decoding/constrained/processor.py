"""Masking logits with grammars: the token bitmask both backends fill, and the logits processor of a batch."""

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

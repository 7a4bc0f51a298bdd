"""A key/value cache of fixed slots, each row with its own length: what lets rows join and leave a running batch.

HF's caches give every row of a batch the same length (short rows are left-padded), so a batch can only grow
or shrink by copying the whole cache. Here each row owns a slot of `capacity` positions and its own length;
a row is written at its own next position, and attends to its own prefix through a 4D mask the engine builds.
The active rows always sit in the first slots (a leaving row's slot is filled with the last active row), so
a decoding step reads a plain slice of each layer's tensors.

It implements the one method a transformers attention layer calls, `update(keys, values, layer_idx)` (which
models the engine takes: `jsontune.decoding.engine`); the tensors are allocated at the first update, from the
shapes the model itself produces (heads, head size, dtype).
"""

from __future__ import annotations

import torch


class SlotCache:
    """`slots` rows of at most `capacity` positions; `prepare` says which rows the next forward writes, and where."""

    def __init__(self, slots: int, capacity: int):
        self.slots = slots
        self.capacity = capacity
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self._first = 0  # the next forward covers slots [first, first + rows)
        self._rows = 0
        self._positions: torch.Tensor | None = None  # (rows,) where each row's single new token goes
        self._start = 0  # or, for a prefill of one row: its tokens go at [start, start + length)
        self._width = 0  # positions the forward attends to (the longest row after the write)

    def prepare_decode(self, rows: int, lengths: torch.Tensor) -> None:
        """The next forward writes one token for each of the first `rows` slots, at its length."""
        self._first, self._rows, self._positions = 0, rows, lengths
        self._width = int(lengths.max()) + 1

    def prepare_prefill(self, slot: int, start: int, length: int) -> None:
        """The next forward writes `length` tokens of one row into `slot`, from position `start`."""
        if start + length > self.capacity:
            raise ValueError(f"{start + length} positions do not fit a slot of {self.capacity}")
        self._first, self._rows, self._positions = slot, 1, None
        self._start, self._width = start, start + length

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args, **kwargs):
        """Store the new keys/values (rows, heads, tokens, head size); return what the rows attend to."""
        if layer_idx == len(self.keys):
            shape = (self.slots, key_states.shape[1], self.capacity, key_states.shape[3])
            self.keys.append(torch.zeros(shape, dtype=key_states.dtype, device=key_states.device))
            self.values.append(torch.zeros(shape, dtype=value_states.dtype, device=value_states.device))
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        first, last = self._first, self._first + self._rows
        if self._positions is None:
            keys[first, :, self._start:self._width] = key_states[0]
            values[first, :, self._start:self._width] = value_states[0]
        else:
            rows = torch.arange(first, last, device=keys.device)
            keys[rows, :, self._positions] = key_states[:, :, 0]
            values[rows, :, self._positions] = value_states[:, :, 0]
        return keys[first:last, :, :self._width], values[first:last, :, :self._width]

    def move(self, source: int, target: int, length: int) -> None:
        """Copy the first `length` positions of slot `source` into slot `target`."""
        for keys, values in zip(self.keys, self.values):
            keys[target, :, :length] = keys[source, :, :length]
            values[target, :, :length] = values[source, :, :length]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self._width

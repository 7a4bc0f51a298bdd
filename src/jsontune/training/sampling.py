"""Length-bucketed batches: little padding, and batches still in random order.

transformers' `group_by_length` sorts mega-batches of up to 50 batches, so a short run walks from
the longest rows to the shortest (here: all the long synthetic records, then all the short slot-filling
queries). We sort only within a small window of random rows and then shuffle the batches, which keeps most of the
padding saving without ordering the epoch by length.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler


class LengthBucketSampler(Sampler[int]):
    """Yield indices so that each run of `batch_size` consecutive indices is one batch of similar lengths.

    Per epoch: shuffle all rows, cut them into windows of `window` batches, sort each window by length,
    cut it into batches, and shuffle the order of all batches. Seeded: the same seed and epoch give
    the same order.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, window: int = 4, seed: int = 0):
        if batch_size < 1 or window < 1:
            raise ValueError("batch_size and window must be positive")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.window = window
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.lengths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        span = self.batch_size * self.window
        batches = []
        for start in range(0, len(order), span):
            window = sorted(order[start:start + span], key=lambda i: self.lengths[i], reverse=True)
            batches += [window[i:i + self.batch_size] for i in range(0, len(window), self.batch_size)]
        # A short batch (the dataset's remainder) goes last, so every other batch stays aligned.
        full = [b for b in batches if len(b) == self.batch_size]
        rng.shuffle(full)
        return full + [b for b in batches if len(b) < self.batch_size]

    def __iter__(self) -> Iterator[int]:
        batches = self.batches()
        self.epoch += 1  # a Trainer that never calls set_epoch still gets a new order each epoch
        return (index for batch in batches for index in batch)

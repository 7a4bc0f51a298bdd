"""Length-bucketed batches: every row once per epoch, little padding, no global length order."""

from __future__ import annotations

import random

from jsontune.training.sampling import LengthBucketSampler


def _padding(batches: list[list[int]], lengths: list[int]) -> int:
    return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)


def test_batches_cover_every_row_once_with_less_padding_in_random_order():
    rng = random.Random(0)
    lengths = [rng.choice([rng.randint(40, 70), rng.randint(90, 140)]) for _ in range(203)]
    sampler = LengthBucketSampler(lengths, batch_size=8, window=4, seed=1)
    indices = list(sampler)
    assert sorted(indices) == list(range(203))
    batches = [indices[i:i + 8] for i in range(0, len(indices), 8)]
    assert [list(b) for b in LengthBucketSampler(lengths, 8, 4, seed=1).batches()] == batches
    random_order = list(range(203))
    rng.shuffle(random_order)
    random_batches = [random_order[i:i + 8] for i in range(0, 203, 8)]
    assert _padding(batches, lengths) < 0.6 * _padding(random_batches, lengths)
    batch_max = [max(lengths[i] for i in b) for b in batches]
    assert batch_max != sorted(batch_max, reverse=True) and batch_max != sorted(batch_max)
    assert len(batches[-1]) == 203 % 8  # the short remainder batch comes last


def test_seed_and_epoch_change_the_order():
    lengths = list(range(64))
    a = LengthBucketSampler(lengths, 4, 2, seed=0)
    first, second = list(a), list(a)
    assert first != second  # a new epoch, a new order
    b = LengthBucketSampler(lengths, 4, 2, seed=0)
    b.set_epoch(1)
    assert list(b) == second
    assert list(LengthBucketSampler(lengths, 4, 2, seed=5)) != first

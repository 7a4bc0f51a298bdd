"""Slot-filling figures: intent accuracy and slot precision, recall and F1, by two protocols.

A slot record's reference is exactly `{"intent": str, "slots": {name: str | [str, ...]}}`. Per row, the
counts give each slot's true positives, false positives and false negatives, in one of two ways:

- `slot_counts`, ours: every query's slots are scored under its reference intent, whatever intent was
  predicted, values compared case-folded with whitespace collapsed, as multisets. A misclassified query
  costs its slots.
- `published_slot_counts`: as snips-nlu-metrics counts a query (`compute_utterance_metrics`), the tool of
  the published NLU benchmark. A query whose predicted intent is wrong is not scored for slots at all,
  values must be equal as written, and a value matches if any value of the same slot on the other side
  equals it.

Over a set of rows, `SlotProtocol` turns either kind of counts into the corpus figures (per intent and
slot, then weighted by occurrence, then the mean over intents), vectorised over bootstrap resamples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from jsontune.evaluation.normalise import normalise_leaf

# The published protocol's figures carry this suffix: slot_f1 is ours, slot_f1_published the tool's.
PUBLISHED_SUFFIX = "_published"
SLOT_FIGURES: tuple[str, ...] = ("slot_precision", "slot_recall", "slot_f1")
SLOT_METRIC_NAMES: tuple[str, ...] = (*SLOT_FIGURES, *(f"{name}{PUBLISHED_SUFFIX}" for name in SLOT_FIGURES),
                                      "intent_accuracy")


def is_slot_record(reference: Any) -> bool:
    """A SNIPS-style reference: exactly {"intent": str, "slots": {name: str | [str, ...]}}."""
    if not isinstance(reference, dict) or set(reference) != {"intent", "slots"}:
        return False
    if not isinstance(reference["intent"], str) or not isinstance(reference["slots"], dict):
        return False
    return all(isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
               for v in reference["slots"].values())


def _slot_pairs(slots: dict) -> tuple[Counter, Counter]:
    """(slot, normalised value) pairs, and per slot the number of values that are not strings."""
    pairs: Counter = Counter()
    invalid: Counter = Counter()
    for name, value in slots.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                pairs[(name, normalise_leaf(item))] += 1
            else:
                invalid[name] += 1
    return pairs, invalid


def slot_counts(prediction: Any, reference: Any) -> dict[str, list[int]]:
    """{slot: [tp, fp, fn]} of the predicted (slot, value) pairs against the reference's.

    Values of a list count once each; values match case-folded with whitespace collapsed, as multisets.
    Predictions come from `prediction["slots"]` when it is an object (a value that is not a string counts
    as one false positive); otherwise nothing is predicted and every reference pair is a false negative.
    """
    expected, _ = _slot_pairs(reference["slots"])
    predicted: Counter = Counter()
    invalid: Counter = Counter()
    if isinstance(prediction, dict) and isinstance(prediction.get("slots"), dict):
        predicted, invalid = _slot_pairs(prediction["slots"])
    shared = predicted & expected
    counts: dict[str, list[int]] = {}
    for (name, _value), n in expected.items():
        counts.setdefault(name, [0, 0, 0])[2] += n
    for (name, _value), n in predicted.items():
        counts.setdefault(name, [0, 0, 0])[1] += n
    for (name, _value), n in shared.items():
        counts[name][0] += n
        counts[name][1] -= n
        counts[name][2] -= n
    for name, n in invalid.items():
        counts.setdefault(name, [0, 0, 0])[1] += n
    return {name: counts[name] for name in sorted(counts)}


def published_slot_counts(prediction: Any, reference: Any) -> dict[str, list[int]]:
    """{slot: [tp, fp, fn]} of one query as snips-nlu-metrics counts it.

    The tool compares slots only when the predicted intent is the reference's: otherwise (or when the answer
    has no intent) it returns before looking at them, so the query adds nothing to any slot ({}). Then each
    reference value is a true positive if the prediction gives the same slot that exact value (the tool's
    default `exact_match`: no case folding), else a false negative; each predicted value is a false positive
    if no reference value of its slot equals it. Matching is by existence, not as multisets: a value given
    twice on one side and once on the other matches twice. A predicted value that is not a string (null
    included) matches nothing: a false positive.
    """
    if not isinstance(prediction, dict) or prediction.get("intent") != reference["intent"]:
        return {}
    predicted = prediction.get("slots") if isinstance(prediction.get("slots"), dict) else {}
    expected = {name: _as_list(value) for name, value in reference["slots"].items()}
    counts: dict[str, list[int]] = {}
    for name, values in expected.items():
        given = _as_list(predicted.get(name, []))
        for value in values:
            counts.setdefault(name, [0, 0, 0])[0 if value in given else 2] += 1
    for name, value in predicted.items():
        for item in _as_list(value):
            if not (isinstance(item, str) and item in expected.get(name, [])):
                counts.setdefault(name, [0, 0, 0])[1] += 1
    return {name: counts[name] for name in sorted(counts)}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def micro_f1(counts: dict[str, list[int]]) -> float:
    """One row's slot F1 over all its slots' counts (1 when neither side has a slot)."""
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


class SlotProtocol:
    """The published SNIPS slot metrics over a set of slot rows, vectorised over bootstrap resamples.

    Per reference intent and slot: P = tp/(tp+fp), R = tp/(tp+fn) (0 when tp = 0, as snips-nlu-metrics
    does), F1; an intent's figure is the mean over its slots weighted by reference occurrences (tp+fn);
    the corpus figure is the unweighted mean over intents with at least one reference occurrence (NaN
    when there is none).
    """

    def __init__(self, intents: Sequence[str], counts: Sequence[dict[str, list[int]]]):
        keys = sorted({(intent, slot) for intent, row in zip(intents, counts, strict=True) for slot in row})
        column = {key: i for i, key in enumerate(keys)}
        groups = sorted({intent for intent, _ in keys})
        self.rows = len(counts)
        self.table = np.zeros((self.rows, len(keys), 3))
        for r, (intent, row) in enumerate(zip(intents, counts, strict=True)):
            for slot, triple in row.items():
                self.table[r, column[(intent, slot)]] = triple
        self.table = self.table.reshape(self.rows, -1)
        self.group = np.zeros((len(keys), max(len(groups), 1)))
        for k, (intent, _) in enumerate(keys):
            self.group[k, groups.index(intent)] = 1.0

    def __call__(self, index: np.ndarray, axis: int = -1) -> np.ndarray:
        """(precision, recall, f1) for each resample of row indices (shape (..., rows))."""
        index = np.moveaxis(np.asarray(index, dtype=np.intp), axis, -1)
        batch_shape = index.shape[:-1]
        index = index.reshape(-1, index.shape[-1])
        batch = index.shape[0]
        # Row multiplicities of each resample, so a resample's totals are one matrix product.
        offsets = index + self.rows * np.arange(batch)[:, None]
        weight = np.bincount(offsets.ravel(), minlength=batch * self.rows).reshape(batch, self.rows)
        totals = (weight @ self.table).reshape(batch, -1, 3)
        tp, fp, fn = totals[..., 0], totals[..., 1], totals[..., 2]
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp > 0)
        recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=tp > 0)
        f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=tp > 0)
        occurrences = tp + fn
        per_intent_weight = occurrences @ self.group
        present = per_intent_weight > 0
        n_present = present.sum(axis=1)
        result = []
        for figure in (precision, recall, f1):
            per_intent = np.divide((occurrences * figure) @ self.group, per_intent_weight,
                                   out=np.zeros_like(per_intent_weight), where=present)
            mean = np.divide(per_intent.sum(axis=1), n_present, out=np.full(batch, np.nan), where=n_present > 0)
            result.append(mean)
        return np.stack(result).reshape(3, *batch_shape)

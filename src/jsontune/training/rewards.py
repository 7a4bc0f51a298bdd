"""JSON rewards for GRPO: plain functions of a batch of completions and their rows, built on the benchmark's
metric (`jsontune.evaluation.metrics.row_metrics`), so that what is rewarded is what is scored.

Each takes TRL's reward-function arguments: `completions` (the texts), `completion_ids`, and the rows' own
columns, here `reference` and `schema` as JSON text (a table would fill nested values with nulls). Each returns
one float per completion, or None where it does not apply (`slot_f1` on a row without slots), which TRL
leaves out of that row's weighted sum.

- `strict_json`: 1 when the text is exactly one JSON value, else 0;
- `schema_valid`: 1 when the (repaired) answer follows the row's schema, else 0;
- `field_f1`: the answer's field F1 against the reference (0 when it does not parse);
- `slot_f1`: the slot F1 of a slot-filling row;
- `length_stop`: 1 for an answer that ended with the end-of-turn token, less the share of the budget it
  spent times `LENGTH_PENALTY`; 0 for one the budget cut off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jsontune.decoding.repair import parse_strict
from jsontune.evaluation.metrics import row_metrics
from jsontune.evaluation.slot_metrics import is_slot_record

LENGTH_PENALTY = 0.5


@lru_cache(maxsize=4096)
def _metrics(text: str, reference: str, schema: str | None) -> dict[str, Any]:
    """Row metrics of one completion, computed once for all the rewards of a step."""
    return row_metrics(text, json.loads(reference), json.loads(schema) if schema else None)


def _each(completions: list, reference: list[str], schema: list | None, key: str) -> list[float]:
    schemas = schema or [None] * len(completions)
    return [float(_metrics(_text(c), r, s)[key]) for c, r, s in zip(completions, reference, schemas)]


def _text(completion: Any) -> str:
    """The text of a completion, plain or conversational (a list with the assistant's message)."""
    if isinstance(completion, list):
        return "".join(message.get("content", "") for message in completion)
    return completion


def strict_json(completions: list, **_) -> list[float]:
    return [1.0 if parse_strict(_text(c))[0] else 0.0 for c in completions]


def schema_valid(completions: list, reference: list[str], schema: list | None = None, **_) -> list[float]:
    return _each(completions, reference, schema, "schema_valid")


def field_f1(completions: list, reference: list[str], schema: list | None = None, **_) -> list[float]:
    return _each(completions, reference, schema, "field_f1")


def slot_f1(completions: list, reference: list[str], schema: list | None = None, **_) -> list[float | None]:
    schemas = schema or [None] * len(completions)
    return [float(_metrics(_text(c), r, s)["slot_f1"]) if is_slot_record(json.loads(r)) else None
            for c, r, s in zip(completions, reference, schemas)]


def length_stop_reward(stop_token: int, budget: int) -> Callable[..., list[float]]:
    """The `length_stop` reward for this end-of-turn token and completion budget."""

    def length_stop(completions: list, completion_ids: list[list[int]], **_) -> list[float]:
        return [max(0.0, 1.0 - LENGTH_PENALTY * len(ids) / budget) if ids and ids[-1] == stop_token else 0.0
                for ids in completion_ids]

    return length_stop


REWARDS = ("strict_json", "schema_valid", "field_f1", "slot_f1", "length_stop")


def reward_functions(names: list[str], stop_token: int, budget: int) -> list[Callable]:
    """The reward functions a recipe names, in its order (TRL logs each under its name)."""
    unknown = [name for name in names if name not in REWARDS]
    if unknown:
        raise ValueError(f"no reward named {', '.join(map(repr, unknown))}; jsontune has {', '.join(REWARDS)}")
    table = {"strict_json": strict_json, "schema_valid": schema_valid, "field_f1": field_f1, "slot_f1": slot_f1,
             "length_stop": length_stop_reward(stop_token, budget)}
    return [table[name] for name in names]

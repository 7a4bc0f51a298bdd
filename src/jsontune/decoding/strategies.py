"""Decoding strategies: greedy, progressive sampling (greedy first, then retries when invalid), and
grammar-constrained greedy decoding.

Progressive sampling answers every prompt greedily; a row whose answer is not valid JSON (or, when
the record carries a JSON Schema, does not follow it) is asked again with sampling at the next
temperature of a rising schedule, up to `max_attempts` answers in all. Validity never looks at the
reference answer: a user at inference time has the schema at most, so retries may use no more.
Every attempt is kept, so the greedy result is always the first attempt of a progressive run. All rows
decode together on the decoding engine (`jsontune.decoding.engine`): a retry is asked as soon as its
row's answer is found invalid, from the prompt's kept logits, while the other rows go on.

Constrained decoding answers once, greedily, with every token masked by a grammar compiled from the
record's schema (`jsontune.decoding.constrained`). Its answer is valid only when it is complete: one cut off by
the token budget is never repaired.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal

from jsontune.data.prompting import end_of_turn_id
from jsontune.data.schemas import validator
from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.constrained.grammars import constraints_for
from jsontune.decoding.defaults import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TEMPERATURES,
)
from jsontune.decoding.engine import Engine, Generation, Request, Sampling
from jsontune.decoding.repair import recover_json
from jsontune.errors import JsontuneError

MODES = ("greedy", "progressive", "constrained")
BOUND_NAMES = ("max_string_length", "max_items", "max_digit_run", "max_depth")
CUT_OFF = "cut off by the token budget before the JSON was complete"


@dataclass(frozen=True)
class DecodingConfig:
    """How answers are generated. `max_attempts` counts the greedy one (default: 1 + the schedule).

    The constrained mode uses `backend` and bounds what the schema leaves unbounded: strings to
    `max_string_length` characters, arrays to `max_items` items, runs of digits to `max_digit_run`,
    nesting to `max_depth` (None: unbounded), and objects that list their properties to those properties
    unless `open_objects` (see `jsontune.decoding.constrained.Bounds`).
    """

    mode: Literal["greedy", "progressive", "constrained"] = "greedy"
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES
    max_attempts: int | None = None
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    max_string_length: int | None = Bounds.max_string_length
    max_items: int | None = Bounds.max_items
    max_digit_run: int | None = Bounds.max_digit_run
    max_depth: int | None = Bounds.max_depth
    open_objects: bool = not Bounds.close_objects

    def __post_init__(self):
        if self.mode not in MODES:
            raise JsontuneError(f"decoding mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.backend not in BACKENDS:
            raise JsontuneError(f"grammar backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        for name in BOUND_NAMES:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise JsontuneError(f"{name} must be at least 1 (or None: unbounded), not {value}")
        if any(t <= 0 for t in self.temperatures):
            raise JsontuneError(f"sampling temperatures must be positive: {list(self.temperatures)}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise JsontuneError(f"max_attempts must be at least 1, not {self.max_attempts}")

    def schedule(self) -> list[float | None]:
        """The temperature of each attempt; None is greedy."""
        if self.mode != "progressive":
            return [None]
        attempts = [None, *self.temperatures]
        return attempts[: self.max_attempts] if self.max_attempts else attempts

    def describe(self) -> dict[str, Any]:
        described = {**asdict(self), "temperatures": list(self.temperatures), "schedule": self.schedule()}
        if self.mode != "constrained":
            for name in ("backend", *BOUND_NAMES, "open_objects"):
                described.pop(name)
        return described

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.max_string_length, self.max_items, self.max_digit_run, self.max_depth,
                      close_objects=not self.open_objects)


@dataclass
class Attempt:
    text: str
    new_tokens: int
    latency_s: float
    finished: bool
    temperature: float | None  # None: greedy
    valid: bool = field(default=False)
    constrained: bool = False
    grammar_unenforced: list[str] = field(default_factory=list)  # schema keywords the grammar ignored
    grammar_error: str | None = None  # the schema did not compile; a generic JSON grammar stood in

    @property
    def cut_off(self) -> bool:
        """A constrained answer the token budget stopped before its JSON was complete (never repaired)."""
        return self.constrained and not self.finished


def is_valid_answer(text: str, schema: dict | None) -> bool:
    """The answer yields JSON (after cleaning) and, when a schema is given, follows it."""
    recovery = recover_json(text)
    if not recovery.ok:
        return False
    return schema is None or bool(validator(schema).is_valid(recovery.value))


def attempt_seed(seed: int, attempt: int, row: int) -> int:
    """The sampling seed of one row's attempt: each answer reproducible, whichever rows share its batch."""
    return hash((seed, attempt, row)) & 0xFFFF_FFFF_FFFF


def decode(model, tokenizer, prompts: list[list[int]], schemas: list[dict | None], config: DecodingConfig,
           max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, batch_size: int = DEFAULT_BATCH_SIZE, desc: str = "generating",
           progress: bool = True) -> list[list[Attempt]]:
    """Every attempt made for each prompt, in order; the last one is the answer."""
    stop = end_of_turn_id(tokenizer)
    engine = Engine(model, tokenizer, stop, max_batch_size=batch_size)
    if config.mode == "constrained":
        return _decode_constrained(engine, model, tokenizer, prompts, schemas, config, max_new_tokens, desc, progress)
    schedule = config.schedule()
    valid: list[list[bool]] = [[] for _ in prompts]

    def retry(row: int, answer: Generation) -> Sampling | None:
        valid[row].append(is_valid_answer(answer.text, schemas[row]))
        attempt = len(valid[row])
        if valid[row][-1] or attempt == len(schedule):
            return None
        return Sampling(schedule[attempt], attempt_seed(config.seed, attempt, row))

    requests = [Request(prompt, max_new_tokens, retry=partial(retry, row)) for row, prompt in enumerate(prompts)]
    label = desc if len(schedule) == 1 else f"{desc} (progressive: up to {len(schedule)} attempts)"
    answers = engine.run(requests, progress=progress, desc=label)
    return [
        [Attempt(answer.text, answer.new_tokens, answer.latency_s, answer.finished, temperature, ok)
         for answer, temperature, ok in zip(tries, schedule, row_valid)]
        for tries, row_valid in zip(answers, valid)
    ]


def _decode_constrained(engine, model, tokenizer, prompts, schemas, config, max_new_tokens, desc,
                        progress) -> list[list[Attempt]]:
    constraints = constraints_for(model, tokenizer, schemas, config.backend, config.bounds,
                                  stop_token=engine.stop_token)
    requests = [Request(prompt, max_new_tokens, constraint=partial(constraints.constraint, row))
                for row, prompt in enumerate(prompts)]
    answers = engine.run(requests, progress=progress, desc=f"{desc} (constrained, {config.backend})")
    return [
        [Attempt(answer.text, answer.new_tokens, answer.latency_s, answer.finished, None,
                 valid=answer.finished and is_valid_answer(answer.text, schema), constrained=True,
                 grammar_unenforced=grammar.unenforced, grammar_error=grammar.error)]
        for [answer], schema, grammar in zip(answers, schemas, constraints.rows)
    ]

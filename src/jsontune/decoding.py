"""Decoding strategies: greedy, and progressive sampling (greedy first, then retries when invalid).

Progressive sampling answers every prompt greedily; a row whose answer is not valid JSON (or, when
the record carries a JSON Schema, does not follow it) is asked again with sampling at the next
temperature of a rising schedule, up to `max_attempts` answers in all. Validity never looks at the
reference answer: a user at inference time has the schema at most, so retries may use no more.
Every attempt is kept, so the greedy result is always the first attempt of a progressive run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from jsontune.generation import generate
from jsontune.metrics import schema_valid
from jsontune.repair import recover_json

DEFAULT_TEMPERATURES = (0.3, 0.6, 0.9)


@dataclass(frozen=True)
class DecodingConfig:
    """How answers are generated. `max_attempts` counts the greedy one (default: 1 + the schedule)."""

    mode: Literal["greedy", "progressive"] = "greedy"
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES
    max_attempts: int | None = None
    seed: int = 0

    def __post_init__(self):
        if self.mode not in ("greedy", "progressive"):
            raise ValueError(f"decoding mode must be 'greedy' or 'progressive', not {self.mode!r}")
        if any(t <= 0 for t in self.temperatures):
            raise ValueError(f"sampling temperatures must be positive: {list(self.temperatures)}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")

    def schedule(self) -> list[float | None]:
        """The temperature of each attempt; None is greedy."""
        if self.mode == "greedy":
            return [None]
        attempts = [None, *self.temperatures]
        return attempts[: self.max_attempts] if self.max_attempts else attempts

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "temperatures": list(self.temperatures), "schedule": self.schedule()}


@dataclass
class Attempt:
    text: str
    new_tokens: int
    latency_s: float
    finished: bool
    temperature: float | None  # None: greedy
    valid: bool = field(default=False)


def is_valid_answer(text: str, schema: dict | None) -> bool:
    """The answer yields JSON (after cleaning) and, when a schema is given, follows it."""
    recovery = recover_json(text)
    if not recovery.ok:
        return False
    return schema is None or schema_valid(recovery.value, schema, reference=None)


def decode(model, tokenizer, prompts: list[list[int]], schemas: list[dict | None], config: DecodingConfig,
           max_new_tokens: int = 192, batch_size: int = 16, desc: str = "generating",
           progress: bool = True) -> list[list[Attempt]]:
    """Every attempt made for each prompt, in order; the last one is the answer."""
    attempts: list[list[Attempt]] = [[] for _ in prompts]
    pending = list(range(len(prompts)))
    for number, temperature in enumerate(config.schedule()):
        if not pending:
            break
        label = desc if number == 0 else f"{desc}: retry {number} at T={temperature} ({len(pending)} rows)"
        answers = generate(model, tokenizer, [prompts[i] for i in pending], max_new_tokens=max_new_tokens,
                           batch_size=batch_size, progress=progress, desc=label, temperature=temperature,
                           seed=config.seed + number)
        for i, answer in zip(pending, answers):
            attempts[i].append(Attempt(answer.text, answer.new_tokens, answer.latency_s, answer.finished,
                                       temperature, is_valid_answer(answer.text, schemas[i])))
        pending = [i for i in pending if not attempts[i][-1].valid]
    return attempts

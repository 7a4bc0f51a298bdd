"""Decoding speed: the time per step of unconstrained and grammar-constrained generation, side by side.

A step timer (a logits processor that runs first) stamps every decoding step, so a step's time holds
the model's forward pass, the grammar's masking and the choice of the token. Both modes run on the
same prompts at the same batch size, alternately, several times; each run is compared over the same
step indices (the first K steps that both ran), so that a mode whose rows stop early gains nothing.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from transformers import LogitsProcessor

from jsontune.data.prompting import end_of_turn_id
from jsontune.decoding.constrained.grammars import constraints_for
from jsontune.decoding.defaults import DEFAULT_BACKEND
from jsontune.decoding.generate import generate


class StepTimer(LogitsProcessor):
    """Stamps the time of every decoding step; the gaps between stamps are the steps' durations."""

    def __init__(self):
        self.stamps: list[float] = []

    def __call__(self, input_ids, scores):
        self.stamps.append(time.perf_counter())
        return scores

    def step_times(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]


@dataclass
class StepTiming:
    batch_size: int
    steps: int  # steps compared: the first `steps` of every run, in both modes
    unconstrained_s: float  # median over repeats of the mean step time
    constrained_s: float

    @property
    def overhead(self) -> float:
        return self.constrained_s / self.unconstrained_s - 1

    @property
    def tokens_per_second(self) -> float:
        """Unconstrained: tokens generated per second, all rows together."""
        return self.batch_size / self.unconstrained_s


def time_steps(model, tokenizer, prompts: list[list[int]], schemas: list[dict | None], steps: int, repeats: int,
               backend: str = DEFAULT_BACKEND) -> StepTiming:
    """Median step times of both modes for one batch of prompts (one row per prompt)."""
    constraints = constraints_for(model, tokenizer, schemas, backend, stop_token=end_of_turn_id(tokenizer))
    runs: dict[str, list[list[float]]] = {"unconstrained": [], "constrained": []}
    for warm_up in (None, constraints):  # the first call of each mode pays one-time setup
        generate(model, tokenizer, prompts, max_new_tokens=4, batch_size=len(prompts), progress=False,
                 constraints=warm_up)
    for repeat in range(repeats):
        for mode in (list(runs) if repeat % 2 == 0 else list(runs)[::-1]):  # ABBA: neither mode always goes first
            timer = StepTimer()
            generate(model, tokenizer, prompts, max_new_tokens=steps + 1, batch_size=len(prompts), progress=False,
                     constraints=constraints if mode == "constrained" else None, processors=[timer])
            runs[mode].append(timer.step_times())
    common = min(len(times) for mode_runs in runs.values() for times in mode_runs)
    if common < 1:
        raise RuntimeError("a run stopped after its first step: nothing to compare; use other prompts")
    median = {mode: statistics.median(sum(t[:common]) / common for t in mode_runs) for mode, mode_runs in runs.items()}
    return StepTiming(len(prompts), common, median["unconstrained"], median["constrained"])


def format_table(timings: list[StepTiming], backend: str) -> str:
    lines = [f"{'batch':>5}  {'steps':>5}  {'unconstrained ms/step':>21}  {'constrained ms/step':>19}  "
             f"{'overhead':>8}  {'tokens/s':>8}"]
    for t in timings:
        lines.append(f"{t.batch_size:>5}  {t.steps:>5}  {t.unconstrained_s * 1000:>21.1f}  "
                     f"{t.constrained_s * 1000:>19.1f}  {t.overhead:>+8.1%}  {t.tokens_per_second:>8.1f}")
    lines.append(f"(constrained: {backend}; tokens/s: unconstrained, all rows of the batch together)")
    return "\n".join(lines)

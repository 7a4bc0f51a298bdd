"""A wall-clock budget for training: stop after the optimizer step that reaches it.

`jsontune.max_train_seconds` bounds the time `trainer.train()` spends, counted from the first step's start
(model loading and data preparation are outside it, as they are outside `train_runtime`). It exists so
that two methods can be given the same time, the fair way to compare them (the experiment's
`--with-grpo` gives "more SFT" exactly the time of SFT plus GRPO). The run is stopped, not killed: the
model, the recipe and the figures are saved as after any run, and `stopped_by_time_budget` says so.

In a distributed run every rank must stop at the same step, or the others wait forever in the next
collective: the ranks take the largest elapsed time among them (one all-reduce per step).
"""

from __future__ import annotations

import logging
import time

import torch
from transformers import TrainerCallback

logger = logging.getLogger(__name__)


class TimeBudgetCallback(TrainerCallback):
    """Sets `should_training_stop` at the end of the first step after `seconds` of training."""

    def __init__(self, seconds: float):
        if seconds <= 0:
            raise ValueError(f"a time budget must be positive, not {seconds}")
        self.seconds = seconds
        self.started: float | None = None
        self.stopped_at_step: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        elapsed = time.perf_counter() - self.started
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            device = next(model.parameters()).device if model is not None else "cpu"
            shared = torch.tensor([elapsed], dtype=torch.float64, device=device)
            torch.distributed.all_reduce(shared, op=torch.distributed.ReduceOp.MAX)
            elapsed = float(shared.item())
        if elapsed >= self.seconds and not control.should_training_stop:
            control.should_training_stop = True
            self.stopped_at_step = state.global_step
            logger.info("time budget of %.0f s reached after %d steps (%.0f s): stopping", self.seconds,
                        state.global_step, elapsed)
        return control

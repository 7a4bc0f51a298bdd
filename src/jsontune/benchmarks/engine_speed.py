"""Decoding throughput: the decoding engine beside the path it replaced, on the same prompts, in one run.

The path it replaced is HF `generate` over length-sorted, left-padded batches of 16, a LoRA adapter applied
unmerged: a batch runs until its longest answer. The engine (`jsontune.decoding.engine`) keeps its batch
full and decodes a merged model. Both answer the same real prompts (a spread over the embedded data, the
schema in the prompt as the LoRA recipe renders it: mixed prompt and answer lengths), greedy and under a
grammar. The model is a LoRA model: a trained adapter when one is given, else a fresh adapter of the
LoRA recipe's shape on the embedded model (zero-initialised, so its answers are the base model's; its
extra matmuls cost what a trained one's do). The engine also runs the adapter unmerged, so that what
merging buys is shown apart from what the scheduling buys.

Figures per run: generated tokens/s (all rows together, prefill included in the time), ms per decoding
step, the share of the compute limit (the matmul peak measured on the spot over 2 FLOPs per matmul
parameter and token), and whether every answer is the same as the old path's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jsontune.benchmarks.compute_limit import matmul_parameters, matmul_peak_flops
from jsontune.data.prompting import end_of_turn_id
from jsontune.decoding.constrained.grammars import constraints_for
from jsontune.decoding.engine import Engine, Request
from jsontune.decoding.generate import generate

MODES = ("greedy", "constrained")
OLD_BATCH_SIZE = 16  # what `jsontune eval` used before the engine


@dataclass
class Run:
    path: str
    mode: str
    batch_size: int
    seconds: float
    tokens: int
    steps: int
    texts: list[str]

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.seconds / self.steps

    def speedup_over(self, old: Run) -> float:
        """How many times less wall time this run took than `old` for the same prompts."""
        return old.seconds / self.seconds


def run_generate(model, tokenizer, prompts, schemas, mode: str, max_new_tokens: int) -> Run:
    """The old path: HF `generate` over length-sorted batches of 16."""
    constraints = _constraints(model, tokenizer, schemas, mode)
    began = time.perf_counter()
    answers = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=OLD_BATCH_SIZE,
                       progress=False, constraints=constraints)
    seconds = time.perf_counter() - began
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))  # the batches generate made
    steps = sum(max(answers[i].new_tokens for i in order[b:b + OLD_BATCH_SIZE])
                for b in range(0, len(order), OLD_BATCH_SIZE))
    return Run("generate", mode, OLD_BATCH_SIZE, seconds, sum(a.new_tokens for a in answers), steps,
               [a.text for a in answers])


def run_engine(model, tokenizer, prompts, schemas, mode: str, max_new_tokens: int, batch_size: int,
               path: str = "engine") -> Run:
    constraints = _constraints(model, tokenizer, schemas, mode)
    engine = Engine(model, tokenizer, end_of_turn_id(tokenizer), max_batch_size=batch_size)
    requests = [Request(p, max_new_tokens, constraint=(lambda i=i: constraints.constraint(i)) if constraints else None)
                for i, p in enumerate(prompts)]
    began = time.perf_counter()
    answers = [tries[0] for tries in engine.run(requests, progress=False)]
    seconds = time.perf_counter() - began
    return Run(path, mode, batch_size, seconds, sum(a.new_tokens for a in answers), engine.steps,
               [a.text for a in answers])


def compare(unmerged, merged, tokenizer, prompts, schemas, max_new_tokens: int, batch_sizes: list[int],
            progress=lambda line: None) -> list[Run]:
    """The old path in each mode; the engine greedy at each batch size, then at the fastest one constrained
    and with the adapter unmerged. `progress` gets a line per run as it ends."""
    runs = []
    for mode in MODES:
        runs.append(run_generate(unmerged, tokenizer, prompts, schemas, mode, max_new_tokens))
        progress(f"  generate {mode}: {runs[-1].seconds:.1f} s")
    greedy = []
    for size in batch_sizes:
        greedy.append(run_engine(merged, tokenizer, prompts, schemas, "greedy", max_new_tokens, size))
        progress(f"  engine greedy at batch {size}: {greedy[-1].seconds:.1f} s")
    best = min(greedy, key=lambda run: run.seconds).batch_size
    constrained = run_engine(merged, tokenizer, prompts, schemas, "constrained", max_new_tokens, best)
    kept = run_engine(unmerged, tokenizer, prompts, schemas, "greedy", max_new_tokens, best,
                      path="engine, adapter unmerged")
    return [*runs, *greedy, constrained, kept]


def fresh_adapter(model, recipe):
    """A LoRA adapter of the recipe's shape on `model`, as PEFT initialises it (B = 0: the base's answers)."""
    from peft import get_peft_model
    from trl import get_peft_config

    return get_peft_model(model, get_peft_config(recipe.model)).eval()


def _constraints(model, tokenizer, schemas, mode: str):
    if mode != "constrained":
        return None
    return constraints_for(model, tokenizer, schemas, stop_token=end_of_turn_id(tokenizer))


def compute_limit(model) -> tuple[float, str]:
    """(tokens/s, what it is): the matmul peak measured now over 2 FLOPs per matmul parameter and token."""
    peak, what = matmul_peak_flops()
    flops_per_token = 2 * matmul_parameters(model)
    return peak / flops_per_token, f"{what} {peak / 1e9:.0f} GFLOP/s / {flops_per_token / 1e9:.3f} GFLOP per token"


def format_table(runs: list[Run], limit: float) -> str:
    old = {run.mode: run for run in runs if run.path == "generate"}
    lines = [f"{'path':<26} {'mode':<11} {'batch':>5} {'seconds':>7} {'tokens':>6} {'tokens/s':>8} {'ms/step':>7} "
             f"{'of limit':>8} {'speedup':>7} {'same answers':>12}"]
    for run in runs:
        base = old[run.mode]
        same = sum(a == b for a, b in zip(run.texts, base.texts))
        lines.append(f"{run.path:<26} {run.mode:<11} {run.batch_size:>5} {run.seconds:>7.1f} {run.tokens:>6} "
                     f"{run.tokens_per_second:>8.1f} {run.ms_per_step:>7.1f} {run.tokens_per_second / limit:>8.1%} "
                     f"{run.speedup_over(base):>7.2f} {same:>6}/{len(run.texts):<5}")
    return "\n".join(lines)


def summary(runs: list[Run], limit: float, limit_what: str) -> list[str]:
    """The table, then the figures the issue asks for, the last line being `engine speedup: X.XX`."""
    old = {run.mode: run for run in runs if run.path == "generate"}
    engine = [run for run in runs if run.path == "engine"]
    best = min((run for run in engine if run.mode == "greedy"), key=lambda run: run.seconds)
    constrained = next(run for run in engine if run.mode == "constrained")
    kept = next(run for run in runs if run.path == "engine, adapter unmerged")
    return [
        format_table(runs, limit),
        f"(compute limit {limit:.0f} tokens/s: {limit_what}; generate: batches of 16, adapter unmerged; "
        f"engine: adapter merged unless said)",
        f"engine share of the compute limit (greedy, batch {best.batch_size}): {best.tokens_per_second / limit:.1%}",
        f"unmerged adapter costs: {best.speedup_over(kept):.2f}x the merged engine's time",
        f"engine speedup (constrained): {constrained.speedup_over(old['constrained']):.2f}",
        f"engine speedup: {best.speedup_over(old['greedy']):.2f}",
    ]

"""Training throughput: TRL's defaults beside jsontune's path, on the same examples in the same order.

Each (case, side) trains in a process of its own, so its peak RSS is its own:

- baseline: TRL `SFTTrainer` with its default `SFTConfig`, changed only where a CPU-only machine needs
  it (`use_cpu=True`, and `bf16=False` unless `bf16`), prompt-completion chat data rendered by the model's own chat
  template (SmolLM2's injects a default system turn; jsontune's prepared copy drops it, so the
  baseline writes that turn itself, which renders the same tokens) around the user turn jsontune's
  recipe writes (the request, then the schema as the recipe renders it), and for LoRA a plain
  `peft.LoraConfig` with the original experiment's settings;
- jsontune: the shipped recipe (recipes/lora.yaml or recipes/complete.yaml) through `build_trainer`, in the
  baseline's precision (on CPU fp32, or with `bf16` the bf16 autocast the recipes ask for on CPUs with bf16
  matmuls, which is also TRL's default there), with
  the LoRA settings of the baseline (the shipped recipe adapts all linear layers, which costs about
  1.6x the time of q_proj/v_proj here; the comparison is of the training path, not of the recipe).
  What makes it faster on CPU: no gradient checkpointing, no default system turn, padding-free batches
  whose sequences attend to themselves only (jsontune.training.packed_attention), the LM head and loss
  at labelled positions only, in chunks (jsontune.training.compact_loss) and LoRA layers in fewer passes
  (jsontune.training.lora_layers). The memory jsontune's training keeps (jsontune.training.allocator) is not
  among them here: both sides keep theirs (below).

Both take the same examples (a spread over the LoRA recipe's training split, synthetic and SNIPS) in
the same order (sequential: jsontune's length-bucketed sampler is switched off here, since it would
change the order) at the same per-device batch size. A callback times every optimizer step; the
first `warmup` steps are left out. Figures: examples/s, real (non-padding) tokens/s, peak RSS, model
FLOP/s as a share of the matmul peak measured in the same process just before it trains (fp32 on CPU,
bf16 with `bf16`; bf16 on a GPU, where it is the MFU), the mean loss over the measured steps, and the share of the
process's CPU time spent in the kernel over those steps.

Both processes start with glibc told to keep the memory they free (`allocator.with_kept_memory`; jsontune's
trainer then applies its own settings on top). TRL's default path allocates its full logits and their
gradients (hundreds of megabytes each, above the largest block `mallopt` can keep) afresh every step; with
glibc's defaults it faults their pages in again every step, and on a virtual machine that hands freed pages
back to its host (free page reporting, as here) a fault costs what the host's memory costs at that moment,
1.3 to 10 us a page. The baseline's LoRA speed then moved 34% between two runs 20 minutes apart (0.595 and
0.799 examples/s, 29.7% and 14.9% of its CPU time in the kernel; jsontune's side 1.5%), which is the host,
not the training path. `glibc_defaults=True` runs both in glibc's defaults instead: the baseline as TRL runs
out of the box on such a machine.

A shared 2-core machine changes speed from minute to minute (its matmul peak has measured 171, 277 and
395 GFLOP/s on different days), and one run of each side gave speedups 10% apart. So the bench repeats:
each repeat runs both sides of a case back to back, the order alternating from repeat to repeat (what
drifts during a repeat favours neither side), and a speedup is taken within each repeat; the figure is
the median of those ratios, printed with their spread (min-max).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from transformers import TrainerCallback

from jsontune.benchmarks.compute_limit import matmul_parameters, matmul_peak_flops
from jsontune.recipe import cpu_has_bf16_matmuls
from jsontune.training.allocator import with_kept_memory

CASES = ("lora", "complete")
SIDES = ("baseline", "jsontune")
RECIPES = {"lora": "recipes/lora.yaml", "complete": "recipes/complete.yaml"}
# The original experiment's LoRA: r 16, alpha 32, q_proj/v_proj, dropout 0.05.
ORIGINAL_LORA = {"r": 16, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"], "lora_dropout": 0.05,
                 "task_type": "CAUSAL_LM"}


@dataclass
class CaseResult:
    case: str
    side: str
    steps: int
    batch_size: int
    seconds: float
    examples_per_second: float
    tokens_per_second: float
    peak_rss_mb: float
    model_flops_per_second: float
    mean_loss: float
    peak_flops: float  # the matmul peak measured in the same process, just before training
    repeat: int = 0
    cpu_seconds: float = 0.0  # the process's CPU time (user + kernel) over the measured steps
    kernel_seconds: float = 0.0  # the part of it in the kernel: page faults, mapping and unmapping memory

    @property
    def kernel_share(self) -> float:
        return self.kernel_seconds / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def share_of_peak(self) -> float:
        return self.model_flops_per_second / self.peak_flops


@dataclass
class Speedup:
    """jsontune's examples/s over the baseline's, one ratio per repeat, and their median and spread."""

    case: str
    ratios: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    def line(self) -> str:
        spread = (f"spread {min(self.ratios):.2f}-{max(self.ratios):.2f} over {len(self.ratios)} alternating "
                  "repeats" if len(self.ratios) > 1 else "1 repeat")
        return f"speedup {self.case}: {self.median:.2f} (median; {spread})"


class StepClock(TrainerCallback):
    """Wall time, CPU time and kernel CPU time of each optimizer step."""

    def __init__(self):
        self.times: list[float] = []
        self.cpu_times: list[float] = []
        self.kernel_times: list[float] = []
        self._began = (0.0, 0.0, 0.0)

    @staticmethod
    def _now() -> tuple[float, float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), usage.ru_utime + usage.ru_stime, usage.ru_stime

    def on_step_begin(self, args, state, control, **kwargs):
        self._began = self._now()

    def on_step_end(self, args, state, control, **kwargs):
        wall, cpu, kernel = (now - began for now, began in zip(self._now(), self._began))
        self.times.append(wall)
        self.cpu_times.append(cpu)
        self.kernel_times.append(kernel)


def model_flops_per_token(model, trainable_all: bool) -> float:
    """Training FLOPs per token by the usual count: 6 N for complete fine-tuning, 4 N for LoRA (no weight
    gradients of the frozen base), with N the matmul parameters (`compute_limit.matmul_parameters`)."""
    return (6 if trainable_all else 4) * matmul_parameters(model)


def _records(batch_size: int, total_steps: int) -> list[dict]:
    from jsontune.recipe import load_recipe

    train = load_recipe(RECIPES["lora"]).splits().train
    needed = batch_size * total_steps
    if len(train) < needed:
        raise ValueError(f"{needed} training examples needed, the split has {len(train)}")
    return train[:: len(train) // needed][:needed]  # the split is file by file: spread over all of them


def _in_order(trainer) -> None:
    from torch.utils.data import SequentialSampler

    trainer._get_train_sampler = lambda *args, **kwargs: SequentialSampler(trainer.train_dataset)


def _baseline_trainer(case: str, records: list[dict], batch_size: int, total_steps: int, out: str, bf16: bool):
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from jsontune.data.prompting import compact_json, user_text
    from jsontune.models.base_model import DEFAULT_EMBEDDED, SMOLLM2_DEFAULT_SYSTEM_PROMPT, resolve_model_name
    from jsontune.models.loading import load_tokenizer
    from jsontune.recipe import load_recipe

    model_path = resolve_model_name(DEFAULT_EMBEDDED)
    tokenizer = load_tokenizer(model_path)
    # The user turn jsontune's recipe writes (the request and the schema after it), so that both sides train on
    # the same text: the comparison is of the training path, not of the prompt.
    prompting = load_recipe(RECIPES[case]).prompt_config(tokenizer)
    system = {"role": "system", "content": SMOLLM2_DEFAULT_SYSTEM_PROMPT}
    data = Dataset.from_list([
        {"prompt": [system, {"role": "user", "content": user_text(r, prompting)}],
         "completion": [{"role": "assistant", "content": compact_json(r["reference"])}]} for r in records
    ])
    # TRL's defaults, but for what a CPU-only machine cannot run: the device search, and bf16 unless asked for.
    cpu_only = {} if torch.cuda.is_available() else {"use_cpu": True, "bf16": bf16}
    config = SFTConfig(output_dir=out, **cpu_only, per_device_train_batch_size=batch_size,
                       max_steps=total_steps, logging_steps=1, save_strategy="no", report_to="none")
    peft_config = LoraConfig(**ORIGINAL_LORA) if case == "lora" else None
    return SFTTrainer(model=model_path, args=config, train_dataset=data, processing_class=tokenizer,
                      peft_config=peft_config)


def _jsontune_trainer(case: str, records: list[dict], batch_size: int, total_steps: int, out: str, bf16: bool):
    from jsontune.data.splits import Splits
    from jsontune.recipe import load_recipe
    from jsontune.training.train import build_trainer

    overrides = ["--output_dir", out, "--max_steps", str(total_steps), "--per_device_train_batch_size",
                 str(batch_size), "--logging_steps", "1"]
    if case == "lora":
        overrides += ["--lora_r", str(ORIGINAL_LORA["r"]), "--lora_alpha", str(ORIGINAL_LORA["lora_alpha"]),
                      "--lora_dropout", str(ORIGINAL_LORA["lora_dropout"]),
                      "--lora_target_modules", *ORIGINAL_LORA["target_modules"]]
    if not torch.cuda.is_available():  # the baseline's precision: the two sides compare training paths
        overrides += ["--bf16", "true" if bf16 else "false"]
    recipe = load_recipe(RECIPES[case], overrides)
    trainer, _, _ = build_trainer(recipe, Splits(train=records, test=[]))
    return trainer


def check_precision(bf16: bool) -> None:
    """Refuse bf16 on a CPU that would emulate it (no AVX512-BF16, no AMX): slower than fp32, a figure of nothing."""
    if bf16 and not torch.cuda.is_available() and not cpu_has_bf16_matmuls():
        raise ValueError("bf16 on CPU needs a CPU that multiplies bf16 in hardware (AVX512-BF16 or AMX); this one "
                         "would emulate it, slower than fp32")


def run_case(case: str, side: str, batch_size: int, steps: int, warmup: int, repeat: int = 0,
             bf16: bool = False) -> CaseResult:
    """Train `warmup + steps` steps of one case on one side, in this process, and measure the last `steps`; with
    `bf16`, in bf16 autocast on CPU too (`check_precision`)."""
    check_precision(bf16)
    total = warmup + steps
    records = _records(batch_size, total)
    peak_flops, _ = matmul_peak_flops(bf16_on_cpu=bf16)
    with tempfile.TemporaryDirectory() as out:
        build = _baseline_trainer if side == "baseline" else _jsontune_trainer
        trainer = build(case, records, batch_size, total, out, bf16)
        _in_order(trainer)
        clock = StepClock()
        trainer.add_callback(clock)
        trainer.train()
    lengths = [len(ids) for ids in trainer.train_dataset["input_ids"]]  # unpadded rows, in training order
    if len(lengths) != len(records):
        raise RuntimeError(f"the {side} trainer kept {len(lengths)} of {len(records)} examples: the sides would differ")
    measured = slice(warmup * batch_size, total * batch_size)
    seconds = sum(clock.times[warmup:])
    tokens = sum(lengths[measured])
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e][warmup:]
    flops = model_flops_per_token(trainer.model, trainable_all=case == "complete") * tokens / seconds
    return CaseResult(case, side, steps, batch_size, seconds, steps * batch_size / seconds, tokens / seconds,
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flops,
                      sum(losses) / len(losses) if losses else float("nan"), peak_flops, repeat,
                      sum(clock.cpu_times[warmup:]), sum(clock.kernel_times[warmup:]))


def run_in_subprocess(case: str, side: str, batch_size: int, steps: int, warmup: int, repeat: int = 0,
                      bf16: bool = False, glibc_defaults: bool = False) -> CaseResult:
    """run_case in a fresh Python process (its own peak RSS), which keeps the memory it frees unless
    `glibc_defaults`; progress goes to this process's stderr."""
    command = [sys.executable, "-m", "jsontune.benchmarks.train_speed", case, side, str(batch_size), str(steps),
               str(warmup), str(repeat), "bf16" if bf16 else "fp32"]
    env = dict(os.environ) if glibc_defaults else with_kept_memory(os.environ)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the {side} {case} run failed (exit {done.returncode}); its errors are above")
    return CaseResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def side_order(repeat: int) -> tuple[str, ...]:
    """baseline first in even repeats, jsontune first in odd ones."""
    return SIDES if repeat % 2 == 0 else SIDES[::-1]


def run_bench(cases: list[str], batch_size: int, steps: int, warmup: int, repeats: int,
              run: Callable[..., CaseResult] = run_in_subprocess, progress: Callable[[str], None] = print
              ) -> list[CaseResult]:
    """Every case on both sides, `repeats` times, the sides' order alternating (`side_order`)."""
    results = []
    for repeat in range(repeats):
        for case in cases:
            for side in side_order(repeat):
                progress(f"repeat {repeat + 1}/{repeats}: training {case} ({side}), {warmup} + {steps} steps ...")
                results.append(run(case, side, batch_size, steps, warmup, repeat))
    return results


def speedups(results: list[CaseResult]) -> list[Speedup]:
    """Per case, the ratio of jsontune's examples/s to the baseline's within each repeat."""
    by_run = {(r.case, r.side, r.repeat): r for r in results}
    out = []
    for case in dict.fromkeys(r.case for r in results):
        repeats = sorted({r.repeat for r in results if r.case == case})
        out.append(Speedup(case, [by_run[(case, "jsontune", i)].examples_per_second
                                  / by_run[(case, "baseline", i)].examples_per_second for i in repeats]))
    return out


def format_table(results: list[CaseResult], peak_what: str) -> str:
    """One line per case and side: the median over repeats of each figure (the largest peak RSS)."""
    header = (f"{'case':<8} {'side':<9} {'examples/s':>10} {'tokens/s':>9} {'peak RSS MB':>11} "
              f"{'GFLOP/s':>8} {'of peak':>7} {'mean loss':>9} {'kernel':>6}")
    lines = [header]
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for r in results:
        groups.setdefault((r.case, r.side), []).append(r)
    for (case, side), runs in groups.items():
        def median(figure: Callable[[CaseResult], float], of: list[CaseResult] = runs) -> float:
            return statistics.median(figure(r) for r in of)

        lines.append(f"{case:<8} {side:<9} {median(lambda r: r.examples_per_second):>10.3f} "
                     f"{median(lambda r: r.tokens_per_second):>9.1f} {max(r.peak_rss_mb for r in runs):>11.0f} "
                     f"{median(lambda r: r.model_flops_per_second) / 1e9:>8.1f} "
                     f"{median(lambda r: r.share_of_peak):>7.1%} {median(lambda r: r.mean_loss):>9.4f} "
                     f"{median(lambda r: r.kernel_share):>6.1%}")
    peaks = [r.peak_flops / 1e9 for r in results]
    repeats = len({r.repeat for r in results})
    lines.append(f"(medians over {repeats} repeat{'s' if repeats > 1 else ''}; {peak_what} measured before each "
                 f"run: median {statistics.median(peaks):.0f}, {min(peaks):.0f}-{max(peaks):.0f} GFLOP/s, each "
                 f"run's share taken of its own; {results[0].steps} measured steps of batch {results[0].batch_size} "
                 "after the warm-up; kernel: the share of the process's CPU time spent in the kernel)")
    return "\n".join(lines)


if __name__ == "__main__":
    case_, side_, batch_, steps_, warmup_, repeat_, precision_ = sys.argv[1:8]
    result = run_case(case_, side_, int(batch_), int(steps_), int(warmup_), int(repeat_), precision_ == "bf16")
    print(json.dumps(asdict(result)))

"""The GPU check: what a lent GPU should prove, in one call, with one table at the end (`make gpu-check`).

A session with a GPU is rare and short, so the check is prepared to run unattended: each step is a jsontune
command in a process of its own, under a time limit, its whole output kept in `OUT/<step>.log`; a step that
fails or hangs costs only itself, and the table says so beside the figures of the others. The steps:

- `train-speed`: `bench-train` on the GPU (bf16 either way): TRL's default SFTTrainer beside jsontune's, LoRA and
  complete, and each side's share (MFU) of a bf16 matmul peak measured on the spot.
- `lora`, `complete`: the shipped recipes as `make experiment` trains them, in bf16 with jsontune's packed SDPA
  attention: tokens/s and the final loss.
- `decoding`: the decoding engine beside HF `generate` on the LoRA model just trained (tokens/s, same answers).
- `serve`: the OpenAI-compatible server, one client against many (requests/s, latency).
- `zero2`: the complete recipe under DeepSpeed ZeRO-2 with one process (`accelerate launch`).

A run without a GPU is refused (it would measure a CPU and call it a GPU). The dry run checks, on any machine,
that every step's command parses (its options, recipe overrides and accelerate config), so that the day a GPU
is lent no step fails on a typo: CI runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jsontune.errors import JsontuneError
from jsontune.files import write_text

REPORT_FILE = "gpu-check.md"
JSONTUNE = (sys.executable, "-m", "jsontune.cli")
ACCELERATE = (sys.executable, "-m", "accelerate.commands.launch")
# Output lines the table keeps: bench-train's rows and speedups, a training's summary, the benches' headlines.
TRAIN_SUMMARY = r"^mean training loss"


@dataclass(frozen=True)
class Step:
    """One command of the check. `jsontune_args` are a jsontune command's arguments; a training with `launch`
    options runs under `accelerate launch` with them, as `scripts/sft.py` (which is `jsontune train`)."""

    name: str
    what: str
    jsontune_args: tuple[str, ...]
    keep: tuple[str, ...]
    timeout_s: float
    launch: tuple[str, ...] = ()

    def launch_args(self) -> list[str]:
        """The arguments of `accelerate launch` (empty when the step is not launched)."""
        return [*self.launch, "scripts/sft.py", *self.jsontune_args[1:]] if self.launch else []

    def argv(self) -> list[str]:
        return [*ACCELERATE, *self.launch_args()] if self.launch else [*JSONTUNE, *self.jsontune_args]

    def shown(self) -> str:
        """The command as a user would type it."""
        return " ".join(["accelerate launch", *self.launch_args()] if self.launch else ["jsontune", *self.jsontune_args])

    def kept(self, output: str) -> list[str]:
        """The lines of the step's output that its table row shows."""
        return [line.strip() for line in output.splitlines() if any(re.search(p, line.strip()) for p in self.keep)]


@dataclass
class Outcome:
    step: Step
    status: str  # "ok", "failed (exit N)", "timed out after N s"
    seconds: float
    figures: list[str]


def steps(out: Path) -> list[Step]:
    """The check's steps, writing under `out` (about 8 minutes on one H100, by the time limits' design)."""
    lora, complete, zero2 = out / "lora", out / "complete", out / "zero2"
    return [
        Step("train-speed", "TRL's bf16 default vs jsontune, LoRA and complete, MFU of a measured bf16 peak",
             ("bench-train", "--cases", "lora,complete", "--repeats", "1", "--steps", "8", "--batch-size", "8"),
             (r"^(lora|complete)\s+(baseline|jsontune)", r"^\(medians", r"^speedup "), 300),
        Step("lora", "recipes/lora.yaml as the experiment trains it (bf16, packed SDPA)",
             ("train", "recipes/lora.yaml", "--output_dir", str(lora), "--overwrite"), (TRAIN_SUMMARY,), 300),
        Step("complete", "recipes/complete.yaml as the experiment trains it (bf16, packed SDPA)",
             ("train", "recipes/complete.yaml", "--output_dir", str(complete), "--overwrite"), (TRAIN_SUMMARY,), 300),
        Step("decoding", "the decoding engine vs HF generate on the trained LoRA model",
             ("bench-decoding", "--adapter", str(lora), "--batch-sizes", "32,64,128"),
             (r"^engine share", r"^unmerged adapter", r"^engine speedup"), 300),
        Step("serve", "the OpenAI-compatible server with the LoRA model, 1 client vs 16, and a load test",
             ("bench-serve", "--model", str(lora), "--requests", "64", "--load-requests", "100"),
             (r"^\| \d+ \|", r"^load test", r"^serve speedup"), 300),
        Step("zero2", "recipes/complete.yaml under DeepSpeed ZeRO-2, one process",
             ("train", "recipes/complete.yaml", "--max_steps", "30", "--output_dir", str(zero2), "--overwrite"),
             (TRAIN_SUMMARY,), 300,
             launch=("--config_file", "accelerate_configs/zero2.yaml", "--num_processes", "1")),
    ]


def check_gpu() -> str:
    """The GPU's name; `JsontuneError` when there is none."""
    import torch

    if not torch.cuda.is_available():
        raise JsontuneError("no GPU here (torch.cuda.is_available() is False): the GPU check measures a GPU; "
                            "--dry-run checks its steps on any machine")
    return torch.cuda.get_device_name(0)


def dry_run(chosen: list[Step], parse: Callable[[list[str]], None], parse_launch: Callable[[Step], None]) -> None:
    """Check every step's command without running it: `parse(jsontune_args)` raises on a bad option or recipe
    override, `parse_launch(step)` on a bad launch. `JsontuneError` names the step that fails."""
    for step in chosen:
        try:
            if step.launch:
                parse_launch(step)
            parse(list(step.jsontune_args))
        except Exception as err:  # noqa: BLE001 - any reason a step would fail is reported with its name
            raise JsontuneError(f"gpu-check step {step.name!r} would fail ({step.shown()}): {err}") from err


def run_steps(chosen: list[Step], out: Path, progress: Callable[[str], None] = print) -> list[Outcome]:
    """Run each step in turn, whatever the others did; its output goes to `out/<name>.log`."""
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for step in chosen:
        progress(f"[{len(outcomes) + 1}/{len(chosen)}] {step.name}: {step.what}")
        log = out / f"{step.name}.log"
        began = time.perf_counter()
        with log.open("w") as sink:
            try:
                code = subprocess.run(step.argv(), stdout=sink, stderr=subprocess.STDOUT,
                                      timeout=step.timeout_s).returncode
                status = "ok" if code == 0 else f"failed (exit {code}; see {log})"
            except subprocess.TimeoutExpired:
                status = f"timed out after {step.timeout_s} s (see {log})"
        seconds = time.perf_counter() - began
        outcomes.append(Outcome(step, status, seconds, step.kept(log.read_text(errors="replace"))))
        progress(f"    {status}, {seconds:.0f} s")
    return outcomes


def report(outcomes: list[Outcome], device: str) -> str:
    """The table: one row per step, with the lines of its output that hold its figures."""
    rows = [f"# GPU check on {device}", "", "| step | what | result | s | figures |", "|---|---|---|---|---|"]
    for outcome in outcomes:
        figures = "<br>".join(f"`{line}`" for line in outcome.figures) or "-"
        rows.append(f"| {outcome.step.name} | {outcome.step.what} | {outcome.status} | {outcome.seconds:.0f} | "
                    f"{figures} |")
    passed = sum(outcome.status == "ok" for outcome in outcomes)
    rows += ["", f"{passed} of {len(outcomes)} steps passed."]
    return "\n".join(rows) + "\n"


def write_report(outcomes: list[Outcome], device: str, out: Path) -> Path:
    return write_text(out / REPORT_FILE, report(outcomes, device))

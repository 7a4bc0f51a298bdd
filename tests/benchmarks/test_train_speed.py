"""The training-speed benchmark: its FLOP count, its table, and one real run of every case and side."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict

import pytest

from jsontune.benchmarks import train_speed
from jsontune.benchmarks.train_speed import CaseResult, format_table, model_flops_per_token, run_bench, speedups
from jsontune.training.allocator import KEPT_MEMORY_TUNABLES


def test_model_flops_count_matmul_parameters_six_or_four_times(tiny_model_dir) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = model.config
    total = sum(p.numel() for p in model.parameters())  # tied: the embedding matrix is counted once
    assert config.tie_word_embeddings
    assert model_flops_per_token(model, trainable_all=True) == 6 * total
    assert model_flops_per_token(model, trainable_all=False) == 4 * total


def _result(case: str, side: str, repeat: int, examples_per_second: float, peak_flops: float = 200e9,
            rss: float = 1500.0) -> CaseResult:
    return CaseResult(case, side, 4, 8, 10.0, examples_per_second, 100 * examples_per_second, rss, 50e9,
                      1.25, peak_flops, repeat, cpu_seconds=20.0, kernel_seconds=2.0 + repeat)


def test_table_gives_each_case_and_side_its_medians_over_repeats_and_each_runs_share_of_its_own_peak() -> None:
    results = [_result("lora", "baseline", 0, 3.0, peak_flops=100e9, rss=1400.0),
               _result("lora", "baseline", 1, 3.4, peak_flops=250e9, rss=1600.0),
               _result("lora", "baseline", 2, 3.2, peak_flops=200e9, rss=1500.0),
               _result("lora", "jsontune", 0, 10.0), _result("lora", "jsontune", 1, 11.0),
               _result("lora", "jsontune", 2, 12.0)]
    table = format_table(results, peak_what="fp32 CPU matmul peak").splitlines()
    assert len(table) == 4
    # examples/s 3.2 (median), tokens/s 320, largest RSS, 50 GFLOP/s = 25% of the median share (50/200), kernel
    # time 3 s of 20 s of CPU time (the median repeat)
    assert table[1].split() == ["lora", "baseline", "3.200", "320.0", "1600", "50.0", "25.0%", "1.2500", "15.0%"]
    assert table[2].split()[:3] == ["lora", "jsontune", "11.000"]
    assert "medians over 3 repeats; fp32 CPU matmul peak measured before each run: median 200, 100-250" in table[-1]
    assert "4 measured steps of batch 8" in table[-1]


def test_sides_alternate_which_trains_first_and_the_speedup_is_the_median_of_each_repeats_ratio() -> None:
    calls = []

    def fake_run(case, side, batch_size, steps, warmup, repeat):
        calls.append((repeat, case, side))
        speed = {"baseline": 2.0, "jsontune": (6.0, 9.0, 7.0)[repeat]}[side] * (1 + repeat)  # a machine speeding up
        return _result(case, side, repeat, speed)

    results = run_bench(["lora"], 8, 4, 1, repeats=3, run=fake_run, progress=lambda text: None)

    assert calls == [(0, "lora", "baseline"), (0, "lora", "jsontune"), (1, "lora", "jsontune"),
                     (1, "lora", "baseline"), (2, "lora", "baseline"), (2, "lora", "jsontune")]
    [speedup] = speedups(results)
    assert speedup.ratios == [3.0, 4.5, 3.5] and speedup.median == 3.5  # within each repeat, not across
    assert speedup.line() == "speedup lora: 3.50 (median; spread 3.00-4.50 over 3 alternating repeats)"


@pytest.mark.parametrize("glibc_defaults", [False, True])
def test_each_run_starts_keeping_freed_memory_unless_glibc_defaults_are_asked_for(monkeypatch, glibc_defaults):
    envs = []

    def fake_run(command, stdout, text, env):
        envs.append(env)
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(asdict(_result("lora", "baseline", 0, 1.0))))

    monkeypatch.setattr(train_speed.subprocess, "run", fake_run)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    result = train_speed.run_in_subprocess("lora", "baseline", 8, 4, 1, glibc_defaults=glibc_defaults)

    assert result.examples_per_second == 1.0
    tunables = envs[0]["GLIBC_TUNABLES"]
    assert tunables.startswith("glibc.malloc.arena_max=2")
    assert (KEPT_MEMORY_TUNABLES in tunables) is not glibc_defaults


def test_bf16_is_refused_before_anything_trains_on_a_cpu_that_would_emulate_it(monkeypatch) -> None:
    from typer.testing import CliRunner

    from jsontune.cli import app

    monkeypatch.setattr(train_speed, "cpu_has_bf16_matmuls", lambda: False)
    monkeypatch.setattr(train_speed.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(train_speed, "run_bench", lambda *args, **kwargs: pytest.fail("a run started"))
    result = CliRunner().invoke(app, ["bench-train", "--bf16"])
    assert result.exit_code != 0
    assert "--bf16: bf16 on CPU needs a CPU that multiplies bf16 in hardware" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("bf16", [False, True])
def test_both_sides_train_in_the_precision_asked_for(embedded_model_dir, tmp_path, bf16) -> None:
    if bf16 and not train_speed.torch.cuda.is_available() and not train_speed.cpu_has_bf16_matmuls():
        with pytest.raises(ValueError, match="AVX512-BF16 or AMX"):  # this CPU: refused, as it should be
            train_speed.check_precision(bf16)
        return
    records = train_speed._records(batch_size=2, total_steps=1)
    for build in (train_speed._baseline_trainer, train_speed._jsontune_trainer):
        trainer = build("lora", records, 2, 1, str(tmp_path / build.__name__), bf16)
        assert trainer.args.bf16 is bf16 and trainer.accelerator.mixed_precision == ("bf16" if bf16 else "no")


@pytest.mark.slow
def test_bench_train_runs_both_sides_of_both_cases_and_ends_with_the_speedups(embedded_model_dir) -> None:
    from typer.testing import CliRunner

    from jsontune.cli import app

    result = CliRunner().invoke(app, ["bench-train", "--steps", "1", "--warmup", "1", "--batch-size", "2",
                                      "--repeats", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    rows = [line.split() for line in lines if line.startswith(("lora ", "complete "))]
    assert [row[:2] for row in rows] == [["lora", "baseline"], ["lora", "jsontune"], ["complete", "baseline"],
                                         ["complete", "jsontune"]]
    for row in rows:
        examples, tokens, rss, loss, kernel = float(row[2]), float(row[3]), float(row[4]), float(row[7]), row[8]
        assert examples > 0 and tokens > examples and rss > 300 and 0 < loss < 20
        assert 0 < float(kernel.rstrip("%")) < 100  # measured: some, never all, CPU time in the kernel
    assert "allocator: both processes keep the memory they free" in result.stdout
    assert re.fullmatch(r"speedup lora: \d+\.\d\d \(median; 1 repeat\)", lines[-2])
    assert re.fullmatch(r"speedup complete: \d+\.\d\d \(median; 1 repeat\)", lines[-1])

"""The training-speed benchmark: its FLOP count, its table, and one real run of every case and side."""

from __future__ import annotations

import re

import pytest

from jsontune.benchmarks.train_speed import CaseResult, format_table, model_flops_per_token


def test_model_flops_count_matmul_parameters_six_or_four_times(tiny_model_dir) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = model.config
    total = sum(p.numel() for p in model.parameters())  # tied: the embedding matrix is counted once
    assert config.tie_word_embeddings
    assert model_flops_per_token(model, trainable_all=True) == 6 * total
    assert model_flops_per_token(model, trainable_all=False) == 4 * total


def test_table_has_one_line_per_run_and_shares_of_peak() -> None:
    results = [CaseResult("lora", "baseline", 4, 8, 10.0, 3.2, 300.0, 1500.0, 50e9, 1.25),
               CaseResult("lora", "jsontune", 4, 8, 3.0, 10.7, 900.0, 1400.0, 60e9, 1.20)]
    table = format_table(results, peak_flops=200e9, peak_what="fp32 CPU matmul peak").splitlines()
    assert table[1].split()[:4] == ["lora", "baseline", "3.200", "300.0"]
    assert table[2].split()[5:7] == ["60.0", "30.0%"]
    assert "fp32 CPU matmul peak measured here: 200 GFLOP/s; 4 measured steps of batch 8" in table[-1]


@pytest.mark.slow
def test_bench_train_runs_both_sides_of_both_cases_and_ends_with_the_speedups(embedded_model_dir) -> None:
    from typer.testing import CliRunner

    from jsontune.cli import app

    result = CliRunner().invoke(app, ["bench-train", "--steps", "1", "--warmup", "1", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    rows = [line.split() for line in lines if line.startswith(("lora ", "complete "))]
    assert [row[:2] for row in rows] == [["lora", "baseline"], ["lora", "jsontune"], ["complete", "baseline"],
                                         ["complete", "jsontune"]]
    for row in rows:
        examples, tokens, rss, loss = float(row[2]), float(row[3]), float(row[4]), float(row[7])
        assert examples > 0 and tokens > examples and rss > 300 and 0 < loss < 20
    assert re.fullmatch(r"speedup lora: \d+\.\d\d", lines[-2])
    assert re.fullmatch(r"speedup complete: \d+\.\d\d", lines[-1])

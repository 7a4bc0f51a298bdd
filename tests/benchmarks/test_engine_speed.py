"""The decoding benchmark: the engine beside the old path, on the same prompts, with the same answers."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from jsontune.cli import app


def test_bench_decoding_compares_the_engine_with_generate_and_prints_the_speedup(tiny_model_dir) -> None:
    result = CliRunner().invoke(app, ["bench-decoding", "--model", str(tiny_model_dir), "--rows", "6",
                                      "--batch-sizes", "2,4", "--max-new-tokens", "8"])
    assert result.exit_code == 0, result.output
    pattern = r"^(generate|engine|engine, adapter unmerged) +(greedy|constrained) +\d+ "
    table = [line for line in result.stdout.splitlines() if re.match(pattern, line)]
    assert [line[:26].strip() for line in table] == ["generate", "generate", "engine", "engine", "engine",
                                                     "engine, adapter unmerged"]
    assert [line[26:38].strip() for line in table] == ["greedy", "constrained", "greedy", "greedy", "constrained",
                                                       "greedy"]
    assert all(line.split()[-1] == "6/6" for line in table), "every answer is the old path's"
    speedup = re.search(r"^engine speedup: (\d+\.\d\d)$", result.stdout, re.M)
    assert speedup and float(speedup.group(1)) > 0
    assert re.search(r"^engine speedup \(constrained\): \d+\.\d\d$", result.stdout, re.M)
    assert re.search(r"^engine share of the compute limit \(greedy, batch [24]\): \d+\.\d%$", result.stdout, re.M)

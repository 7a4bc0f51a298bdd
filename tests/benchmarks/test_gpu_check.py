"""The GPU check: its steps are checked on any machine (CI has no GPU), it refuses to measure a CPU as a GPU,
and a step that fails or hangs is reported in the table while the others still run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jsontune.benchmarks import gpu_check
from jsontune.benchmarks.gpu_check import REPORT_FILE, Step, report, run_steps
from jsontune.cli import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_dry_run_parses_every_steps_command_without_a_gpu(tmp_path):
    result = invoke("gpu-check", "--dry-run", "--out", tmp_path / "check")
    assert result.exit_code == 0, result.output
    names = [step.name for step in gpu_check.steps(tmp_path / "check")]
    assert names == ["train-speed", "lora", "complete", "decoding", "serve", "zero2"]
    for name in names:
        assert f"\n{name}: " in f"\n{result.output}"
    assert "zero2: accelerate launch --config_file accelerate_configs/zero2.yaml --num_processes 1 scripts/sft.py " \
        "recipes/complete.yaml" in result.output
    assert f"dry run: the commands of {len(names)} steps parse" in result.output
    assert not (tmp_path / "check").exists(), "a dry run writes nothing"


@pytest.mark.parametrize(("broken", "reason"), [
    (Step("bench", "", ("bench-train", "--no-such-option"), (), 1), "No such option"),
    (Step("bench", "", ("bench-decoding", "--rows", "many"), (), 1), "valid integer"),
    (Step("recipe", "", ("train", "recipes/lora.yaml", "--no_such_key", "1"), (), 1), "no_such_key"),
    (Step("recipe", "", ("train", "recipes/absent.yaml"), (), 1), "absent.yaml"),
    (Step("launch", "", ("train", "recipes/complete.yaml"), (), 1, launch=("--config_file", "absent.yaml")),
     "absent.yaml"),
], ids=["unknown option", "bad value", "unknown recipe key", "missing recipe", "missing accelerate config"])
def test_a_step_that_would_fail_fails_the_dry_run_naming_the_step(monkeypatch, tmp_path, broken, reason):
    monkeypatch.setattr(gpu_check, "steps", lambda out: [broken])
    result = invoke("gpu-check", "--dry-run", "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert f"gpu-check step {broken.name!r} would fail" in result.output and reason in result.output, result.output
    assert f"({broken.shown()})" in result.output  # the command that would fail


def test_without_a_gpu_the_check_is_refused_before_any_step(monkeypatch, tmp_path):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = invoke("gpu-check", "--out", tmp_path / "check")
    assert result.exit_code == 2 and "no GPU here" in result.output and "--dry-run" in result.output
    assert not (tmp_path / "check").exists()


def test_an_unknown_step_name_is_refused(tmp_path):
    result = invoke("gpu-check", "--dry-run", "--only", "lora,warp-drive", "--out", tmp_path)
    assert result.exit_code == 2 and "warp-drive" in result.output and "train-speed" in result.output


def test_a_failing_or_hanging_step_is_reported_and_the_others_still_run(tmp_path, tiny_data):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "no reference"}\n')
    chosen = [
        Step("good", "a data check that passes", ("data", "check", str(tiny_data)), (r"good, \d+ bad",), 120),
        Step("bad", "a data check that fails", ("data", "check", str(bad)), (r"good, \d+ bad",), 120),
        Step("slow", "a command past its time limit", ("data", "check", str(tiny_data)), (), 0.01),
        Step("after", "a step after the others", ("data", "check", str(tiny_data)), (r"good, \d+ bad",), 120),
    ]
    outcomes = run_steps(chosen, tmp_path / "out", progress=lambda line: None)

    assert [o.status.split(" (")[0] for o in outcomes] == ["ok", "failed", "timed out after 0.01 s", "ok"]
    assert outcomes[0].figures == [f"{tiny_data}: 2 good, 0 bad"] == outcomes[3].figures
    assert outcomes[1].figures == [f"{bad}: 0 good, 1 bad"]
    assert "reference" in (tmp_path / "out" / "bad.log").read_text()  # the step's whole output is kept
    table = report(outcomes, "a test device")
    assert "| good | a data check that passes | ok |" in table and "2 of 4 steps passed." in table
    assert f"`{tiny_data}: 2 good, 0 bad`" in table
    gpu_check.write_report(outcomes, "a test device", tmp_path / "out")
    assert (tmp_path / "out" / REPORT_FILE).read_text() == table

"""Every entry point explains itself with --help, and `accelerate launch scripts/sft.py` trains (multi-process
launches: tests/training/test_scale_out.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from peft import PeftConfig
from safetensors.torch import load_file

from tests import REPO

BIN = Path(sys.executable).parent

COMMANDS = [
    [str(BIN / "jsontune"), "--help"],
    [str(BIN / "jsontune"), "train", "--help"],
    [str(BIN / "jsontune"), "grpo", "--help"],
    [str(BIN / "jsontune"), "eval", "--help"],
    [str(BIN / "jsontune"), "generate", "--help"],
    [str(BIN / "jsontune"), "bench-decoding", "--help"],
    [str(BIN / "jsontune"), "bench-train", "--help"],
    [str(BIN / "jsontune"), "bench-schema-formats", "--help"],
    [str(BIN / "jsontune"), "merge", "--help"],
    [str(BIN / "jsontune"), "push", "--help"],
    [str(BIN / "jsontune"), "serve", "--help"],
    [str(BIN / "jsontune"), "export", "--help"],
    [str(BIN / "jsontune"), "bench-serve", "--help"],
    [str(BIN / "jsontune"), "gpu-check", "--help"],
    [str(BIN / "jsontune"), "experiment", "--help"],
    [str(BIN / "jsontune"), "snips-benchmark", "--help"],
    [str(BIN / "jsontune"), "prepare-base", "--help"],
    [str(BIN / "jsontune"), "data", "--help"],
    [str(BIN / "jsontune"), "data", "check", "--help"],
    [str(BIN / "jsontune"), "data", "generate", "--help"],
    [str(BIN / "jsontune"), "data", "prompt-tokens", "--help"],
    [str(BIN / "jsontune"), "data", "snips", "--help"],
    *[[sys.executable, str(script), "--help"] for script in sorted((REPO / "scripts").glob("*.py"))],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join([Path(c[0]).name, *c[1:]]))
def test_help(command):
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


@pytest.mark.parametrize("args, new", [
    (["experiment", "--full-recipe", "recipes/complete.yaml"], "--complete-recipe"),
    (["snips-benchmark", "--full-sizes", "70"], "--complete-sizes"),
    (["snips-benchmark", "--full-recipe", "x.yaml"], "--complete-recipe"),
    (["bench-train", "--cases", "lora,full"], "'complete'"),
])
def test_an_option_that_said_full_names_its_complete_successor(args, new):
    from typer.testing import CliRunner

    from jsontune.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and new in result.output, result.output


def test_the_defaults_shown_by_the_cli_are_the_librarys():
    from jsontune.cli import DEFAULT_BOUNDS, DEFAULT_SCHEDULE
    from jsontune.decoding.constrained.bounds import Bounds
    from jsontune.decoding.defaults import DEFAULT_TEMPERATURES

    strings, items, digits, depth = (int(x) or None for x in DEFAULT_BOUNDS.split(","))
    assert Bounds(strings, items, digits, depth) == Bounds()
    assert tuple(float(t) for t in DEFAULT_SCHEDULE.split(",")) == DEFAULT_TEMPERATURES


def test_train_reports_recipe_errors_without_a_traceback(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model_name_or_path: smollm2-135m-instruct\nlearning_rat: 1\n")
    done = subprocess.run([sys.executable, str(REPO / "scripts/sft.py"), str(recipe)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "r.yaml:2: unknown key 'learning_rat' (did you mean 'learning_rate'?)" in done.stderr
    assert "Traceback" not in done.stderr


def _launch(args: list[str], recipe: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_LOG_LEVEL": "warning"}
    command = [str(BIN / "accelerate"), "launch", *args, str(REPO / "scripts/sft.py"), str(recipe),
               "--max_steps", "3", "--output_dir", str(out), "--logging_steps", "10"]  # no step logged: still fine
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)


def _assert_adapter(out: Path) -> None:
    weights = load_file(out / "adapter_model.safetensors")
    assert weights and all(t.numel() > 0 for t in weights.values())
    assert PeftConfig.from_pretrained(out).r == 16


@pytest.mark.slow
def test_accelerate_launch_single_process_writes_a_loadable_adapter(make_recipe, tmp_path):
    out = tmp_path / "adapter"
    done = _launch(["--num_processes", "1", "--num_machines", "1", "--mixed_precision", "no",
                    "--dynamo_backend", "no"], make_recipe(use_peft=True), out)
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_adapter(out)


def test_data_prompt_tokens_measures_each_schema_format_against_none(embedded_model_dir, tmp_path):
    import json

    from typer.testing import CliRunner

    from jsontune.cli import app

    schema = {"type": "object", "required": ["name", "city"], "additionalProperties": False,
              "properties": {"name": {"type": "string", "minLength": 1}, "city": {"type": "string", "minLength": 1}}}
    data = tmp_path / "people.jsonl"
    rows = [{"prompt": "Bob lives in Oslo.", "reference": {"name": "Bob", "city": "Oslo"}, "schema": schema},
            {"prompt": "No schema.", "reference": {}}]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = CliRunner().invoke(app, ["data", "prompt-tokens", str(data)])
    assert result.exit_code == 0, result.output
    means = {line.split()[0]: float(line.split()[1]) for line in result.output.splitlines()[2:]}
    assert set(means) == {"none", "json_schema", "template", "marked_template", "described_template", "noted_template",
                          "outline"}
    assert "1 records with a schema" in result.output
    assert means["none"] < min(means["template"], means["outline"]) and means["template"] < means["json_schema"]

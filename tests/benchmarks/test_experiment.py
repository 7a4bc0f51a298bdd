"""The experiment end to end on the tiny model: train three, benchmark four, write the deliverables."""

from __future__ import annotations

import csv
import json

import pytest

from jsontune.benchmarks.experiment import run_experiment
from jsontune.evaluation.compare import compare_runs
from jsontune.evaluation.report import PANEL_TITLES

pytestmark = pytest.mark.slow


def test_experiment_trains_complete_lora_and_with_ablation_the_no_schema_model_and_benchmarks_them_with_the_base(
        make_recipe, tiny_data, tmp_path, capsys):
    small = {"test_fraction": 0.5, "eval_max_new_tokens": 8, "eval_temperatures": [0.7], "dev_rows": 0,
             "eval_constrained_max_new_tokens": 24}
    full = make_recipe(use_peft=False, max_steps=2, jsontune=small)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=small)
    results = tmp_path / "results"

    runs = run_experiment(full, lora, results, with_ablation=True)

    assert [(r.model, r.decoding) for r in runs] == [
        ("base", "greedy"), ("base", "constrained"), ("complete", "greedy"), ("complete", "progressive"),
        ("complete", "constrained"), ("lora", "greedy"), ("lora", "progressive"), ("lora", "constrained"),
        ("lora-no-schema", "greedy")]
    for name in ("benchmark_results.png", "benchmark_results.csv", "experiment_metadata.json", "report.md"):
        assert (results / name).stat().st_size > 0, name
    assert (results / "benchmark_results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metadata = json.loads((results / "experiment_metadata.json").read_text())
    assert metadata["plot_panels"] == list(PANEL_TITLES)
    assert metadata["test_rows"] == 1 and set(metadata["recipes"]) == {"complete", "lora", "lora-no-schema"}
    # The ablation is the LoRA recipe without the schema in its prompts, trained beside it.
    ablation = metadata["recipes"]["lora-no-schema"]["resolved"]
    assert ablation["jsontune"]["schema_in_prompt"] is False and ablation["output_dir"].endswith("lora-no-schema")
    prompt = json.loads((tmp_path / "lora-no-schema" / "jsontune_prompt.json").read_text())
    assert prompt["schema_in_prompt"] is False
    assert all(len(info["sha256"]) == 64 for info in metadata["data_files"].values())
    assert {"train_complete_s", "train_lora_s", "eval_base_greedy_s", "eval_lora_constrained_s",
            "total_s"} <= set(metadata["timings"])
    assert metadata["decoding"]["base/constrained"]["max_new_tokens"] == 24
    rows = list(csv.DictReader((results / "benchmark_results.csv").open()))
    assert len(rows) == 9 * 2  # runs x (the one dataset + "all")
    constrained = [row for row in rows if row["decoding"] == "constrained"]
    assert {row["model"] for row in constrained} == {"base", "complete", "lora"}
    assert all(row["cut_off_rate"] != "" for row in constrained)
    assert {row["dataset"] for row in rows} == {"all", tiny_data.parent.name}  # a record's dataset: its folder

    # The greedy run of a progressive evaluation is its first attempts, rescored.
    greedy = json.loads((results / "runs/lora/greedy/predictions.jsonl").read_text())
    progressive = json.loads((results / "runs/lora/progressive/predictions.jsonl").read_text())
    assert greedy["output"] == progressive["attempt_history"][0]["output"]
    assert greedy["attempts"] == 1 and progressive["attempts"] in (1, 2)

    trained = {(r.model, r.decoding): r.metrics for r in runs}
    assert trained[("lora", "greedy")]["trainable_parameters"] < trained[("complete", "greedy")]["trainable_parameters"]
    assert trained[("lora", "greedy")]["model_size_mb"] < trained[("complete", "greedy")]["model_size_mb"]
    assert (results / "recipes" / "lora.yaml").is_file()
    report = (results / "report.md").read_text()
    assert "Complete vs LoRA" in report and "## Training vs decoding" in report
    section = report.split("## Training vs decoding")[1].split("\n## ")[0]
    assert [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:] \
        == ["| base", "| complete", "| lora"]
    assert "report.md" in capsys.readouterr().out

    # `jsontune compare` of the experiment's own evaluation folders, in its order, gives its report's sections, and
    # one more: every run against the first.
    compared = compare_runs([str(results / "runs" / r.model / r.decoding) for r in runs], tmp_path / "compared")
    sections = report.split("\n## ")[1:]
    again = compared["report"].read_text().split("\n## ")[1:]
    assert [s for s in again if not s.startswith("Paired tests against base / greedy")] == sections

    # Skipping training still benchmarks what was trained before; without --with-ablation the ablation is no part
    # of the comparison, even where one was trained before; --dataset swaps the data.
    unconstrained = {**small, "eval_constrained": False}
    full = make_recipe(use_peft=False, max_steps=2, jsontune=unconstrained)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=unconstrained)
    again = run_experiment(full, lora, tmp_path / "again", skip_complete=True, skip_lora=True)
    assert [r.model for r in again] == ["base", "complete", "complete", "lora", "lora"]
    with pytest.raises(FileNotFoundError, match="--dataset"):
        run_experiment(full, lora, tmp_path / "x", dataset=str(tmp_path / "absent.jsonl"))


def test_with_grpo_the_lora_model_is_reinforced_and_lora_trains_as_long_again_for_the_comparison(
        make_recipe, tiny_data, tmp_path):
    import yaml

    small = {"test_fraction": 0.5, "eval_max_new_tokens": 8, "eval_temperatures": [0.7], "dev_rows": 0,
             "eval_constrained_max_new_tokens": 24}
    lora = make_recipe(use_peft=True, max_steps=2, num_train_epochs=2, jsontune=small)
    complete = make_recipe(use_peft=False, jsontune=small)  # not trained: left out
    grpo = tmp_path / "grpo.yaml"
    grpo.write_text(yaml.safe_dump({
        "model_name_or_path": "set by the experiment", "output_dir": "set by the experiment too", "max_steps": 1,
        "per_device_train_batch_size": 2, "num_generations": 2, "max_completion_length": 8, "logging_steps": 1,
        "save_strategy": "no", "report_to": "none", "seed": 0,
        "jsontune": {"data_files": [str(tiny_data)], "rewards": ["strict_json", "field_f1"], **small}}))
    results = tmp_path / "results"
    with pytest.raises(FileNotFoundError, match="--with-grpo starts from the LoRA model"):
        run_experiment(complete, lora, results, skip_complete=True, skip_lora=True,
                       with_grpo=True, grpo_recipe=grpo)

    runs = run_experiment(complete, lora, results, skip_complete=True, with_grpo=True,
                          grpo_recipe=grpo)

    trained = [(r.model, r.decoding) for r in runs if r.model.startswith("lora")]
    assert trained == [(model, decoding) for model in ("lora", "lora+more-sft", "lora+grpo")
                       for decoding in ("greedy", "progressive", "constrained")]
    assert (tmp_path / "lora-grpo" / "rewards.png").is_file()  # beside the LoRA model, as the ablation
    metadata = json.loads((results / "experiment_metadata.json").read_text())
    times = metadata["grpo_vs_more_sft"]
    lora_s = run_dir_figures(tmp_path / "lora")["train_runtime_s"]
    grpo_s = run_dir_figures(tmp_path / "lora-grpo")["train_runtime_s"]
    assert times["lora_train_s"] == lora_s and times["budget_s"] == pytest.approx(lora_s + grpo_s)
    # GRPO started from the LoRA model; more SFT is the LoRA recipe with the time budget of both.
    assert metadata["recipes"]["lora+grpo"]["resolved"]["model_name_or_path"] == str(tmp_path / "lora")
    more = metadata["recipes"]["lora+more-sft"]["resolved"]
    assert more["jsontune"]["max_train_seconds"] == pytest.approx(lora_s + grpo_s, abs=0.05)
    assert more["num_train_epochs"] == pytest.approx(2 * (lora_s + grpo_s) / lora_s, abs=1e-3)
    assert more["output_dir"] == str(tmp_path / "lora-more-sft")
    assert "# resolved from" in (results / "recipes" / "lora+grpo.yaml").read_text().splitlines()[0]
    assert "scripts/grpo.py" in (results / "recipes" / "lora+grpo.yaml").read_text().splitlines()[0]
    report = (results / "report.md").read_text()
    assert "## GRPO vs more SFT" in report and "| greedy | all | lora+grpo − lora+more-sft |" in report


def run_dir_figures(directory):
    from jsontune.run_dir import read_train_results

    return read_train_results(directory)


def test_the_old_skip_ablation_flag_is_refused_with_what_replaced_it():
    from typer.testing import CliRunner

    from jsontune.cli import app

    result = CliRunner().invoke(app, ["experiment", "--skip-ablation"])
    assert result.exit_code == 2 and "--with-ablation" in result.output

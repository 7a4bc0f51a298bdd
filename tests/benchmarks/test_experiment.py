"""The experiment end to end on the tiny model: train three, benchmark four, write the deliverables."""

from __future__ import annotations

import csv
import json

import pytest

from jsontune.benchmarks.experiment import run_experiment
from jsontune.evaluation.report import PANEL_TITLES

pytestmark = pytest.mark.slow


def test_experiment_trains_complete_lora_and_the_no_schema_ablation_and_benchmarks_them_with_the_base(
        make_recipe, tiny_data, tmp_path, capsys):
    small = {"test_fraction": 0.5, "eval_max_new_tokens": 8, "eval_temperatures": [0.7], "dev_rows": 0,
             "eval_constrained_max_new_tokens": 24}
    full = make_recipe(use_peft=False, max_steps=2, jsontune=small)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=small)
    results = tmp_path / "results"

    runs = run_experiment(full, lora, results)

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

    # Skipping training still benchmarks what was trained before; --dataset swaps the data.
    unconstrained = {**small, "eval_constrained": False}
    full = make_recipe(use_peft=False, max_steps=2, jsontune=unconstrained)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=unconstrained)
    again = run_experiment(full, lora, tmp_path / "again", skip_complete=True, skip_lora=True, skip_ablation=True)
    assert [r.model for r in again] == ["base", "complete", "complete", "lora", "lora", "lora-no-schema"]
    with pytest.raises(FileNotFoundError, match="--dataset"):
        run_experiment(full, lora, tmp_path / "x", dataset=str(tmp_path / "absent.jsonl"))

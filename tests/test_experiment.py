"""The experiment end to end on the tiny model: train both, evaluate three, write the summary."""

from __future__ import annotations

import json

import pytest

from jsontune.experiment import run_experiment

pytestmark = pytest.mark.slow


def test_experiment_trains_both_and_compares_three_models(make_recipe, tmp_path, capsys):
    small = {"test_fraction": 0.5, "eval_max_new_tokens": 8}
    full = make_recipe(use_peft=False, max_steps=2, jsontune=small)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=small)
    results = tmp_path / "results"

    rows = run_experiment(full, lora, results)

    assert [r["model"] for r in rows] == ["base", "complete", "lora"]
    summary = json.loads((results / "summary.json").read_text())
    assert summary["test_rows"] == 1 and len(summary["rows"]) == 3
    for label in ("base", "complete", "lora"):
        metrics = json.loads((results / label / "metrics.json").read_text())
        assert metrics["n"] == 1 and 0.0 <= metrics["field_f1"] <= 1.0
        prediction = json.loads((results / label / "predictions.jsonl").read_text())
        assert {"id", "prompt", "reference", "output", "parsed", "field_f1"} <= set(prediction)
    trained = {r["model"]: r for r in rows}
    assert trained["lora"]["trainable_parameters"] < trained["complete"]["trainable_parameters"]
    assert (results / "recipes" / "lora.yaml").is_file()
    assert "| lora |" in capsys.readouterr().out

    # Skipping training still evaluates what was trained before; --dataset swaps the data.
    again = run_experiment(full, lora, tmp_path / "again", skip_complete=True, skip_lora=True)
    assert [r["model"] for r in again] == ["base", "complete", "lora"]
    with pytest.raises(FileNotFoundError, match="--dataset"):
        run_experiment(full, lora, tmp_path / "x", dataset=str(tmp_path / "absent.jsonl"))

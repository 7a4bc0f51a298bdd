"""`jsontune eval` end to end on a file no model has seen, with the base model and a trained one.

The figures in metrics.json are recomputed here from predictions.jsonl by independent code, and the
`evaluate` module gives the same numbers as the command.
"""

from __future__ import annotations

import json
import math
import statistics

import pytest
from typer.testing import CliRunner

from jsontune.cli import app
from jsontune.evaluation.metrics import METRIC_NAMES, QUALITY_WEIGHTS
from jsontune.recipe import load_recipe
from jsontune.training.train import train
from tests import REPO

pytestmark = pytest.mark.slow

UNSEEN = [
    {"id": "pets-1", "prompt": "Make JSON: 'Rex is a 3 year old dog.'",
     "reference": {"pet": {"name": "Rex", "species": "dog", "age": 3}},
     "schema": {"type": "object", "required": ["pet"],
                "properties": {"pet": {"type": "object", "required": ["name"]}}}},
    {"id": "books-1", "prompt": "Make JSON: 'Dune by Frank Herbert, 412 pages.'",
     "reference": {"title": "Dune", "author": "Frank Herbert", "pages": 412}},
    {"id": "snips-1", "prompt": "Extract the intent and slots as JSON: 'play jazz on spotify'",
     "reference": {"intent": "PlayMusic", "slots": {"genre": "jazz", "service": "spotify"}},
     "meta": {"dataset": "snips"}},
]


@pytest.fixture
def unseen_file(tmp_path):
    path = tmp_path / "unseen" / "records.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in UNSEEN))
    return path


def _eval(*args: str) -> dict:
    result = CliRunner().invoke(app, ["eval", *args])
    assert result.exit_code == 0, result.output
    return result


def _canonical(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _strict(text: str) -> bool:
    try:
        json.loads(text.strip())
        return True
    except ValueError:
        return False


def assert_metrics_agree_with_predictions(out) -> tuple[dict, list[dict]]:
    """Recompute metrics.json from predictions.jsonl with code that shares nothing with jsontune.metrics."""
    metrics = json.loads((out / "metrics.json").read_text())
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert metrics["n"] == len(rows) == len(UNSEEN)
    assert [r["id"] for r in rows] == [r["id"] for r in UNSEEN]
    for row in rows:
        assert row["strict_parse"] == _strict(row["output"])
        assert row["parse_ok"] == (row["parsed"] is not None or row["output"].strip() == "null")
        if row["strict_parse"]:
            assert row["parsed"] == json.loads(row["output"])
        expected_exact = row["parse_ok"] and json.dumps(_canonical(row["parsed"]), sort_keys=True) == json.dumps(
            _canonical(row["reference"]), sort_keys=True)
        assert row["exact_match"] == expected_exact
        quality = sum(weight * float(row[{"parse_rate": "parse_ok", "schema_adherence": "schema_valid"}.get(k, k)])
                      for k, weight in QUALITY_WEIGHTS.items())
        assert math.isclose(row["quality_score"], quality, abs_tol=1e-9)
        assert row["attempts"] >= 1 and row["latency_s"] > 0 and row["dataset"]
    per_row = {"strict_parse_rate": "strict_parse", "parse_rate": "parse_ok", "schema_adherence": "schema_valid"}
    for name in METRIC_NAMES:
        mean = statistics.fmean(float(r[per_row.get(name, name)]) for r in rows)
        assert math.isclose(metrics[name], mean, abs_tol=1e-9), name
        low, high = metrics["ci"][name]
        assert low - 1e-9 <= metrics[name] <= high + 1e-9, name
    latencies = sorted(r["latency_s"] for r in rows)
    assert math.isclose(metrics["latency_s"]["mean"], statistics.fmean(latencies))
    assert math.isclose(metrics["latency_s"]["p50"], statistics.median(latencies))
    assert math.isclose(metrics["mean_attempts"], statistics.fmean(r["attempts"] for r in rows))
    slot_rows = [r for r in rows if r["dataset"] == "snips"]
    assert math.isclose(metrics["intent_accuracy"], statistics.fmean(float(r["intent_correct"]) for r in slot_rows))
    assert metrics["peak_memory_mb"] > 0 and metrics["model_size_mb"] > 0 and metrics["total_parameters"] > 0
    assert metrics["datasets"] == {"unseen": 2, "snips": 1}
    return metrics, rows


def test_eval_with_the_base_model(unseen_file, tmp_path, embedded_model_dir):
    out = tmp_path / "base"
    result = _eval("--model", "smollm2-135m-instruct", "--data", str(unseen_file), "--out", str(out),
                   "--max-new-tokens", "24", "--batch-size", "3")
    assert "n=3 strict_parse_rate=" in result.output
    metrics, rows = assert_metrics_agree_with_predictions(out)
    assert metrics["trainable_parameters"] is None and metrics["training"] is None
    assert metrics["decoding"]["mode"] == "greedy" and all(r["attempts"] == 1 for r in rows)
    assert metrics["model_size_mb"] > 400  # the 135M-parameter fp32 checkpoint


def test_eval_with_a_trained_model_matches_the_evaluate_module(make_recipe, unseen_file, tmp_path, monkeypatch):
    recipe = load_recipe(make_recipe(use_peft=True, max_steps=2))
    train(recipe)
    out = tmp_path / "lora"
    _eval("--model", recipe.training.output_dir, "--data", str(unseen_file), "--out", str(out),
          "--decoding", "progressive", "--temperatures", "0.5,1.0", "--max-new-tokens", "8", "--batch-size", "2")
    metrics, rows = assert_metrics_agree_with_predictions(out)
    assert metrics["decoding"]["schedule"] == [None, 0.5, 1.0]
    assert metrics["training"]["global_steps"] == 2 and metrics["trainable_parameters"] > 0
    for row in rows:  # every attempt is kept; the answer is the last
        assert len(row["attempt_history"]) == row["attempts"] and row["attempt_history"][-1]["output"] == row["output"]

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    import evaluate

    module = evaluate.load(str(REPO / "eval" / "json_similarity"))
    figures = module.compute(predictions=[r["output"] for r in rows],
                             references=[json.dumps(r["reference"]) for r in rows],
                             schemas=[json.dumps(r["schema"]) if r.get("schema") else None for r in rows])
    for name in (*METRIC_NAMES, "n", "ci", "slot_f1", "intent_accuracy"):
        assert figures[name] == metrics[name], name


def test_figures_per_task_when_the_records_mix_tasks():
    from jsontune.evaluation.metrics import by_task, row_metrics

    def row(task: str, output: str, reference: dict) -> dict:
        return {"meta": {"task": task}, "reference": reference, **row_metrics(output, reference)}

    rows = [row("function_call", '{"city": "Boston, MA"}', {"city": "Boston, MA"}),
            row("function_call", '{"city": "Boston"}', {"city": "Boston, MA"}),
            row("schema_free", '{"town": "Boston"}', {"city": "Boston"})]
    tasks = by_task(rows)
    assert set(tasks) == {"function_call", "schema_free"}
    # Exact arguments: 1 of the 2 calls; the row without a schema has the fact under a key of its own.
    assert tasks["function_call"]["n"] == 2 and tasks["function_call"]["exact_match"] == 0.5
    assert tasks["schema_free"]["fact_f1"] == 1.0 and tasks["schema_free"]["field_f1"] == 0.0
    assert by_task(rows[:2]) == {}  # one task: the overall figures say it all

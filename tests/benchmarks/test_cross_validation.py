"""Cross-validation end to end on the tiny model: 2 folds, both methods, both decodings, figures recounted by hand."""

from __future__ import annotations

import csv
import json
import statistics

import pytest
import yaml

from jsontune.benchmarks.cross_validation import run_cross_validation
from jsontune.evaluation.metrics import cluster_bootstrap_ci

pytestmark = pytest.mark.slow

DOMAINS = ("orders", "contacts", "alarms", "books")


def _records() -> list[dict]:
    records = []
    for domain in DOMAINS:
        for i in range(3):
            records.append({"id": f"{domain}-{i}", "meta": {"domain": domain},
                            "prompt": f"Please create a JSON object from the following: '{domain} item {i}.'",
                            "reference": {domain: f"item {i}"},
                            "schema": {"type": "object", "properties": {domain: {"type": "string"}},
                                       "required": [domain]}})
    return records


def _predictions(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_two_folds_score_every_row_once_and_the_pooled_figures_are_the_fold_predictions_recounted(
        make_recipe, tmp_path, capsys):
    data = tmp_path / "domains.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    small = {"data_files": [str(data)], "eval_max_new_tokens": 8, "eval_constrained_max_new_tokens": 16}
    complete = make_recipe(use_peft=False, max_steps=2, jsontune=small)
    lora = make_recipe(use_peft=True, max_steps=2, jsontune=small)
    results = tmp_path / "cv"

    paths = run_cross_validation(complete, lora, results, folds=2, max_train_rows_per_domain=2,
                                 max_held_out_rows_per_domain=2)

    metadata = json.loads(paths["metadata"].read_text())
    assert sorted(metadata["fold_of_domain"]) == sorted(DOMAINS)
    assert sorted(metadata["fold_of_domain"].values()) == [0, 0, 1, 1]  # 2 domains of 2 rows each per fold
    scored = {}
    for method in ("complete", "lora"):
        for mode in ("greedy", "constrained"):
            rows = [row for k in (0, 1)
                    for row in _predictions(results / f"fold-{k}" / "runs" / method / mode / "predictions.jsonl")]
            ids = [row["id"] for row in rows]
            assert len(ids) == len(set(ids)) == 8  # every held-out row once: 4 domains x 2 rows
            scored[method, mode] = {row["id"]: row for row in rows}
    for k in (0, 1):  # each fold's models trained on the other fold's domains only
        recipe = yaml.safe_load((results / f"fold-{k}" / "recipes" / "lora.yaml").read_text())
        assert recipe["jsontune"]["split"] == {"name": "domain_folds", "folds": 2, "fold": k,
                                               "max_train_rows_per_domain": 2, "max_held_out_rows_per_domain": 2}
        held = {row["meta"]["domain"] for row in _predictions(results / f"fold-{k}/runs/lora/greedy/predictions.jsonl")}
        assert held == {d for d, fold in metadata["fold_of_domain"].items() if fold == k}

    with paths["csv"].open() as handle:
        table = list(csv.DictReader(handle))
    for method, mode in scored:
        rows = list(scored[method, mode].values())
        pooled = next(r for r in table if (r["scope"], r["method"], r["decoding"]) == ("pooled", method, mode))
        assert int(pooled["n"]) == 8 and int(pooled["domains"]) == 4
        for name, key in (("schema_adherence", "schema_valid"), ("field_f1", "field_f1"), ("parse_rate", "parse_ok")):
            by_hand = statistics.fmean(float(row[key]) for row in rows)
            assert float(pooled[name]) == pytest.approx(by_hand)
            low, high = cluster_bootstrap_ci([float(row[key]) for row in rows], [row["meta"]["domain"] for row in rows])
            assert (float(pooled[f"{name}_low"]), float(pooled[f"{name}_high"])) == pytest.approx((low, high))
            assert low <= by_hand <= high
    for paired in metadata["complete_minus_lora"]:
        mode = paired["decoding"]
        differences = [scored["complete", mode][i]["field_f1"] - scored["lora", mode][i]["field_f1"]
                       for i in scored["lora", mode]]
        assert paired["field_f1"]["n"] == 8
        assert paired["field_f1"]["mean_difference"] == pytest.approx(statistics.fmean(differences))
        per_fold = []
        for k in (0, 1):
            fold_ids = [r["id"] for r in _predictions(results / f"fold-{k}/runs/lora/{mode}/predictions.jsonl")]
            complete_f1, lora_f1 = scored["complete", mode], scored["lora", mode]
            per_fold.append(statistics.fmean(complete_f1[i]["field_f1"] - lora_f1[i]["field_f1"] for i in fold_ids))
        assert paired["per_fold_field_f1"] == pytest.approx(per_fold)
    report = paths["report"].read_text()
    for section in ("## Pooled", "## Complete - LoRA", "## Per fold", "## Domains of each fold"):
        assert section in report
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Run again: everything is reused, nothing trains or evaluates, and the figures are the same.
    trained = {k: (results / f"fold-{k}/models/lora/train_results.json").stat().st_mtime_ns for k in (0, 1)}
    keys = {k: (results / f"fold-{k}/runs/complete/constrained/run_key.json").stat().st_mtime_ns for k in (0, 1)}
    again = run_cross_validation(complete, lora, results, folds=2, max_train_rows_per_domain=2,
                                 max_held_out_rows_per_domain=2)
    assert {k: (results / f"fold-{k}/models/lora/train_results.json").stat().st_mtime_ns for k in (0, 1)} == trained
    assert {k: (results / f"fold-{k}/runs/complete/constrained/run_key.json").stat().st_mtime_ns
            for k in (0, 1)} == keys
    assert again["csv"].read_text() == paths["csv"].read_text()


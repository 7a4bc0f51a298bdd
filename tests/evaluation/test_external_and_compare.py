"""`jsontune score` (answers produced elsewhere) and `jsontune compare` (runs side by side), on hand-made files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from jsontune.errors import JsontuneError
from jsontune.evaluation.compare import CompareError, compare_runs
from jsontune.evaluation.external import AnswersError, score_answers
from jsontune.evaluation.metrics import row_metrics
from jsontune.evaluation.report import BenchmarkRun
from jsontune.evaluation.seed_pooling import PoolingError, pool_runs

PAIR = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a", "b"]}
RECORDS = [{"id": f"q{i}", "prompt": f"question {i}", "reference": {"a": i, "b": "x"}, "schema": PAIR}
           for i in range(1, 5)]


def _answers(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_answers_from_elsewhere_are_scored_as_a_models_with_figures_worked_out_by_hand(tmp_path):
    answers = _answers(tmp_path / "system-x.jsonl", [
        {"id": "q2", "output": '{"a": 3, "b": "x"}', "latency_s": 0.5},  # one field of two right: F1 0.5
        {"id": "q1", "output": {"a": 1, "b": "x"}, "latency_s": 1.5},    # a JSON value, exactly right
        {"id": "q4", "output": '{"a": 4}', "latency_s": 1.0},             # b missing: schema invalid; F1 2/3
        {"id": "q3", "output": "I cannot do that.", "latency_s": 2.0},    # no JSON at all
    ])

    metrics = score_answers(RECORDS, answers, tmp_path / "out")

    rows = [json.loads(line) for line in (tmp_path / "out/predictions.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["q1", "q2", "q3", "q4"]  # the data's order
    assert [row["field_f1"] for row in rows] == pytest.approx([1.0, 0.5, 0.0, 2 / 3])
    assert metrics["n"] == 4 and metrics["label"] == "system-x"
    assert metrics["parse_rate"] == pytest.approx(3 / 4)
    assert metrics["schema_adherence"] == pytest.approx(2 / 4)
    assert metrics["exact_match"] == pytest.approx(1 / 4)
    assert metrics["field_f1"] == pytest.approx((1 + 0.5 + 0 + 2 / 3) / 4)
    assert metrics["latency_s"]["mean"] == pytest.approx(1.25)


@pytest.mark.parametrize("rows, words", [
    ([{"id": "q1", "output": "{}"}, {"id": "q2", "output": "{}"}, {"id": "q3", "output": "{}"}],
     "records without an answer: q4"),
    ([*({"id": f"q{i}", "output": "{}"} for i in range(1, 5)), {"id": "q9", "output": "{}"}],
     "ids not in the data: q9 (line 5)"),
    ([*({"id": f"q{i}", "output": "{}"} for i in range(1, 5)), {"id": "q2", "output": "{}"}],
     "ids given twice: q2 (lines 2, 5)"),
    ([{"id": "q1"}], "answers.jsonl:1: a row needs an \"id\" and an \"output\""),
])
def test_an_answers_file_that_is_not_one_answer_per_record_is_refused_naming_the_ids(rows, words, tmp_path):
    with pytest.raises(AnswersError) as caught:
        score_answers(RECORDS, _answers(tmp_path / "answers.jsonl", rows), tmp_path / "out")
    assert words in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_compare_puts_runs_side_by_side_and_tests_each_against_the_first_on_the_same_rows(tmp_path):
    right = [{"id": r["id"], "output": r["reference"]} for r in RECORDS]
    half = [{"id": r["id"], "output": {**r["reference"], "a": 0}} for r in RECORDS]  # F1 0.5 on every row
    score_answers(RECORDS, _answers(tmp_path / "right.jsonl", right), tmp_path / "right")
    score_answers(RECORDS, _answers(tmp_path / "half.jsonl", half), tmp_path / "half")

    paths = compare_runs([str(tmp_path / "right"), f"worse={tmp_path / 'half'}"], tmp_path / "cmp")

    report = paths["report"].read_text()
    overall = report.split("## Overall")[1].split("\n## ")[0]
    assert "| right | external | 4 |" in overall and "| worse | external | 4 |" in overall
    paired = report.split("## Paired tests against right / external")[1].split("\n## ")[0]
    # Every row loses half its fields: a difference of -0.5 on 4 pairs (the bootstrap interval a single point),
    # all of one sign, so the exact two-sided Wilcoxon p is 2 / 2^4 = 0.125. Schema adherence stays (both follow
    # the schema): no discordant pair, McNemar p = 1.
    assert ("| external | all | worse / external − right / external | 4 | −0.500 [−0.500, −0.500] | 0.12 "
            "| +0.000 [0.000, 0.000] | 1.0 |") in paired
    assert (tmp_path / "cmp/benchmark_results.png").read_bytes()[:4] == b"\x89PNG"

    with pytest.raises(JsontuneError, match="--overwrite"):
        compare_runs([str(tmp_path / "right"), str(tmp_path / "half")], tmp_path / "cmp")


def test_compare_refuses_runs_of_other_rows_one_folder_twice_or_one_label_it_was_not_told_to_pool(tmp_path):
    answers = [{"id": r["id"], "output": r["reference"]} for r in RECORDS]
    score_answers(RECORDS, _answers(tmp_path / "a.jsonl", answers), tmp_path / "all")
    score_answers(RECORDS, _answers(tmp_path / "a.jsonl", answers), tmp_path / "again", label="a")
    score_answers(RECORDS[:3], _answers(tmp_path / "b.jsonl", answers[:3]), tmp_path / "three")

    with pytest.raises(CompareError, match="not the same rows .*1 of its rows missing \\(q4\\)"):
        compare_runs([str(tmp_path / "all"), str(tmp_path / "three")], tmp_path / "cmp")
    with pytest.raises(CompareError, match="not the same rows"):  # a seed of a pooled run too
        compare_runs([str(tmp_path / "all"), f"x={tmp_path / 'again'}", f"x={tmp_path / 'three'}"], tmp_path / "cmp")
    with pytest.raises(CompareError, match="given twice"):
        compare_runs([f"x={tmp_path / 'all'}", f"x={tmp_path / 'all'}", str(tmp_path / "again")], tmp_path / "cmp")
    with pytest.raises(CompareError, match="name them apart as NAME=FOLDER, or give them one NAME"):
        compare_runs([str(tmp_path / "all"), str(tmp_path / "again")], tmp_path / "cmp")  # both labelled "a"
    with pytest.raises(CompareError, match="another run to compare them with"):
        compare_runs([f"x={tmp_path / 'all'}", f"x={tmp_path / 'again'}"], tmp_path / "cmp")
    assert not (tmp_path / "cmp").exists()


def test_folders_given_one_name_are_pooled_as_seeds_and_tested_on_each_rows_mean(tmp_path):
    right = [{"id": r["id"], "output": r["reference"]} for r in RECORDS]
    score_answers(RECORDS, _answers(tmp_path / "right.jsonl", right), tmp_path / "right")
    # Each seed's model leaves out "b" (schema invalid, field F1 2/3) on one row, another row for each seed.
    for seed, missed in ((42, "q1"), (43, "q2")):
        answers = [{"id": r["id"], "output": {"a": r["reference"]["a"]} if r["id"] == missed else r["reference"]}
                   for r in RECORDS]
        score_answers(RECORDS, _answers(tmp_path / f"new{seed}.jsonl", answers), tmp_path / f"new{seed}")

    paths = compare_runs([str(tmp_path / "right"), f"new={tmp_path / 'new42'}", f"new={tmp_path / 'new43'}"],
                         tmp_path / "cmp")

    report = paths["report"].read_text()
    assert "new / external (n = 4, each row the mean of 2 runs)" in report
    records = {row["model"]: row for row in csv.DictReader(paths["csv"].open()) if row["dataset"] == "all"}
    # Rows q1 and q2 follow the schema in one seed of two and score (2/3 + 1) / 2; q3 and q4 are right in both.
    assert float(records["new"]["schema_adherence"]) == pytest.approx((0.5 + 0.5 + 1 + 1) / 4)
    assert float(records["new"]["field_f1"]) == pytest.approx((5 / 6 + 5 / 6 + 1 + 1) / 4)
    paired = report.split("## Paired tests against right / external")[1].split("\n## ")[0]
    # Row means against the baseline: field F1 -1/6 on two rows, adherence -0.5 on two, zero on the others; two
    # non-zero differences of one sign give the exact Wilcoxon p 2 / 2^2 = 0.5, for adherence too (W: the shares
    # are not yes or no, so McNemar does not apply).
    assert ("| external | all | new / external − right / external | 4 | −0.083 [−0.167, 0.000] | 0.5 "
            "| −0.250 [−0.500, 0.000] | 0.5 (W) |") in paired
    metadata = json.loads(paths["metadata"].read_text())
    assert metadata["compared"]["new / external"] == [str(tmp_path / "new42"), str(tmp_path / "new43")]


def test_a_pooled_row_shares_its_yes_no_counts_and_sums_its_slot_counts():
    slots = {"intent": "GetWeather", "slots": {"city": "Paris"}}
    answers = [  # (slot record, schema record) answered by two seeds' models
        ('{"intent": "GetWeather", "slots": {"city": "Paris"}}', '{"a": 1, "b": "x", "c": 2, "d": 3}'),
        ('{"intent": "GetWeather", "slots": {"city": "Rome", "state": "TX"}}', '{"a": 1, "b": "x"}'),
    ]

    def run(decoding: str, outputs: tuple[str, str]) -> BenchmarkRun:
        rows = [{"id": "slot", "output": outputs[0], **row_metrics(outputs[0], slots)},
                {"id": "pair", "output": outputs[1], **row_metrics(outputs[1], {"a": 1, "b": "x"}, PAIR)}]
        return BenchmarkRun("m", decoding, {"n": 2}, rows)

    pooled = pool_runs([run("greedy", answers[0]), run("greedy", answers[1])])

    slot_row, pair_row = pooled.rows
    assert slot_row["slot_counts"] == {"city": [1, 1, 1], "state": [0, 1, 0]}  # [tp, fp, fn], summed
    assert slot_row["parsed"] == {"intent": "GetWeather", "slots": {"city": "Paris"}}  # the first seed's answer
    assert slot_row["intent_correct"] == 1.0 and slot_row["slot_f1"] == 0.5  # the row's own F1s 1 and 0, averaged
    assert pair_row["invented_keys"] == 0.5  # one seed of two invented keys (two of them)
    assert pooled.metrics["invented_key_rate"] == 0.5 and pooled.metrics["pooled_runs"] == 2
    # Counted over both seeds' answers (not the first seed's alone, F1 1): "city" has 1 true positive, 1 false
    # positive and 1 false negative, F1 0.5; "state" has no reference occurrence, so it weighs nothing.
    assert pooled.metrics["slot_f1"] == pytest.approx(0.5)
    with pytest.raises(PoolingError, match="decoded constrained and greedy"):
        pool_runs([run("greedy", answers[0]), run("constrained", answers[1])])


def test_the_report_scores_each_task_apart_when_the_rows_mix_tasks(tmp_path):
    records = [{**r, "meta": {"task": "function_call" if r["id"] in ("q1", "q2") else "form"}} for r in RECORDS]
    right = [{"id": r["id"], "output": r["reference"]} for r in records]
    # Wrong "a" on the two function calls only: exact match 0 and field F1 0.5 there, the forms untouched.
    calls_wrong = [{"id": r["id"], "output": {**r["reference"], "a": 0} if r["meta"]["task"] == "function_call"
                    else r["reference"]} for r in records]
    score_answers(records, _answers(tmp_path / "right.jsonl", right), tmp_path / "right")
    score_answers(records, _answers(tmp_path / "wrong.jsonl", calls_wrong), tmp_path / "wrong")

    paths = compare_runs([str(tmp_path / "right"), str(tmp_path / "wrong")], tmp_path / "cmp")

    section = paths["report"].read_text().split("## Per task")[1].split("\n## ")[0]
    assert ("| wrong | external | function_call | 2 | 1.000 [1.000, 1.000] | 1.000 [1.000, 1.000] "
            "| 0.000 [0.000, 0.000] | 0.500 [0.500, 0.500] |") in section
    assert ("| wrong | external | form | 2 | 1.000 [1.000, 1.000] | 1.000 [1.000, 1.000] "
            "| 1.000 [1.000, 1.000] |") in section
    datasets = [row["dataset"] for row in csv.DictReader(paths["csv"].open()) if row["model"] == "wrong"]
    assert "task: function_call" in datasets and "task: form" in datasets
    per_dataset = paths["report"].read_text().split("## Per dataset")[1].split("\n## ")[0]
    assert "task: " not in per_dataset and "function_call" not in per_dataset

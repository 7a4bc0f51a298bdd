"""The benchmark report: four files written atomically, a CSV that agrees with metrics.aggregate, paired tests."""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

import matplotlib.image
import pytest

from jsontune.evaluation import metrics, report
from jsontune.evaluation.report import PANEL_TITLES, BenchmarkRun, benchmark_table, write_benchmark
from jsontune.evaluation.slot_metrics import SLOT_METRIC_NAMES
from jsontune.run_dir import BENCHMARK_PLOT_FILE

MODELS = ("base", "complete", "lora")
DECODINGS = ("greedy", "progressive")
DATASETS = ("snips", "synthetic")
SKILL = {"base": 0.3, "complete": 0.75, "lora": 0.8}


def _row(row_id: str, dataset: str, score: float, parsed: bool) -> dict:
    """A prediction row carrying the per-row metric keys, as evaluation writes them."""
    value = score if parsed else 0.0
    row = {
        "id": row_id, "dataset": dataset, "output": "{}", "parsed": {} if parsed else None,
        "strict_parse": parsed and score > 0.5, "parse_ok": parsed, "schema_valid": parsed and score > 0.4,
        "structure_similarity": value, "exact_match": parsed and score > 0.9, "field_precision": value,
        "field_recall": value, "field_f1": value, "tree_similarity": value, "semantic_similarity": value,
        "quality_score": value, "latency_s": 0.5 + score, "new_tokens": 20, "attempts": 1 if parsed else 2,
        "rescued": False,
    }
    if dataset == "snips":
        tp = round(3 * value)
        intent_correct = parsed and score > 0.3
        row.update({"reference_intent": "PlayMusic" if int(row_id[-1]) % 2 else "GetWeather",
                    "intent_correct": intent_correct, "slot_f1": value,
                    "slot_counts": {"artist": [tp, 3 - tp, 3 - tp]},
                    "published_slot_counts": {"artist": [tp, 3 - tp, 3 - tp]} if intent_correct else {}})
    return row


def _rows(model: str, decoding: str, n: int = 12) -> list[dict]:
    rng = random.Random(f"{model}-{decoding}")
    rows = []
    for i in range(n):
        score = min(1.0, max(0.0, SKILL[model] + rng.uniform(-0.25, 0.2)))
        rows.append(_row(f"row-{i:02d}", DATASETS[i % 2], round(score, 3), parsed=rng.random() < SKILL[model] + 0.15))
    return rows


def _run(model: str, decoding: str) -> BenchmarkRun:
    rows = _rows(model, decoding)
    run_metrics = metrics.aggregate(rows)
    trained = model != "base"
    run_metrics.update({
        "latency_s": {"mean": 0.9 + 0.1 * MODELS.index(model), "p50": 0.85, "p95": 1.4},
        "generated_tokens_per_second": 14.5, "peak_memory_mb": 900.0 + 100 * MODELS.index(model),
        "peak_memory_kind": "process_max_rss", "model_size_mb": 1.8 if model == "lora" else 538.1,
        "trainable_parameters": {"base": None, "complete": 134_515_008, "lora": 460_800}[model],
        "total_parameters": 134_515_008, "mean_attempts": 1.2 if decoding == "progressive" else 1.0,
        "rescued_rate": 0.1 if decoding == "progressive" else 0.0,
        "training": {"train_runtime_s": 321.0, "train_loss": 0.4, "peak_memory_mb": 2000.0} if trained else None,
        "wall_time_s": 100.0,
    })
    return BenchmarkRun(model, decoding, run_metrics, rows)


@pytest.fixture(scope="module")
def runs() -> list[BenchmarkRun]:
    return [_run(model, decoding) for model in MODELS for decoding in DECODINGS]


@pytest.fixture(scope="module")
def written(runs, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bench")
    return write_benchmark(out, runs, {"seed": 0, "command": "jsontune experiment", "recipes": {"lora": {"r": 16}}})


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _same(cell: str, value) -> bool:
    if value is None:
        return cell == ""
    return float(cell) == pytest.approx(float(value), abs=1e-12)


# ------------------------------------------------------------------------------------------------ files


def test_writes_the_four_files(written):
    assert set(written) == {"png", "csv", "metadata", "report"}
    assert all(path.is_file() for path in written.values())
    assert [p.name for p in written["png"].parent.iterdir() if p.name.endswith(".tmp")] == []


def test_files_get_ordinary_permissions(written):
    umask = os.umask(0)
    os.umask(umask)
    assert {path.stat().st_mode & 0o777 for path in written.values()} == {0o666 & ~umask}


def test_png_is_a_real_image(written):
    data = written["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
    image = matplotlib.image.imread(written["png"])
    height, width = image.shape[:2]
    assert (width, height) == (14 * 120, 10 * 120)


def test_metadata(written):
    meta = json.loads(written["metadata"].read_text())
    assert meta["plot_panels"] == list(PANEL_TITLES)
    assert meta["packages"]["torch"] and meta["packages"]["transformers"]
    assert meta["packages"]["jsontune"]
    assert "json-repair" in meta["packages"]
    assert meta["command"] == "jsontune experiment" and meta["recipes"] == {"lora": {"r": 16}}  # context kept
    assert meta["files"] == {"png": "benchmark_results.png", "csv": "benchmark_results.csv",
                             "metadata": "experiment_metadata.json", "report": "report.md"}
    assert meta["python"].count(".") == 2
    assert set(meta["git"]) == {"commit", "dirty"}
    assert meta["hardware"]["logical_cpus"] >= 1
    assert meta["created_at"].endswith("+00:00")


def test_csv_shape_and_columns(written, runs):
    columns, rows = _read_csv(written["csv"])
    assert len(rows) == len(MODELS) * len(DECODINGS) * (len(DATASETS) + 1)
    assert columns[:4] == ["model", "decoding", "dataset", "n"]
    for name in (*metrics.METRIC_NAMES, *SLOT_METRIC_NAMES):
        assert {name, f"{name}_ci_low", f"{name}_ci_high"} <= set(columns)
    for name in ("latency_mean_s", "latency_p50_s", "latency_p95_s", "generated_tokens_per_second",
                 "peak_memory_mb", "model_size_mb", "trainable_parameters", "train_runtime_s", "mean_attempts",
                 "rescued_rate"):
        assert name in columns
    assert {(r["model"], r["decoding"], r["dataset"]) for r in rows} == {
        (m, d, s) for m in MODELS for d in DECODINGS for s in (*DATASETS, "all")}


def test_csv_all_row_is_the_run_metrics(written, runs):
    _, rows = _read_csv(written["csv"])
    for run in runs:
        (row,) = [r for r in rows if (r["model"], r["decoding"], r["dataset"]) == (run.model, run.decoding, "all")]
        assert int(row["n"]) == run.metrics["n"]
        for name in metrics.METRIC_NAMES:
            assert _same(row[name], run.metrics[name])
            assert _same(row[f"{name}_ci_low"], run.metrics["ci"][name][0])
            assert _same(row[f"{name}_ci_high"], run.metrics["ci"][name][1])
        assert _same(row["slot_f1"], run.metrics["slot_f1"])
        assert _same(row["latency_p95_s"], run.metrics["latency_s"]["p95"])
        assert _same(row["peak_memory_mb"], run.metrics["peak_memory_mb"])
        assert _same(row["trainable_parameters"], run.metrics["trainable_parameters"])  # base: None -> ""
        training = run.metrics["training"]
        assert _same(row["train_runtime_s"], training["train_runtime_s"] if training else None)


def test_csv_dataset_row_is_aggregate_of_its_rows(written, runs):
    _, rows = _read_csv(written["csv"])
    run = runs[3]
    for dataset in DATASETS:
        subset = [r for r in run.rows if r["dataset"] == dataset]
        expected = metrics.aggregate(subset)
        (row,) = [r for r in rows if (r["model"], r["decoding"], r["dataset"]) == (run.model, run.decoding, dataset)]
        assert int(row["n"]) == expected["n"] == 6
        for name in (*metrics.METRIC_NAMES, *SLOT_METRIC_NAMES):
            assert _same(row[name], expected.get(name))
            interval = expected["ci"].get(name) or [None, None]
            assert _same(row[f"{name}_ci_low"], interval[0]) and _same(row[f"{name}_ci_high"], interval[1])
        latencies = sorted(r["latency_s"] for r in subset)
        assert _same(row["latency_mean_s"], sum(latencies) / 6)
        assert _same(row["latency_p50_s"], (latencies[2] + latencies[3]) / 2)
        assert _same(row["generated_tokens_per_second"], 20 * 6 / sum(latencies))
        assert _same(row["model_size_mb"], run.metrics["model_size_mb"])  # run-level facts repeat
    synthetic = [r for r in rows if r["dataset"] == "synthetic"]
    assert all(r["slot_f1"] == "" for r in synthetic)  # no slot rows there


def test_csv_floats_written_plainly(written):
    text = written["csv"].read_text()
    assert "None" not in text and "nan" not in text
    _, rows = _read_csv(written["csv"])
    assert rows[0]["model_size_mb"] == "538.1"


# ------------------------------------------------------------------------------------------------ report.md


def test_report_markdown(written):
    text = written["report"].read_text()
    assert text.startswith("# ")
    assert "![" in text and "(benchmark_results.png)" in text
    assert "## Per dataset" in text and "## Complete vs LoRA" in text
    assert "### greedy decoding" in text and "### progressive decoding" in text
    assert "LoRA − complete quality score: " in text and "LoRA − complete field F1: " in text
    assert "Wilcoxon p = " in text and "exact McNemar p = " in text
    assert "(n = 12 pairs)" in text
    assert "significant at 0.05" in text
    assert "not run" not in text


def test_report_cells_show_confidence_intervals(written, runs):
    text = written["report"].read_text()
    m = runs[0].metrics
    low, high = m["ci"]["quality_score"]
    assert f"{m['quality_score']:.3f} [{low:.3f}, {high:.3f}]" in text


def test_report_sentence_for_identical_models(tmp_path, runs):
    complete = runs[2]
    twin = BenchmarkRun("lora", complete.decoding, complete.metrics, complete.rows)
    paths = write_benchmark(tmp_path, [complete, twin], {})
    text = paths["report"].read_text()
    assert "LoRA − complete quality score: +0.000 [0.000, 0.000], all 12 paired differences are zero, " \
           "so Wilcoxon p = 1.0: not significant at 0.05 (n = 12 pairs)." in text
    assert "(discordant pairs: 0 LoRA-only, 0 complete-only), so exact McNemar p = 1.0: not significant" in text


def test_report_without_lora_says_not_run(tmp_path, runs):
    without_lora = [run for run in runs if run.model != "lora"]
    paths = write_benchmark(tmp_path, without_lora, {})
    text = paths["report"].read_text()
    assert "The paired test was not run for greedy decoding: no lora run (models with greedy runs: base, complete)." \
        in text
    assert "Wilcoxon" not in text
    _, rows = _read_csv(paths["csv"])
    assert len(rows) == 2 * 2 * 3


# ------------------------------------------------------------------------------------------------ robustness


def test_failed_plot_leaves_nothing_behind(tmp_path, runs, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        write_benchmark(tmp_path, runs, {})
    assert list(tmp_path.iterdir()) == []


def test_failed_plot_keeps_the_previous_png(tmp_path, runs, monkeypatch):
    from matplotlib.figure import Figure

    (tmp_path / BENCHMARK_PLOT_FILE).write_bytes(b"previous")

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"partial")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError):
        report.write_plot(tmp_path / BENCHMARK_PLOT_FILE, runs)
    assert [p.name for p in tmp_path.iterdir()] == [BENCHMARK_PLOT_FILE]
    assert (tmp_path / BENCHMARK_PLOT_FILE).read_bytes() == b"previous"


def test_missing_values_are_not_drawn(tmp_path):
    rows = [_row(f"r{i}", "synthetic", 0.5, True) for i in range(3)]
    sparse = BenchmarkRun("base", "greedy", {"n": 3, "parse_rate": 1.0, "ci": {}, "latency_s": None}, rows)
    paths = write_benchmark(tmp_path, [sparse], {"unserialisable": Path("/x")})
    assert matplotlib.image.imread(paths["png"]).shape[0] == 1200
    assert json.loads(paths["metadata"].read_text())["unserialisable"] == "/x"
    _, csv_rows = _read_csv(paths["csv"])
    assert csv_rows[0]["quality_score"] == "" and csv_rows[0]["parse_rate"] == "1.0"


def test_held_out_domains_get_a_table_and_a_plot_of_their_own(tmp_path):
    def held_out(run: BenchmarkRun) -> BenchmarkRun:
        rows = [{**row, "dataset": f"{row['dataset']} (held-out domains)"} if i % 3 == 0 else row
                for i, row in enumerate(run.rows)]
        return BenchmarkRun(run.model, run.decoding, metrics.aggregate(rows), rows)

    runs = [held_out(_run(model, "greedy")) for model in MODELS]
    paths = write_benchmark(tmp_path, runs, {"seed": 0})
    # A later benchmark of one test split into the same folder leaves no stale plot of two behind.
    write_benchmark(tmp_path / "again", runs, {"seed": 0})
    write_benchmark(tmp_path / "again", [_run(model, "greedy") for model in MODELS], {"seed": 0})
    assert not (tmp_path / "again" / "test_splits.png").exists()
    assert matplotlib.image.imread(paths["splits_png"]).shape[2] in (3, 4)
    text = paths["report"].read_text()
    section = text.split("## In-domain vs held-out domains")[1].split("\n## ")[0]
    assert all(f"| {model} | greedy |" in section for model in MODELS)
    with paths["csv"].open() as handle:
        records = {(r["model"], r["dataset"]): r for r in csv.DictReader(handle)}
    for run in runs:
        held = [row for row in run.rows if row["dataset"].endswith("(held-out domains)")]
        assert int(records[(run.model, "held-out domains")]["n"]) == len(held) == 4
        assert float(records[(run.model, "held-out domains")]["field_f1"]) == pytest.approx(
            metrics.aggregate(held)["field_f1"])
        assert int(records[(run.model, "in-domain")]["n"]) == len(run.rows) - 4


def test_one_test_split_gets_no_split_table(written):
    assert "In-domain vs held-out domains" not in written["report"].read_text()
    assert "splits_png" not in written


def test_grpo_and_more_sft_are_tested_against_lora_and_each_other_per_decoding_and_test_split(tmp_path):
    """Hand-made rows with known differences: every row's field F1 is 0.5 (lora), 0.6 (GRPO), 0.9 (more SFT);
    schemas hold for no lora row, for GRPO's first three (both held-out ones among them) and every more-SFT row."""
    def rows(f1: float, valid: int) -> list[dict]:
        return [{**_row(f"r{i}", "synthetic (held-out domains)" if i < 2 else "synthetic", f1, parsed=True),
                 "field_f1": f1, "schema_valid": i < valid} for i in range(6)]

    runs = [BenchmarkRun(model, decoding, metrics.aggregate(model_rows), model_rows)
            for decoding in ("greedy", "constrained")
            for model, model_rows in (("lora", rows(0.5, 0)), ("lora+more-sft", rows(0.9, 6)),
                                      ("lora+grpo", rows(0.6, 3)))]
    times = {"lora_train_s": 100.0, "grpo_train_s": 50.0, "budget_s": 150.0, "more_sft_train_s": 149.0,
             "more_sft_epochs": 1.5, "lora_steps": 10, "grpo_steps": 4, "more_sft_steps": 15,
             "more_sft_stopped_by_time_budget": False}
    text = write_benchmark(tmp_path, runs, {"seed": 0, "grpo_vs_more_sft": times})["report"].read_text()

    section = text.split(f"## {report.GRPO_SECTION}")[1].split("\n## ")[0]
    assert "lora+grpo is that model after 50 s of GRPO (4 steps), 150 s in all" in section
    assert "1.5 epochs (15 steps) in 149 s" in section
    table = {tuple(cell.strip() for cell in line.split("|")[1:4]): [c.strip() for c in line.split("|")[4:-1]]
             for line in section.splitlines() if line.startswith("| ") and "---" not in line}
    for decoding in ("greedy", "constrained"):
        assert table[(decoding, "all", "lora+grpo − lora")][:2] == ["6", "+0.100 [0.100, 0.100]"]
        assert table[(decoding, "all", "lora+grpo − lora")][3].startswith("+0.500")
        assert table[(decoding, "held-out domains", "lora+grpo − lora")][3].startswith("+1.000")
        assert table[(decoding, "in-domain", "lora+grpo − lora")][3].startswith("+0.250")
        assert table[(decoding, "all", "lora+more-sft − lora")][1] == "+0.400 [0.400, 0.400]"
        assert table[(decoding, "all", "lora+grpo − lora+more-sft")][1] == "−0.300 [−0.300, −0.300]"
        assert table[(decoding, "all", "lora+grpo − lora+more-sft")][3].startswith("−0.500")
    assert len(table) == 1 + 2 * 3 * 3  # the header, then decoding x split x comparison
    # Without a GRPO run there is no such section.
    plain = write_benchmark(tmp_path / "plain", runs[:2], {"seed": 0})["report"].read_text()
    assert report.GRPO_SECTION not in plain


def test_an_interval_keeps_three_decimals_so_a_bound_below_a_threshold_reads_below_it():
    from jsontune.evaluation.tables import MISSING, fmt_with_interval

    assert fmt_with_interval(0.94801, 0.93742, 0.95860) == "0.948 [0.937, 0.959]"  # not [0.94, 0.96] beside 0.940
    assert fmt_with_interval(0.5, None, 0.6) == "0.500"
    assert fmt_with_interval(None, 0.1, 0.2) == MISSING


def test_rows_without_a_schema_are_scored_apart_on_the_facts_they_captured(tmp_path):
    def scored(row_id: str, output: str, reference: dict, schema: dict | None) -> dict:
        record = {"id": row_id, "dataset": "synthetic", "reference": reference, "output": output, "latency_s": 0.5,
                  "new_tokens": 9, "attempts": 1, **({"schema": schema} if schema else {})}
        return {**record, **metrics.row_metrics(output, reference, schema)}

    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    rows = [scored("s1", '{"a": 1}', {"a": 1}, schema), scored("s2", '{"a": 2}', {"a": 1}, schema),
            # Keys of the model's choosing: 1 of 2 facts under other keys (fact F1 2*1/(2+2) = 0.5, field F1 0),
            # and both facts under the reference's keys, one key written twice (fact F1 1, field F1 1).
            scored("f1", '{"who": "Ann", "n": 4}', {"name": "Ann", "count": 3}, None),
            scored("f2", '{"name": "Ann", "count": 3, "count": 3}', {"name": "Ann", "count": 3}, None)]
    run = BenchmarkRun("lora", "greedy", metrics.aggregate(rows), rows)
    (free,) = [r for r in benchmark_table([run]) if r["dataset"] == "rows without a schema"]
    assert free["n"] == 2 and free["fact_f1"] == pytest.approx(0.75) and free["field_f1"] == pytest.approx(0.5)
    assert free["duplicate_key_rate"] == 0.5
    report = write_benchmark(tmp_path, [run], {"seed": 0})["report"].read_text()
    assert "## Rows without a schema" in report and "0.750" in report

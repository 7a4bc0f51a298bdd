"""The benchmark's deliverables: a four-panel plot, a CSV, an experiment metadata file and a Markdown report.

`write_benchmark(out_dir, runs, context)` takes one `BenchmarkRun` per model x decoding mode (its
metrics.json and predictions.jsonl rows) and writes, each atomically (temp file + os.replace):

- benchmark_results.png   validity, quality (95% CI), speed and memory, size and trainable parameters
- test_splits.png         schema adherence and field F1 per test split (in-domain, held-out domains), when
                          the split builder held out whole domains
- benchmark_results.csv   one row per model x decoding x dataset (+ "all", + each test split)
- experiment_metadata.json  the experiment's context plus package versions, git commit, hardware
- report.md               tables, the plot, paired complete-vs-LoRA tests (and GRPO-vs-more-SFT ones, and each run
                          against a baseline when the context names one: `jsontune compare`)

Per-group figures come from `jsontune.evaluation.metrics.aggregate`; nothing here re-implements a metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from jsontune.data.domain_split import HELD_OUT, IN_DOMAIN, which_test_split
from jsontune.evaluation import metrics as metrics_module
from jsontune.evaluation.environment import collect_environment
from jsontune.evaluation.metrics import DUPLICATE_KEY_RATE, INVENTED_KEY_RATE
from jsontune.evaluation.significance import mcnemar, paired_comparison
from jsontune.evaluation.slot_metrics import SLOT_METRIC_NAMES
from jsontune.evaluation.tables import (
    MISSING,
    csv_text,
    fmt,
    fmt_ci,
    fmt_with_interval,
    interval,
    markdown_table,
    number,
)
from jsontune.files import atomic_write, write_text
from jsontune.run_dir import (
    BENCHMARK_CSV_FILE,
    BENCHMARK_METADATA_FILE,
    BENCHMARK_PLOT_FILE,
    REPORT_FILE,
    TEST_SPLITS_PLOT_FILE,
)

PANEL_TITLES = (
    "Validity: strict parse, parse, schema adherence",
    "Quality (95% CI)",
    "Speed and memory",
    "Size and trainable parameters",
)

VALIDITY_METRICS = ("strict_parse_rate", "parse_rate", "schema_adherence")
QUALITY_METRICS = ("exact_match", "field_f1", "tree_similarity", "semantic_similarity", "quality_score")
LABELS = {
    "strict_parse_rate": "strict parse", "parse_rate": "parse", "schema_adherence": "schema adherence",
    "structure_similarity": "structure", "exact_match": "exact match", "field_precision": "field precision",
    "field_recall": "field recall", "field_f1": "field F1", "tree_similarity": "tree",
    "semantic_similarity": "semantic", "quality_score": "quality score", "slot_precision": "slot precision",
    "slot_recall": "slot recall", "slot_f1": "slot F1", "slot_precision_published": "slot precision (published)",
    "slot_recall_published": "slot recall (published)", "slot_f1_published": "slot F1 (published)",
    "intent_accuracy": "intent accuracy",
    "parse_ok": "parse rate",
}

MEMORY_KINDS = {"rss_peak": "peak RSS", "process_max_rss": "process max RSS",
                "cuda_max_allocated": "CUDA max allocated"}

ALL_DATASETS = "all"
COMPLETE, LORA = "complete", "lora"
MORE_SFT, GRPO = "lora+more-sft", "lora+grpo"  # the experiment's --with-grpo rows, trained for equal time
GRPO_SECTION = "GRPO vs more SFT"
GRPO_PAIRS = ((LORA, GRPO), (LORA, MORE_SFT), (MORE_SFT, GRPO))
SIGNIFICANCE_LEVEL = 0.05
SPLITS_SECTION = "In-domain vs held-out domains"
SCHEMA_FREE = "rows without a schema"
SCHEMA_FREE_SECTION = "Rows without a schema"
TASK_PREFIX = "task: "  # the CSV's records per `meta.task`, when the rows mix tasks: "task: function_call"
PAIRED_KEYS = ("quality_score", "field_f1")  # Wilcoxon + paired bootstrap; parse_ok gets McNemar
POOLED_RUNS = "pooled_runs"  # in the metrics of a run that pools several seeds' runs (`seed_pooling`): how many


@dataclass
class BenchmarkRun:
    """One model evaluated with one decoding mode: its metrics.json and its predictions.jsonl rows."""

    model: str
    decoding: str
    metrics: dict
    rows: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.model} / {self.decoding}"


# Small helpers


def _datasets(runs: list[BenchmarkRun]) -> list[str]:
    return sorted({_dataset_of(row) for run in runs for row in run.rows})


def _dataset_of(row: dict) -> str:
    return str(row.get("dataset") or "unknown")


def _minus(text: str) -> str:
    return text.replace("-", "−")


def _fmt_count(value: Any) -> str:
    count = number(value)
    if count is None:
        return MISSING
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.3g}{suffix}"
    return f"{count:.0f}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    if p >= 0.9995:
        return "1.0"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2g}"


def _memory_kind(kind: str) -> str:
    return MEMORY_KINDS.get(kind, str(kind).replace("_", " "))


def _performance(run_metrics: dict) -> dict[str, Any]:
    latency = run_metrics.get("latency_s") or {}
    training = run_metrics.get("training") or {}
    return {
        "latency_mean_s": latency.get("mean"),
        "latency_p50_s": latency.get("p50"),
        "latency_p95_s": latency.get("p95"),
        "generated_tokens_per_second": run_metrics.get("generated_tokens_per_second"),
        "peak_memory_mb": run_metrics.get("peak_memory_mb"),
        "model_size_mb": run_metrics.get("model_size_mb"),
        "trainable_parameters": run_metrics.get("trainable_parameters"),
        "train_runtime_s": training.get("train_runtime_s"),
        "mean_attempts": run_metrics.get("mean_attempts"),
        "rescued_rate": run_metrics.get("rescued_rate"),
        "cut_off_rate": run_metrics.get("cut_off_rate"),
    }


def _mean_of(rows: list[dict], key: str) -> float | None:
    values = [number(row.get(key)) for row in rows]
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _row_performance(rows: list[dict], run_metrics: dict) -> dict[str, Any]:
    """Performance figures of a subset of rows: latency and throughput from the rows, run-level facts as they are.

    Peak memory, size on disk, parameters and training time belong to the run, not to a dataset, so a
    per-dataset row repeats them.
    """
    perf = _performance(run_metrics)
    latencies = [v for v in (number(r.get("latency_s")) for r in rows) if v is not None]
    tokens = [number(r.get("new_tokens")) for r in rows]
    perf["latency_mean_s"] = float(np.mean(latencies)) if latencies else None
    perf["latency_p50_s"] = float(np.percentile(latencies, 50)) if latencies else None
    perf["latency_p95_s"] = float(np.percentile(latencies, 95)) if latencies else None
    total_latency = sum(latencies)
    perf["generated_tokens_per_second"] = (
        sum(t for t in tokens if t is not None) / total_latency
        if latencies and total_latency > 0 and len(latencies) == len(rows) and None not in tokens else None
    )
    perf["mean_attempts"] = _mean_of(rows, "attempts")
    perf["rescued_rate"] = _mean_of(rows, "rescued")
    finished = [float(r["finished"]) for r in rows if isinstance(r.get("finished"), (bool, float))]  # float: pooled
    perf["cut_off_rate"] = 1 - float(np.mean(finished)) if finished else None
    return perf


# ---------------------------------------------------------------------------------------------------------------------
# CSV


def csv_columns() -> list[str]:
    """Column names of benchmark_results.csv, in order."""
    columns = ["model", "decoding", "dataset", "n"]
    for name in (*metrics_module.METRIC_NAMES, INVENTED_KEY_RATE, *SLOT_METRIC_NAMES):
        columns += [name, f"{name}_ci_low", f"{name}_ci_high"]
    columns += [DUPLICATE_KEY_RATE, "n_slot_rows", "latency_mean_s", "latency_p50_s", "latency_p95_s",
                "generated_tokens_per_second", "peak_memory_mb", "model_size_mb", "trainable_parameters",
                "train_runtime_s", "mean_attempts", "rescued_rate", "cut_off_rate"]
    return columns


def _csv_record(run: BenchmarkRun, dataset: str, group_metrics: dict, performance: dict) -> dict[str, Any]:
    record: dict[str, Any] = {"model": run.model, "decoding": run.decoding, "dataset": dataset,
                              "n": group_metrics.get("n")}
    for name in (*metrics_module.METRIC_NAMES, INVENTED_KEY_RATE, *SLOT_METRIC_NAMES):
        low, high = interval(group_metrics, name)
        record.update({name: group_metrics.get(name), f"{name}_ci_low": low, f"{name}_ci_high": high})
    record[DUPLICATE_KEY_RATE] = group_metrics.get(DUPLICATE_KEY_RATE)
    record["n_slot_rows"] = group_metrics.get("n_slot_rows")
    record.update(performance)
    return record


def benchmark_table(runs: list[BenchmarkRun]) -> list[dict[str, Any]]:
    """The CSV's records: per run, the "all" row (run.metrics as given), one row per test split when whole
    domains were held out, one for the rows without a schema when some have one and some not, one per task
    ("task: NAME") when the rows mix tasks, then one row per dataset; all but "all" recomputed from the rows."""
    datasets = _datasets(runs)
    splits = _test_splits(runs)
    schema_free = _mixes_schema_free(runs)
    records = []
    for run in runs:
        records.append(_csv_record(run, ALL_DATASETS, run.metrics, _performance(run.metrics)))
        for split in splits:
            subset = [row for row in run.rows if which_test_split(_dataset_of(row)) == split]
            records.append(_csv_record(run, split, metrics_module.aggregate(subset),
                                       _row_performance(subset, run.metrics)))
        if schema_free:
            subset = [row for row in run.rows if not row.get("schema")]
            records.append(_csv_record(run, SCHEMA_FREE, metrics_module.aggregate(subset),
                                       _row_performance(subset, run.metrics)))
        for task, subset in metrics_module.rows_by_task(run.rows).items():
            records.append(_csv_record(run, TASK_PREFIX + task, metrics_module.aggregate(subset),
                                       _row_performance(subset, run.metrics)))
        for dataset in datasets:
            subset = [row for row in run.rows if _dataset_of(row) == dataset]
            group = metrics_module.aggregate(subset)  # no rows: n = 0, every metric None
            records.append(_csv_record(run, dataset, group, _row_performance(subset, run.metrics)))
    return records


def _mixes_schema_free(runs: list[BenchmarkRun]) -> bool:
    """Whether the rows are part with a schema and part without (then the latter are scored apart too)."""
    found = {bool(row.get("schema")) for run in runs for row in run.rows}
    return found == {True, False}


def _by_task_section(table: list[dict[str, Any]]) -> list[str]:
    """Every run per task (`meta.task`), when the rows mix tasks: a function call's exact match is its arguments
    exactly right, and rows without a schema are read on fact F1."""
    records = [r for r in table if r["dataset"].startswith(TASK_PREFIX)]
    if not records:
        return []
    header = ["model", "decoding", "task", "n", "parse", "schema", "exact match", "field F1", "fact F1"]
    body = [[r["model"], r["decoding"], r["dataset"].removeprefix(TASK_PREFIX), str(r["n"]),
             *(_fmt_record_ci(r, key) for key in ("parse_rate", "schema_adherence", "exact_match", "field_f1",
                                                   "fact_f1"))] for r in records]
    note = ("The rows by their `meta.task`. For function calls, exact match is the whole argument object right; "
            "rows without a schema are read on fact F1 (the values captured, whatever keys the model chose).")
    return ["## Per task", "", note, "", *markdown_table(header, body), ""]


def _schema_free_section(table: list[dict[str, Any]]) -> list[str]:
    """The rows without a schema on their own: their keys are the model's choice, so fact F1 (the values it
    captured, wherever it put them) says more than field F1."""
    records = [r for r in table if r["dataset"] == SCHEMA_FREE]
    if not records:
        return []
    header = ["model", "decoding", "n", "parse", "fact F1", "field F1", "duplicate keys"]
    body = [[r["model"], r["decoding"], str(r["n"]), _fmt_record_ci(r, "parse_rate"), _fmt_record_ci(r, "fact_f1"),
             _fmt_record_ci(r, "field_f1"), fmt(r.get(DUPLICATE_KEY_RATE), 3)] for r in records]
    note = ("Rows whose prompt gives no schema (some name their keys in words, \"with keys like ...\"): fact F1 "
            "scores the values an answer captured wherever it put them, field F1 also asks for the reference's "
            "keys.")
    return [f"## {SCHEMA_FREE_SECTION}", "", note, "", *markdown_table(header, body), ""]


def _test_splits(runs: list[BenchmarkRun]) -> list[str]:
    """[in-domain, held-out domains] when some rows come from held-out domains, else [] (one test split)."""
    found = {which_test_split(_dataset_of(row)) for run in runs for row in run.rows}
    return [IN_DOMAIN, HELD_OUT] if HELD_OUT in found else []


# ---------------------------------------------------------------------------------------------------------------------
# Paired tests


def _verdict(p_value: float | None) -> str:
    if p_value is None:
        return "no p-value"
    return ("significant" if p_value < SIGNIFICANCE_LEVEL else "not significant") + f" at {SIGNIFICANCE_LEVEL:g}"


def _paired_sentence(result: dict[str, Any], key: str) -> str:
    name = f"LoRA − complete {LABELS.get(key, key)}"
    if result["n"] == 0:
        return f"{name}: not run, no row ids with this score in both runs."
    mean = _minus(f"{result['mean_difference']:+.3f}")
    ci = result["ci"]
    ci_text = f" [{_minus(f'{ci[0]:.3f}')}, {_minus(f'{ci[1]:.3f}')}]" if ci else ""
    if result["test"].endswith("(all differences zero)"):
        test = f"all {result['n']} paired differences are zero, so Wilcoxon p = 1.0"
    else:
        test = f"Wilcoxon p = {_fmt_p(result['p_value'])}"
    return f"{name}: {mean}{ci_text}, {test}: {_verdict(result['p_value'])} (n = {result['n']} pairs)."


def _mcnemar_sentence(result: dict[str, Any], key: str) -> str:
    name = f"LoRA − complete {LABELS.get(key, key)}"
    if result["n"] == 0:
        return f"{name}: not run, no row ids with this outcome in both runs."
    mean = _minus(f"{result['mean_difference']:+.3f}")
    counts = f"discordant pairs: {result['b_only']} LoRA-only, {result['a_only']} complete-only"
    note = ", so" if result["a_only"] + result["b_only"] == 0 else ","
    return (f"{name}: {mean} ({counts}){note} exact McNemar p = {_fmt_p(result['p_value'])}: "
            f"{_verdict(result['p_value'])} (n = {result['n']} pairs).")


def complete_vs_lora(runs: list[BenchmarkRun], seed: int = 0) -> tuple[list[str], dict[str, Any]]:
    """Markdown lines of the "Complete vs LoRA" section, and the test results per decoding mode."""
    lines = ["## Complete vs LoRA", "",
             ("Paired tests on the same test rows (matched by id); differences are LoRA − complete, with a paired "
              f"bootstrap 95% CI. Significance level {SIGNIFICANCE_LEVEL:g}."), ""]
    results: dict[str, Any] = {}
    decodings = list(dict.fromkeys(run.decoding for run in runs))
    if not decodings:
        return [*lines, "The paired test was not run: there are no runs.", ""], results
    for decoding in decodings:
        by_model = {run.model: run for run in runs if run.decoding == decoding}
        missing = [m for m in (COMPLETE, LORA) if m not in by_model]
        lines.append(f"### {decoding} decoding")
        lines.append("")
        if missing:
            present = ", ".join(sorted(by_model)) or "none"
            lines += [(f"The paired test was not run for {decoding} decoding: no {' or '.join(missing)} run "
                       f"(models with {decoding} runs: {present})."), ""]
            continue
        complete_rows, lora_rows = by_model[COMPLETE].rows, by_model[LORA].rows
        tests = {key: paired_comparison(complete_rows, lora_rows, key, seed=seed) for key in PAIRED_KEYS}
        tests["parse_ok"] = mcnemar(complete_rows, lora_rows, "parse_ok")
        results[decoding] = tests
        for key in PAIRED_KEYS:
            lines.append(f"- {_paired_sentence(tests[key], key)}")
        lines += [f"- {_mcnemar_sentence(tests['parse_ok'], 'parse_ok')}", ""]
    return lines, results


def _signed_with_ci(result: dict[str, Any]) -> str:
    if result["mean_difference"] is None:
        return MISSING
    ci = result.get("ci")
    text = f"{result['mean_difference']:+.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    return _minus(text)


def grpo_vs_more_sft(runs: list[BenchmarkRun], context: dict, seed: int = 0) -> list[str]:
    """Markdown lines of the section comparing LoRA, LoRA + GRPO and LoRA trained for as long (none without
    a lora+grpo run): the times that make it fair, then paired tests per decoding and test split."""
    by_key = {(run.model, run.decoding): run for run in runs}
    if not any(model == GRPO for model, _ in by_key):
        return []
    times = context.get("grpo_vs_more_sft") or {}
    lines = [f"## {GRPO_SECTION}", ""]
    if times:
        stopped = "; the budget stopped it" if times.get("more_sft_stopped_by_time_budget") else ""
        lines += [(f"Equal training time: {LORA} trained {fmt(times.get('lora_train_s'), 0)} s "
                   f"({times.get('lora_steps')} steps); {GRPO} is that model after "
                   f"{fmt(times.get('grpo_train_s'), 0)} s of GRPO ({times.get('grpo_steps')} steps), "
                   f"{fmt(times.get('budget_s'), 0)} s in all; {MORE_SFT} "
                   f"is the LoRA recipe trained from the base for {times.get('more_sft_epochs')} epochs "
                   f"({times.get('more_sft_steps')} steps) in {fmt(times.get('more_sft_train_s'), 0)} s{stopped}. "
                   "Times are the training loops' (train_runtime), without loading; the GRPO run's reward curves "
                   "are rewards.png in its model folder."), ""]
    lines += [("Paired tests on the same test rows (matched by id); each difference is the second model − the "
               "first, with a paired bootstrap 95% CI; field F1 by Wilcoxon signed-rank, schema adherence by exact "
               f"McNemar. Significance level {SIGNIFICANCE_LEVEL:g}."), ""]
    splits = [ALL_DATASETS, *_test_splits(runs)]
    body = []
    for decoding in ("greedy", "constrained"):
        for split in splits:
            for first, second in GRPO_PAIRS:
                if (first, decoding) in by_key and (second, decoding) in by_key:
                    body.append(_paired_row(by_key[(first, decoding)], by_key[(second, decoding)], split,
                                            f"{second} − {first}", seed))
    if not body:
        return [*lines, "The paired tests were not run: no greedy or constrained runs of these models.", ""]
    return [*lines, *markdown_table(PAIRED_TABLE_HEADER, body), ""]


PAIRED_TABLE_HEADER = ["decoding", "test split", "comparison", "n", "field F1 difference", "Wilcoxon p",
                       "schema adherence difference", "McNemar p"]
POOLED_SCHEMA_TEST = ("; where a run pools several seeds (`jsontune compare` with one NAME for several folders), "
                      "a row's schema adherence is the share of its seeds' answers that follow the schema, and "
                      "the McNemar column holds the Wilcoxon signed-rank p of those shares (marked W)")


def _yes_or_no(rows: list[dict], key: str) -> bool:
    return all(row.get(key) in (None, True, False, 0, 1) for row in rows)


def _paired_row(first: BenchmarkRun, second: BenchmarkRun, split: str, comparison: str, seed: int) -> list[str]:
    """One row of a paired table: `second` − `first` on the rows of one test split (or all), matched by id. Schema
    adherence is tested by McNemar while it is yes or no on every row, else (runs pooling seeds) by Wilcoxon."""
    a, b = first.rows, second.rows
    if split != ALL_DATASETS:
        a, b = ([row for row in rows if which_test_split(_dataset_of(row)) == split] for rows in (a, b))
    f1 = paired_comparison(a, b, "field_f1", seed=seed)
    schema = paired_comparison(a, b, "schema_valid", seed=seed)
    if _yes_or_no(a, "schema_valid") and _yes_or_no(b, "schema_valid"):
        schema_p = _fmt_p(mcnemar(a, b, "schema_valid")["p_value"])
    else:
        schema_p = f"{_fmt_p(schema['p_value'])} (W)"
    decoding = first.decoding if first.decoding == second.decoding else f"{first.decoding} → {second.decoding}"
    return [decoding, split, comparison, str(f1["n"]), _signed_with_ci(f1), _fmt_p(f1["p_value"]),
            _signed_with_ci(schema), schema_p]


def against_baseline(runs: list[BenchmarkRun], baseline: str, seed: int = 0) -> list[str]:
    """Markdown lines of the section comparing every run with the `baseline` run (named by its label), overall and
    per test split: `jsontune compare`'s paired tests, in the GRPO section's table."""
    first = next((run for run in runs if run.label == baseline), None)
    if first is None:
        return []
    lines = [f"## Paired tests against {baseline}", "",
             ("Each run − the baseline on the same rows (matched by id), with a paired bootstrap 95% CI; field F1 by "
              f"Wilcoxon signed-rank, schema adherence by exact McNemar{POOLED_SCHEMA_TEST}. "
              f"Significance level {SIGNIFICANCE_LEVEL:g}."),
             ""]
    splits = [ALL_DATASETS, *_test_splits(runs)]
    body = [_paired_row(first, run, split, f"{run.label} − {first.label}", seed)
            for run in runs if run is not first for split in splits]
    if not body:
        return [*lines, "No other run to compare with the baseline.", ""]
    return [*lines, *markdown_table(PAIRED_TABLE_HEADER, body), ""]


# ---------------------------------------------------------------------------------------------------------------------
# Markdown report


def _pooled_note(run: BenchmarkRun) -> str:
    pooled = run.metrics.get(POOLED_RUNS)
    return f", each row the mean of {pooled} runs" if pooled else ""


def _has_slots(metrics_list: list[dict]) -> bool:
    return any(number(m.get("slot_f1")) is not None for m in metrics_list)


def _report_text(runs: list[BenchmarkRun], table: list[dict[str, Any]], context: dict, seed: int) -> str:
    title = context.get("title") or "jsontune benchmark"
    lines = [f"# {title}", ""]
    total = ", ".join(f"{run.label} (n = {run.metrics.get('n', len(run.rows))}{_pooled_note(run)})" for run in runs)
    lines += [f"Runs: {total}." if runs else "No runs.", "",
              "Scores are means over test rows with 95% bootstrap confidence intervals in brackets. "
              "Attempts: answers per row (progressive decoding retries invalid ones); rescued: the share of "
              "rows valid only thanks to a retry. Definitions: docs/metrics.md.", ""]

    slots = _has_slots([run.metrics for run in runs])
    header = ["model", "decoding", "n", "strict parse", "parse", "schema", "exact match", "field F1", "quality score"]
    header += ["slot F1", "intent acc."] if slots else []
    header += ["attempts / rescued", "latency mean / p95 (s)", "tokens/s", "peak memory (MB)", "size (MB)",
               "trainable params"]
    body = []
    for run in runs:
        m, perf = run.metrics, _performance(run.metrics)
        row = [run.model, run.decoding, str(m.get("n", MISSING)),
               *(fmt_ci(m, k) for k in ("strict_parse_rate", "parse_rate", "schema_adherence", "exact_match",
                                         "field_f1", "quality_score"))]
        row += [fmt_ci(m, "slot_f1"), fmt_ci(m, "intent_accuracy")] if slots else []
        memory = fmt(perf["peak_memory_mb"], 0)
        if m.get("peak_memory_kind") and memory != MISSING:
            memory += f" ({_memory_kind(m['peak_memory_kind'])})"
        row += [f"{fmt(m.get('mean_attempts'), 2)} / {fmt(m.get('rescued_rate'), 3)}",
                f"{fmt(perf['latency_mean_s'], 2)} / {fmt(perf['latency_p95_s'], 2)}",
                fmt(perf["generated_tokens_per_second"], 1), memory, fmt(perf["model_size_mb"], 1),
                _fmt_count(perf["trainable_parameters"])]
        body.append(row)
    lines += ["## Overall", "", *markdown_table(header, body), ""]

    lines += _by_test_split(table)
    splits = {IN_DOMAIN, HELD_OUT}
    per_dataset = [r for r in table if r["dataset"] not in (ALL_DATASETS, SCHEMA_FREE) and r["dataset"] not in splits
                   and not r["dataset"].startswith(TASK_PREFIX)]
    slots = _has_slots(per_dataset)
    header = ["model", "decoding", "dataset", "n", "parse", "schema", "field F1", "semantic", "quality score"]
    header += ["slot F1", "intent acc."] if slots else []
    header += ["latency mean (s)"]
    body = []
    for r in per_dataset:
        row = [r["model"], r["decoding"], r["dataset"], str(r["n"] if r["n"] is not None else MISSING)]
        row += [_fmt_record_ci(r, k) for k in ("parse_rate", "schema_adherence", "field_f1", "semantic_similarity",
                                               "quality_score")]
        row += [_fmt_record_ci(r, "slot_f1"), _fmt_record_ci(r, "intent_accuracy")] if slots else []
        row += [fmt(r["latency_mean_s"], 2)]
        body.append(row)
    dataset_lines = markdown_table(header, body) if body else ["No per-row predictions were given."]
    lines += ["## Per dataset", "", *dataset_lines, ""]
    lines += _by_task_section(table)

    lines += _training_vs_decoding(runs)
    lines += _schema_free_section(table)
    lines += ["## Plot", "", f"![{', '.join(PANEL_TITLES)}]({BENCHMARK_PLOT_FILE})", ""]
    section, _ = complete_vs_lora(runs, seed=seed)
    lines += section
    lines += grpo_vs_more_sft(runs, context, seed=seed)
    if context.get("baseline"):
        lines += against_baseline(runs, context["baseline"], seed=seed)
    csv_file, metadata_file = BENCHMARK_CSV_FILE, BENCHMARK_METADATA_FILE
    lines += ["## Files", "", f"- [{csv_file}]({csv_file}): every figure above, per model × decoding × dataset",
              f"- [{metadata_file}]({metadata_file}): recipes, seeds, data hashes, package versions, hardware", ""]
    return "\n".join(lines)


def _by_test_split(table: list[dict[str, Any]]) -> list[str]:
    """Schema adherence, field F1 and invented keys of every run on each test split, side by side."""
    records = {(r["model"], r["decoding"], r["dataset"]): r for r in table}
    runs = list(dict.fromkeys((r["model"], r["decoding"]) for r in table))
    if not any((model, decoding, HELD_OUT) in records for model, decoding in runs):
        return []
    header = ["model", "decoding"]
    for split in (IN_DOMAIN, HELD_OUT):
        header += [f"n ({split})", f"schema ({split})", f"field F1 ({split})", f"invented keys ({split})"]
    body = []
    for model, decoding in runs:
        row = [model, decoding]
        for split in (IN_DOMAIN, HELD_OUT):
            r = records[(model, decoding, split)]
            row += [str(r["n"]), _fmt_record_ci(r, "schema_adherence"), _fmt_record_ci(r, "field_f1"),
                    fmt(r.get(INVENTED_KEY_RATE), 3)]
        body.append(row)
    note = ("In-domain rows come from domains the models trained on (rows they never saw); held-out domains are "
            "whole domains no training row comes from, each with schemas of its own, so only a model that reads "
            "the schema in its prompt can write their keys.")
    if any(model == "lora-no-schema" for model, _ in runs):
        note += " lora-no-schema is the LoRA recipe trained and prompted without the schema (the ablation)."
    return [f"## {SPLITS_SECTION}", "", note, "", *markdown_table(header, body), "",
            f"![schema adherence and field F1 per test split]({TEST_SPLITS_PLOT_FILE})", ""]


def _training_vs_decoding(runs: list[BenchmarkRun]) -> list[str]:
    """Each model's validity greedy and grammar-constrained: how much comes from training, how much from decoding."""
    by_key = {(run.model, run.decoding): run for run in runs}
    models = [m for m in dict.fromkeys(run.model for run in runs) if (m, "constrained") in by_key]
    if not models:
        return []
    header = ["model", "schema (greedy)", "schema (constrained)", "field F1 (greedy)", "field F1 (constrained)",
              "invented keys (greedy)", "invented keys (constrained)", "cut off (constrained)",
              "keywords not enforced", "schema not compiled"]
    body = []
    for model in models:
        greedy, constrained = by_key.get((model, "greedy")), by_key[(model, "constrained")]
        unenforced = sum(bool(r.get("grammar_unenforced")) for r in constrained.rows)
        not_compiled = sum(bool(r.get("grammar_error")) for r in constrained.rows)
        body.append([
            model, fmt_ci(greedy.metrics, "schema_adherence") if greedy else MISSING,
            fmt_ci(constrained.metrics, "schema_adherence"),
            fmt_ci(greedy.metrics, "field_f1") if greedy else MISSING, fmt_ci(constrained.metrics, "field_f1"),
            fmt(greedy.metrics.get(INVENTED_KEY_RATE), 3) if greedy else MISSING,
            fmt(constrained.metrics.get(INVENTED_KEY_RATE), 3), fmt(constrained.metrics.get("cut_off_rate"), 3),
            f"{unenforced} rows", f"{not_compiled} rows",
        ])
    settings = by_key[(models[0], "constrained")].metrics.get("decoding") or {}

    def bound(name: str, unit: str) -> str:
        value = settings.get(name)
        return f"{value} {unit}" if value is not None else f"unbounded {unit}"

    note = ("Constrained decoding masks every token with a grammar compiled from the record's JSON Schema "
            f"(backend {settings.get('backend', MISSING)}; where the schema sets no bound: "
            f"{bound('max_string_length', 'characters per string')}, {bound('max_items', 'items per array')}, "
            f"{bound('max_digit_run', 'digits in a row')}, {bound('max_depth', 'levels of nesting')}; objects that "
            f"list their properties {'stay open' if settings.get('open_objects') else 'take no others'}). "
            "Invented keys: the share of answers holding a key their schema does not declare. "
            "An answer cut off by the token budget counts as no JSON. Training moves the greedy columns; "
            "decoding moves the constrained ones. Rows whose schema uses keywords the grammar does not "
            "enforce are counted (they are checked with jsonschema all the same), and so are rows whose "
            "schema the backend could not compile (the generic JSON-object grammar stood in).")
    return ["## Training vs decoding", "", note, "", *markdown_table(header, body), ""]


def _fmt_record_ci(record: dict, name: str) -> str:
    return fmt_with_interval(record.get(name), record.get(f"{name}_ci_low"), record.get(f"{name}_ci_high"))


# ---------------------------------------------------------------------------------------------------------------------
# Metadata


def _metadata(context: dict, files: dict[str, str]) -> dict[str, Any]:
    """The experiment's context with the environment added; the facts about this report's files win on conflict."""
    return {
        **context,
        **collect_environment(),
        "plot_panels": list(PANEL_TITLES),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
    }


# ---------------------------------------------------------------------------------------------------------------------
# Plot


def _run_colors(runs: list[BenchmarkRun]) -> list[tuple[Any, str]]:
    """(face colour, hatch) per run: one hue per model; later decoding modes lighter and hatched."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    palette = colormaps["tab10"]
    models = list(dict.fromkeys(run.model for run in runs))
    decodings = list(dict.fromkeys(run.decoding for run in runs))
    styles = []
    for run in runs:
        base = np.array(to_rgb(palette(models.index(run.model) % 10)))
        j = decodings.index(run.decoding)
        lighten = min(0.25 * j, 0.6)
        styles.append((tuple(base + (1 - base) * lighten), ("", "//", "..", "xx", "\\\\")[j % 5]))
    return styles


def _grouped_bars(ax, runs, styles, groups: list[str], values: list[list[float | None]],
                  errors: list[list[tuple[float | None, float | None]]] | None = None,
                  unit_interval: bool = False, label_fmt: Callable[[float], str] = lambda v: f"{v:.2f}",
                  log: bool = False) -> None:
    """Bars per group (x) and run (colour). values[run][group]; None is not drawn."""
    n_runs = max(len(runs), 1)
    width = 0.8 / n_runs
    x = np.arange(len(groups))
    total_bars = sum(v is not None for row in values for v in row)
    label_values = total_bars <= 36
    font = 7 if total_bars > 12 else 8
    for i, (color, hatch) in enumerate(styles[: len(runs)]):
        for g, value in enumerate(values[i]):
            if value is None or (log and value <= 0):
                continue
            position = x[g] - 0.4 + width * (i + 0.5)
            yerr = None
            if errors is not None:
                low, high = errors[i][g]
                if low is not None and high is not None:
                    yerr = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
            ax.bar(position, value, width * 0.92, color=color, hatch=hatch, edgecolor="0.25", linewidth=0.5,
                   yerr=yerr, capsize=2 if yerr else 0, error_kw={"elinewidth": 0.8, "ecolor": "0.15"})
            if not label_values:
                continue
            if unit_interval:
                # Written upright from the bar's foot: clear of the CI whiskers and of the 1.0 ceiling.
                ax.text(position, 0.015, label_fmt(value), rotation=90, ha="center", va="bottom", fontsize=font,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
            else:
                ax.annotate(label_fmt(value), (position, value), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=font, rotation=90 if n_runs > 3 else 0)
    ax.set_xticks(x, groups)
    ax.set_xlim(-0.5, len(groups) - 0.5)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if unit_interval:
        ax.set_ylim(0, 1)
        ax.set_yticks(np.linspace(0, 1, 6))
    elif log:
        ax.set_yscale("log")
        ax.margins(y=0.35)
    else:
        ax.margins(y=0.25 if n_runs <= 3 else 0.4)


def _use_log(values: list[float | None]) -> bool:
    positive = [v for v in values if v is not None and v > 0]
    return len(positive) >= 2 and max(positive) / min(positive) > 20


def _figure(runs: list[BenchmarkRun]):
    from matplotlib.figure import (
        Figure,  # the object API needs no display and leaves pyplot's state alone
    )
    from matplotlib.patches import Patch

    styles = _run_colors(runs)
    fig = Figure(figsize=(14, 10), dpi=120, layout="constrained")
    panels = fig.subfigures(2, 2, hspace=0.04, wspace=0.03).ravel()
    for panel, title in zip(panels, PANEL_TITLES):
        panel.suptitle(title, fontsize=13, fontweight="bold")

    def metric(run: BenchmarkRun, name: str) -> float | None:
        return number(run.metrics.get(name))

    perf = [_performance(run.metrics) for run in runs]

    ax = panels[0].subplots()
    _grouped_bars(ax, runs, styles, [LABELS[k] for k in VALIDITY_METRICS],
                  [[metric(run, k) for k in VALIDITY_METRICS] for run in runs], unit_interval=True)
    ax.set_ylabel("rate")

    ax = panels[1].subplots()
    _grouped_bars(ax, runs, styles, [LABELS[k] for k in QUALITY_METRICS],
                  [[metric(run, k) for k in QUALITY_METRICS] for run in runs],
                  errors=[[interval(run.metrics, k) for k in QUALITY_METRICS] for run in runs], unit_interval=True)
    ax.set_ylabel("mean score (error bars: 95% CI)")

    latency_ax, memory_ax = panels[2].subplots(1, 2, width_ratios=[2, 1])
    _grouped_bars(latency_ax, runs, styles, ["mean", "p95"],
                  [[number(p["latency_mean_s"]), number(p["latency_p95_s"])] for p in perf],
                  label_fmt=lambda v: f"{v:.2f}")
    latency_ax.set_ylabel("latency per row (s)")
    latency_ax.set_title("latency per row", fontsize=10)
    kinds = {run.metrics.get("peak_memory_kind") for run in runs} - {None}
    kind = _memory_kind(kinds.pop()) if len(kinds) == 1 else ("mixed kinds" if kinds else "")
    _grouped_bars(memory_ax, runs, styles, ["peak memory"], [[number(p["peak_memory_mb"])] for p in perf],
                  label_fmt=lambda v: f"{v:.0f}")
    memory_ax.set_ylabel("MB" + (f" ({kind})" if kind else ""))
    memory_ax.set_title("peak memory", fontsize=10)

    size_ax, params_ax = panels[3].subplots(1, 2)
    sizes = [number(p["model_size_mb"]) for p in perf]
    log = _use_log(sizes)
    _grouped_bars(size_ax, runs, styles, ["on disk"], [[v] for v in sizes], log=log,
                  label_fmt=lambda v: f"{v:.3g}")
    size_ax.set_ylabel("MB" + (" (log scale)" if log else ""))
    size_ax.set_title("model size on disk (LoRA: adapter files)", fontsize=10)
    trainable = [number(p["trainable_parameters"]) for p in perf]
    log = _use_log(trainable)
    _grouped_bars(params_ax, runs, styles, ["trainable"], [[v] for v in trainable], log=log, label_fmt=_fmt_count)
    params_ax.set_ylabel("parameters" + (" (log scale)" if log else ""))
    params_ax.set_title("trainable parameters", fontsize=10)

    handles = [Patch(facecolor=color, hatch=hatch, edgecolor="0.25", label=run.label)
               for run, (color, hatch) in zip(runs, styles)]
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 6), fontsize=10,
                   frameon=False)
    return fig


def _splits_figure(runs: list[BenchmarkRun], table: list[dict[str, Any]]):
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    records = {(r["model"], r["decoding"], r["dataset"]): r for r in table}
    styles = _run_colors(runs)
    fig = Figure(figsize=(14, 5.5), dpi=120, layout="constrained")
    splits = [IN_DOMAIN, HELD_OUT]
    for ax, key, title in zip(fig.subplots(1, 2), ("schema_adherence", "field_f1"), ("schema adherence", "field F1")):
        chosen = [[records[(run.model, run.decoding, split)] for split in splits] for run in runs]
        _grouped_bars(ax, runs, styles, splits, [[number(r.get(key)) for r in row] for row in chosen],
                      errors=[[(r.get(f"{key}_ci_low"), r.get(f"{key}_ci_high")) for r in row] for row in chosen],
                      unit_interval=True)
        ax.set_title(f"{title} (error bars: 95% CI)", fontsize=11)
    handles = [Patch(facecolor=color, hatch=hatch, edgecolor="0.25", label=run.label)
               for run, (color, hatch) in zip(runs, styles)]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 5), fontsize=9, frameon=False)
    return fig


def write_splits_plot(path: Path, runs: list[BenchmarkRun], table: list[dict[str, Any]]) -> Path:
    """Render the per-test-split figure to `path` (PNG), atomically."""
    fig = _splits_figure(runs, table)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def write_plot(path: Path, runs: list[BenchmarkRun]) -> Path:
    """Render the four-panel benchmark figure to `path` (PNG), atomically."""
    fig = _figure(runs)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


# ---------------------------------------------------------------------------------------------------------------------
# Entry point


def write_benchmark(out_dir: Path, runs: list[BenchmarkRun], context: dict) -> dict[str, Path]:
    """Write the files to out_dir; return {"png": ..., "csv": ..., "metadata": ..., "report": ...} (and
    "splits_png" when whole domains were held out).

    `context` is what the experiment knows (recipes, seeds, data files with hashes, timings, command
    line, ...); it is written into the metadata with this machine's environment. A "seed" in it seeds
    the paired bootstrap of the report.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"png": out_dir / BENCHMARK_PLOT_FILE, "csv": out_dir / BENCHMARK_CSV_FILE,
             "metadata": out_dir / BENCHMARK_METADATA_FILE,
             "report": out_dir / REPORT_FILE}
    seed = context.get("seed", 0) if isinstance(context.get("seed", 0), int) else 0
    table = benchmark_table(runs)

    write_plot(paths["png"], runs)
    if _test_splits(runs):
        paths["splits_png"] = write_splits_plot(out_dir / TEST_SPLITS_PLOT_FILE, runs, table)
    else:  # a plot of an earlier run's splits would sit beside a report that does not show it
        (out_dir / TEST_SPLITS_PLOT_FILE).unlink(missing_ok=True)
    write_text(paths["csv"], csv_text(table, csv_columns()))
    metadata = _metadata(context, {key: path.name for key, path in paths.items()})
    write_text(paths["metadata"], json.dumps(metadata, indent=2, ensure_ascii=False, default=str) + "\n")
    write_text(paths["report"], _report_text(runs, table, context, seed))
    return paths

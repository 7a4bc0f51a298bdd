"""Evaluate a model on contract records: generate, score each row, write predictions and metrics.

`predictions.jsonl` holds every input field plus `dataset`, `output` (the answer's raw text), `parsed`
(the JSON recovered from it, or null), `attempts`, `latency_s`, `new_tokens` and the row's metrics
(`jsontune.evaluation.metrics.row_metrics`); a progressive run adds `attempt_history`, a constrained one
`grammar_unenforced` (schema keywords its grammar did not enforce) and `grammar_error`. A constrained
answer cut off by the token budget counts as no JSON: it is never repaired. `metrics.json` holds the
aggregate figures with bootstrap confidence intervals (`jsontune.evaluation.metrics.aggregate`) and the
performance figures: latency, tokens/s, peak memory, size on disk, parameters, training figures; where the
records carry more than one `meta.task` (function calls, forms, extraction, rows without a schema), `by_task`
holds the same aggregates per task, since what a figure means differs between them (exact match is a function
call's right arguments; a row without a schema is scored on fact F1).

Everything that can be wrong with the inputs is checked before the model loads, cheapest first: the
settings, the output folder, the records, the model's paths, and whether every prompt fits the model's
context beside the token budget (`jsontune.decoding.budget`).
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from jsontune import run_dir
from jsontune.data.contract import dataset_label, read_jsonl, write_jsonl
from jsontune.data.prompting import PromptConfig, choose_prompt_config, prompt_ids
from jsontune.decoding.budget import check_prompts_fit, check_settings
from jsontune.decoding.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_NEW_TOKENS
from jsontune.decoding.repair import rejected
from jsontune.decoding.strategies import CUT_OFF, Attempt, DecodingConfig, decode
from jsontune.errors import JsontuneError
from jsontune.evaluation.metrics import aggregate, by_task, row_metrics
from jsontune.files import write_json
from jsontune.memory import peak_memory_mb, reset_peak_memory
from jsontune.models.loading import load_weights, model_source
from jsontune.run_dir import METRICS_FILE, PREDICTIONS_FILE

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")


def weights_size_mb(directory: str | Path) -> float | None:
    """Size on disk of the weight files in a model or adapter directory (None when it is not a directory)."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    return sum(p.stat().st_size for p in directory.iterdir() if p.suffix in WEIGHT_SUFFIXES) / 2**20


def score_rows(records: list[dict], attempts: list[list[Attempt]], datasets: list[str]) -> list[dict]:
    """One prediction row per record: its fields, the final answer, its metrics and its attempts."""
    rows = []
    for record, tries, dataset in zip(records, attempts, datasets):
        answer = tries[-1]
        recovery = rejected(CUT_OFF) if answer.cut_off else None
        scores = row_metrics(answer.text, record["reference"], record.get("schema"), recovery)
        row = {
            **record,
            "dataset": dataset,
            "output": answer.text,
            "parsed": scores.pop("parsed"),
            "attempts": len(tries),
            "rescued": len(tries) > 1 and answer.valid,  # valid only thanks to a retry
            "latency_s": sum(t.latency_s for t in tries),
            "new_tokens": answer.new_tokens,
            "generated_tokens": sum(t.new_tokens for t in tries),
            "finished": answer.finished,
            **scores,
        }
        if answer.constrained:
            row["grammar_unenforced"] = answer.grammar_unenforced
            row["grammar_error"] = answer.grammar_error
        if len(tries) > 1 or answer.temperature is not None:
            row["attempt_history"] = [
                {"temperature": t.temperature, "output": t.text, "new_tokens": t.new_tokens,
                 "latency_s": t.latency_s, "finished": t.finished, "valid": t.valid} for t in tries
            ]
        rows.append(row)
    return rows


def performance(rows: list[dict], attempts: list[list[Attempt]]) -> dict[str, Any]:
    """Latency per example, generation speed, retries."""
    if not rows:
        return {"latency_s": None, "generated_tokens_per_second": None, "finished_rate": None,
                "cut_off_rate": None, "mean_attempts": None, "rescued_rate": None}
    latency = np.array([r["latency_s"] for r in rows])
    seconds = sum(t.latency_s for tries in attempts for t in tries)
    tokens = sum(t.new_tokens for tries in attempts for t in tries)
    rescued = sum(r["rescued"] for r in rows)
    return {
        "latency_s": {"mean": float(latency.mean()), "p50": float(np.percentile(latency, 50)),
                      "p95": float(np.percentile(latency, 95))},
        "generated_tokens_per_second": tokens / seconds if seconds else None,
        "finished_rate": sum(r["finished"] for r in rows) / len(rows),
        "cut_off_rate": sum(not r["finished"] for r in rows) / len(rows),
        "grammar_unenforced_rate": sum(bool(r.get("grammar_unenforced")) for r in rows) / len(rows),
        "grammar_error_rate": sum(bool(r.get("grammar_error")) for r in rows) / len(rows),
        "mean_attempts": sum(len(tries) for tries in attempts) / len(rows),
        "rescued_rate": rescued / len(rows),
        "valid_rate": sum(tries[-1].valid for tries in attempts) / len(rows),
    }


def _training_figures(*directories: str | Path | None) -> dict[str, Any] | None:
    for directory in directories:
        figures = run_dir.read_train_results(directory) if directory is not None else None
        if figures is not None:
            figures.pop("test_ids", None)
            return figures
    return None


def scored_metrics(rows: list[dict]) -> dict[str, Any]:
    """The quality figures of scored rows, overall and (`by_task`) per task: one implementation for a local
    model, an endpoint and answers scored from a file."""
    tasks = by_task(rows)
    return {**aggregate(rows), **({"by_task": tasks} if tasks else {})}


def write_run(out_dir: Path, rows: list[dict], metrics: dict[str, Any]) -> None:
    """An evaluation's two files, each written atomically."""
    write_jsonl(out_dir / PREDICTIONS_FILE, rows)
    write_json(out_dir / METRICS_FILE, metrics)


def evaluate_model(
    model_path: str | Path,
    records: list[dict],
    out_dir: str | Path,
    adapter: str | Path | None = None,
    prompt_config: PromptConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    decoding: DecodingConfig | None = None,
    label: str | None = None,
    datasets: list[str] | None = None,
    greedy_out_dir: str | Path | None = None,
    overwrite: bool = True,
    merge_adapter: bool = True,
) -> dict[str, Any]:
    """Generate an answer for every record; write `predictions.jsonl` and `metrics.json` to out_dir.

    A model that jsontune trained is prompted with its saved prompt settings; `prompt_config` is used
    for other models (e.g. the untrained base model, prompted the way the fine-tuned ones were).
    `datasets` labels each record (default: `jsontune.data.contract.dataset_label`). With `greedy_out_dir`, a
    progressive run also writes its greedy results there: every row's first attempt, which is greedy.
    A folder that holds another evaluation is replaced only with `overwrite` (its old files are removed
    before generating). An adapter is merged into its base for decoding unless `merge_adapter` is False
    (`metrics.json` says which: `adapter_merged`). Bad inputs raise a `JsontuneError` before the model loads.
    """
    decoding = decoding or DecodingConfig()
    check_settings(batch_size, max_new_tokens)
    folders = [Path(out_dir), *([Path(greedy_out_dir)] if greedy_out_dir is not None else [])]
    for folder in folders:
        run_dir.check_evaluation_folder(folder, overwrite)
    if not records:
        raise JsontuneError("no records to evaluate")
    datasets = datasets or [dataset_label(r) for r in records]
    source = model_source(model_path, adapter)
    tokenizer = source.tokenizer()
    config = source.prompt_config() or prompt_config or choose_prompt_config(tokenizer)
    prompts = [prompt_ids(tokenizer, record, config) for record in records]
    check_prompts_fit(prompts, records, source.context_length(), max_new_tokens)

    for folder in folders:
        run_dir.clear_evaluation(folder)
    started = time.perf_counter()
    reset_peak_memory()
    model = load_weights(source, merge_adapter=merge_adapter)
    adapter_merged = not hasattr(model, "peft_config") if source.adapter else None
    name = label or Path(str(adapter or model_path)).name
    attempts = decode(model, tokenizer, prompts, [r.get("schema") for r in records], decoding,
                      max_new_tokens=max_new_tokens, batch_size=batch_size, desc=f"evaluating {name}")
    peak_mb, peak_kind = peak_memory_mb()
    total_parameters = sum(p.numel() for p in model.parameters())
    del model
    gc.collect()
    wall_time = time.perf_counter() - started

    training = _training_figures(adapter, model_path)
    info = {
        "model": str(model_path),
        "adapter": str(adapter) if adapter else None,
        "adapter_merged": adapter_merged,
        "label": label,
        "prompt_config": config.__dict__,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "datasets": dict(Counter(datasets)),
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "model_size_mb": weights_size_mb(adapter if adapter else model_path),
        "total_parameters": total_parameters,
        "trainable_parameters": training.get("trainable_parameters") if training else None,
        "training": training,
        "wall_time_s": wall_time,
    }
    out_dir = Path(out_dir)
    rows = score_rows(records, attempts, datasets)
    metrics = {**scored_metrics(rows), **performance(rows, attempts), "decoding": decoding.describe(), **info}
    write_run(out_dir, rows, metrics)
    if greedy_out_dir is not None and decoding.mode == "progressive":
        first = [tries[:1] for tries in attempts]
        greedy_rows = score_rows(records, first, datasets)
        greedy = DecodingConfig("greedy", seed=decoding.seed)
        write_run(Path(greedy_out_dir), greedy_rows, {
            **scored_metrics(greedy_rows), **performance(greedy_rows, first), "decoding": greedy.describe(),
            **info, "derived_from": str(out_dir),
        })
    return metrics


def load_predictions(directory: str | Path) -> list[dict]:
    """The rows of a run's predictions.jsonl."""
    rows, _ = read_jsonl(Path(directory) / PREDICTIONS_FILE)
    return rows

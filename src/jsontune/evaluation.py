"""Evaluate a model on contract records: generate, score each row, write predictions and metrics."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from jsontune.data import write_jsonl
from jsontune.generation import generate, load_for_inference
from jsontune.metrics import aggregate, row_metrics
from jsontune.prompting import PromptConfig, choose_prompt_config, prompt_ids

PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically: a failure leaves the previous file (or none), never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)


def evaluate_model(
    model_path: str | Path,
    records: list[dict],
    out_dir: str | Path,
    adapter: str | Path | None = None,
    prompt_config: PromptConfig | None = None,
    batch_size: int = 16,
    max_new_tokens: int = 192,
    label: str | None = None,
) -> dict[str, Any]:
    """Generate an answer for every record and write `predictions.jsonl` and `metrics.json` to out_dir.

    A model that jsontune trained is prompted with its saved prompt settings; `prompt_config` is used
    for other models (e.g. the untrained base model, prompted the way the fine-tuned ones were).
    """
    model, tokenizer, saved_config = load_for_inference(model_path, adapter)
    config = saved_config or prompt_config or choose_prompt_config(tokenizer)
    prompts = [prompt_ids(tokenizer, record, config) for record in records]
    generations = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                           desc=f"evaluating {label or Path(str(adapter or model_path)).name}")
    rows = []
    for record, generation in zip(records, generations):
        scores = row_metrics(generation.text, record["reference"])
        rows.append({
            **record,
            "output": generation.text,
            "parsed": scores.pop("parsed"),
            "new_tokens": generation.new_tokens,
            "finished": generation.finished,
            "latency_s": generation.latency_s,
            **scores,
        })
    metrics = aggregate(rows)
    total_latency = sum(r["latency_s"] for r in rows)
    metrics.update({
        "model": str(model_path),
        "adapter": str(adapter) if adapter else None,
        "prompt_config": config.__dict__,
        "mean_latency_s": total_latency / len(rows) if rows else None,
        "generated_tokens_per_second": sum(r["new_tokens"] for r in rows) / total_latency if total_latency else None,
        "finished_rate": sum(r["finished"] for r in rows) / len(rows) if rows else None,
    })
    out_dir = Path(out_dir)
    write_jsonl(out_dir / PREDICTIONS_FILE, rows)
    write_json(out_dir / METRICS_FILE, metrics)
    return metrics

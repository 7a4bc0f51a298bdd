"""The folders jsontune writes, named once: a run folder, an evaluation folder and a report folder.

- A run folder is a training's `output_dir`: what the Trainer saves (weights, tokenizer, checkpoints) plus
  jsontune's own files, which say how the model was made and must be prompted: the resolved recipe
  (`recipe.yaml`), the prompt settings (`jsontune_prompt.json`) and the training figures
  (`train_results.json`). A LoRA run holds an adapter (`adapter_config.json`) instead of a whole model.
  A folder that holds a finished training is replaced only when asked (`check_training_folder`: train and
  grpo take --overwrite), and then emptied first, so no file of the old run mixes with the new one; an
  unfinished one (checkpoints, no prompt settings) is resumed.
- An evaluation folder (`jsontune eval --out`) holds `predictions.jsonl` and `metrics.json`, written in that
  order, so a folder with metrics.json holds a finished evaluation. One that holds another evaluation is
  replaced only when asked (`check_evaluation_folder`), and its old files go before the new run starts.
- A report folder (`results/benchmarks/`) holds the benchmark's CSV, plot, metadata and `report.md`.

Every other module takes these names, and the questions about a run folder (is it an adapter, what is
its base, was it trained by jsontune, what did training measure), from here.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from jsontune.errors import JsontuneError
from jsontune.files import write_json

# A run folder
RECIPE_FILE = "recipe.yaml"
PROMPT_CONFIG_FILE = "jsontune_prompt.json"
TRAIN_RESULTS_FILE = "train_results.json"
ADAPTER_CONFIG_FILE = "adapter_config.json"
MODEL_CONFIG_FILE = "config.json"
# The files that describe a run rather than hold its weights: they travel with a merged model and to the Hub.
DESCRIPTION_FILES = (PROMPT_CONFIG_FILE, RECIPE_FILE, TRAIN_RESULTS_FILE)

# An evaluation folder
PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"

# A report folder
BENCHMARK_CSV_FILE = "benchmark_results.csv"
BENCHMARK_PLOT_FILE = "benchmark_results.png"
TEST_SPLITS_PLOT_FILE = "test_splits.png"
BENCHMARK_METADATA_FILE = "experiment_metadata.json"
REPORT_FILE = "report.md"


class RunDirError(JsontuneError):
    """A folder is not the kind of run folder asked for (named with the reason)."""


def is_adapter(directory: str | Path) -> bool:
    """Whether the folder holds a LoRA adapter (not a standalone model)."""
    return (Path(directory) / ADAPTER_CONFIG_FILE).is_file()


def is_model(directory: str | Path) -> bool:
    """Whether the folder holds a standalone model or an adapter."""
    return is_adapter(directory) or (Path(directory) / MODEL_CONFIG_FILE).is_file()


def is_trained(directory: str | Path) -> bool:
    """Whether jsontune finished training into this folder (its prompt settings are saved last but one)."""
    return (Path(directory) / PROMPT_CONFIG_FILE).is_file()


def adapter_base(directory: str | Path) -> str:
    """The base model an adapter folder was trained on, as its adapter_config.json records it."""
    config_path = Path(directory) / ADAPTER_CONFIG_FILE
    if not config_path.is_file():
        raise RunDirError(f"{directory}: not a LoRA adapter folder (no {ADAPTER_CONFIG_FILE})")
    base = json.loads(config_path.read_text()).get("base_model_name_or_path")
    if not base:
        raise RunDirError(f"{config_path}: base_model_name_or_path is not set")
    return base


def adapter_settings(directory: str | Path) -> dict[str, Any]:
    """The adapter's config (rank, alpha, target modules, ...); empty for a standalone model."""
    path = Path(directory) / ADAPTER_CONFIG_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def check_training_folder(directory: str | Path, overwrite: bool) -> None:
    """The folder can take a new training: not a file, and holding no finished training unless `overwrite`.
    Run before any work; `clear_training` then empties a finished one."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise RunDirError(f"{directory}: is a file; output_dir must be a folder")
    if is_trained(directory) and not overwrite:
        raise RunDirError(f"{directory}: holds a finished training (its {PROMPT_CONFIG_FILE}); pass "
                          "--overwrite to replace it, or choose another folder (--output_dir DIR)")


def clear_training(directory: str | Path) -> None:
    """Remove a finished training's folder, so that none of its files (an adapter beside a new complete model,
    its checkpoints, which would be resumed) outlives it. An unfinished folder is kept: it is resumed."""
    if is_trained(directory):
        shutil.rmtree(directory)


def check_evaluation_folder(directory: str | Path, overwrite: bool) -> None:
    """The folder can take a new evaluation: not a file, writable, and holding no other evaluation unless
    `overwrite`. Run before any work, so a bad --out never costs the generation."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise RunDirError(f"{directory}: is a file; the output must be a folder (for {PREDICTIONS_FILE} and "
                          f"{METRICS_FILE})")
    held = [name for name in (PREDICTIONS_FILE, METRICS_FILE) if (directory / name).exists()]
    if held and not overwrite:
        raise RunDirError(f"{directory}: holds another evaluation ({', '.join(held)}); pass --overwrite to "
                          "replace it, or choose another output folder")
    existing = next(p for p in (directory, *directory.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RunDirError(f"{directory}: cannot be written ({existing} is not a writable folder)")


def clear_evaluation(directory: str | Path) -> None:
    """Remove an old evaluation's files, so that a run stopped part-way leaves no results a reader would take
    for its own."""
    for name in (METRICS_FILE, PREDICTIONS_FILE):
        (Path(directory) / name).unlink(missing_ok=True)


def write_train_results(directory: str | Path, figures: dict[str, Any]) -> Path:
    return write_json(Path(directory) / TRAIN_RESULTS_FILE, figures)


def read_train_results(directory: str | Path) -> dict[str, Any] | None:
    """The figures training wrote into the folder, or None when it holds none."""
    path = Path(directory) / TRAIN_RESULTS_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def train_results_text(directory: str | Path) -> str:
    """The raw text of the training figures: a fingerprint of one finished training."""
    return (Path(directory) / TRAIN_RESULTS_FILE).read_text()


def recipe_path(directory: str | Path) -> Path:
    return Path(directory) / RECIPE_FILE

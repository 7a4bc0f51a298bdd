"""Training a benchmark's model in a process of its own, from its resolved recipe.

A benchmark trains several models one after another; each runs `jsontune train` (what `scripts/sft.py`
runs) or `jsontune grpo` in a fresh Python process, so its peak memory and its threads are its own and a failure stops
the benchmark with the training's own log. The resolved recipe is saved under the benchmark's results
folder first (`recipes/<label>.yaml`), so every model can be trained again by hand from it.

A benchmark that is stopped stops its training too (`run_child`): otherwise a SIGTERM to the benchmark would leave
the training running on its own, holding the cores that the next timed run measures on.

A benchmark that resumes reuses what is done: a model whose folder holds a finished training of the recipe asked
for (`trained_as`: the same resolved recipe, evaluation settings aside) is not trained again, and an evaluation
whose model, records and decoding are unchanged (`evaluate_once`: a key written beside its metrics, last) is not run
again. So a run stopped at any point picks up where it stopped, and redoes the step it was in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from jsontune import run_dir
from jsontune.data.splits import SplitError, normalised_split
from jsontune.decoding.strategies import DecodingConfig
from jsontune.evaluation.evaluate import evaluate_model
from jsontune.files import write_json
from jsontune.recipe import JSONTUNE_SECTION, SPLIT_KEY, Recipe, jsontune_defaults
from jsontune.run_dir import METRICS_FILE

logger = logging.getLogger(__name__)

RECIPES_FOLDER = "recipes"
RUN_KEY_FILE = "run_key.json"  # beside an evaluation's metrics: what it evaluated, to know when to redo it


def train_in_subprocess(label: str, recipe: Recipe, results_dir: Path, command: str = "train") -> None:
    """Train as `scripts/sft.py` would (`jsontune train`; or `jsontune grpo` with command="grpo"), in a process
    of its own; RuntimeError when it fails. A benchmark trains its own models on every run, so a finished one
    in the recipe's output_dir is replaced (`--overwrite`), and said so."""
    resolved = recipe.save(Path(results_dir) / RECIPES_FOLDER, f"{label}.yaml")
    if run_dir.is_trained(recipe.training.output_dir):
        logger.info("replacing the %s model in %s with a new training", label, recipe.training.output_dir)
    logger.info("training the %s model with %s (resolved from %s)", label, resolved, recipe.path)
    returncode = run_child([sys.executable, "-m", "jsontune.cli", command, str(resolved), "--overwrite"])
    if returncode != 0:
        raise RuntimeError(f"training the {label} model failed (exit code {returncode}); see the log above")


def train_afresh(label: str, recipe: Recipe, results_dir: Path) -> None:
    """`train_in_subprocess` into an emptied output_dir: a stale or unfinished run of another recipe (which
    `trained_as` refused) leaves nothing behind that could mix with the new one."""
    directory = Path(recipe.training.output_dir)
    if directory.exists():
        shutil.rmtree(directory)
    train_in_subprocess(label, recipe, results_dir)


def run_child(command: list[str]) -> int:
    """Run command to its end and return its exit code; if this process is stopped meanwhile (Ctrl-C, or SIGTERM),
    the child is killed before this process exits."""
    with _terminate_raises():
        return subprocess.run(command).returncode  # run() kills its child on any exception, SystemExit included


@contextmanager
def _terminate_raises() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit (143, the shell's code for it) instead of ending the process at once,
    so that cleanup runs. Signal handlers belong to the main thread: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _training_settings(resolved: dict) -> dict:
    """A resolved recipe without its evaluation settings (jsontune's eval_*), which training does not use, and
    with the jsontune keys and split options it lacks at their defaults (a run saved before such a key existed
    ran without it)."""
    section = {**jsontune_defaults(), **resolved.get(JSONTUNE_SECTION, {})}
    if section.get(SPLIT_KEY):
        try:
            section[SPLIT_KEY] = normalised_split(section[SPLIT_KEY])
        except SplitError:
            pass  # a split today's builders refuse (an option since removed): it differs, so the model retrains
    return {**resolved, JSONTUNE_SECTION: {key: value for key, value in section.items() if not key.startswith("eval_")}}


def same_training(saved: dict, asked: dict) -> bool:
    """Whether a saved resolved recipe trains as the asked one does: evaluation settings aside, a missing jsontune
    key or split option read as its default."""
    plain = yaml.safe_load(yaml.safe_dump(asked))
    return _training_settings(saved) == _training_settings(plain)


def trained_as(directory: str | Path, recipe: Recipe) -> bool:
    """Whether the folder holds a finished training (its results written) of this recipe (`same_training`)."""
    saved = run_dir.recipe_path(directory)
    if run_dir.read_train_results(directory) is None or not saved.is_file():
        return False
    return same_training(yaml.safe_load(saved.read_text()), recipe.resolved())


def fingerprint(*parts: object) -> str:
    """A short hash of JSON-able parts: what a run key compares."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def decoding_for(mode: str, recipe: Recipe) -> tuple[DecodingConfig, int]:
    """A benchmark's decoding mode ("greedy" or "constrained") with the recipe's settings, and its token budget."""
    args = recipe.jsontune
    if mode == "constrained":
        constrained = DecodingConfig("constrained", backend=args.eval_grammar_backend,
                                     open_objects=args.eval_open_objects)
        return constrained, args.eval_constrained_max_new_tokens
    return DecodingConfig("greedy"), args.eval_max_new_tokens


def evaluate_once(model_dir: Path, records: list[dict], out: Path, decoding: DecodingConfig, max_new_tokens: int,
                  fresh: bool = False, **evaluate_kwargs) -> bool:
    """Evaluate the trained model on the records into `out` (`evaluate_model`), unless the same evaluation (the
    same training results, record ids, decoding and budget) is there already; returns whether it ran."""
    key = {"model": fingerprint(run_dir.train_results_text(model_dir)),
           "records": fingerprint([r["id"] for r in records]), "decoding": decoding.describe(),
           "max_new_tokens": max_new_tokens}
    key_file = out / RUN_KEY_FILE
    if not fresh and key_file.is_file() and json.loads(key_file.read_text()) == key and (out / METRICS_FILE).is_file():
        return False
    key_file.unlink(missing_ok=True)  # written last, so that a run cut short is redone
    evaluate_model(model_dir, records, out, max_new_tokens=max_new_tokens, decoding=decoding, **evaluate_kwargs)
    write_json(key_file, key)
    return True

"""Training a benchmark's model in a process of its own, from its resolved recipe.

A benchmark trains several models one after another; each runs `jsontune train` (what `scripts/sft.py`
runs) or `jsontune grpo` in a fresh Python process, so its peak memory and its threads are its own and a failure stops
the benchmark with the training's own log. The resolved recipe is saved under the benchmark's results
folder first (`recipes/<label>.yaml`), so every model can be trained again by hand from it.

A benchmark that is stopped stops its training too (`run_child`): otherwise a SIGTERM to the benchmark would leave
the training running on its own, holding the cores that the next timed run measures on.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jsontune import run_dir
from jsontune.recipe import Recipe

logger = logging.getLogger(__name__)

RECIPES_FOLDER = "recipes"


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

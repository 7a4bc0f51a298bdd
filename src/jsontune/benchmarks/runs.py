"""Training a benchmark's model in a process of its own, from its resolved recipe.

A benchmark trains several models one after another; each runs `jsontune train` (what `scripts/sft.py`
runs) or `jsontune grpo` in a fresh Python process, so its peak memory and its threads are its own and a failure stops
the benchmark with the training's own log. The resolved recipe is saved under the benchmark's results
folder first (`recipes/<label>.yaml`), so every model can be trained again by hand from it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from jsontune.recipe import Recipe

logger = logging.getLogger(__name__)

RECIPES_FOLDER = "recipes"


def train_in_subprocess(label: str, recipe: Recipe, results_dir: Path, command: str = "train") -> None:
    """Train as `scripts/sft.py` would (`jsontune train`; or `jsontune grpo` with command="grpo"), in a process
    of its own; RuntimeError when it fails."""
    resolved = recipe.save(Path(results_dir) / RECIPES_FOLDER, f"{label}.yaml")
    logger.info("training the %s model with %s (resolved from %s)", label, resolved, recipe.path)
    done = subprocess.run([sys.executable, "-m", "jsontune.cli", command, str(resolved)])
    if done.returncode != 0:
        raise RuntimeError(f"training the {label} model failed (exit code {done.returncode}); see the log above")

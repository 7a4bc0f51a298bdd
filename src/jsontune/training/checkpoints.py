"""Which checkpoint a run resumes from.

The Trainer writes a checkpoint's `trainer_state.json` last (after the weights, optimizer, scheduler
and RNG states), so a checkpoint without a readable one was cut short, by a kill or a full disk, and
is passed over for the one before it. transformers' own `get_last_checkpoint` would pick it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from jsontune.errors import MissingFileError

logger = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TRAINER_STATE = "trainer_state.json"


def is_complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / TRAINER_STATE).read_text())
    except (OSError, ValueError):
        return False
    return True


def last_complete_checkpoint(output_dir: str | Path) -> Path | None:
    """The highest-numbered complete `checkpoint-N` folder in output_dir, or None."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    numbered = sorted(((int(m.group(1)), p) for p in folder.iterdir()
                       if p.is_dir() and (m := _CHECKPOINT.match(p.name))), reverse=True)
    for _, checkpoint in numbered:
        if is_complete(checkpoint):
            return checkpoint
        logger.warning("%s is incomplete (no readable %s): passed over", checkpoint, TRAINER_STATE)
    return None


def resume_point(output_dir: str | Path, requested: str | None) -> str | None:
    """What to pass to `Trainer.train(resume_from_checkpoint=...)`.

    `requested` is the recipe's resume_from_checkpoint: a checkpoint path is used as given; "false" starts
    afresh; unset (or "true"/"last") resumes from the last complete checkpoint in output_dir, if any.
    """
    if requested is not None and requested.lower() not in ("true", "last", "false"):
        if not is_complete(Path(requested)):
            raise MissingFileError(f"resume_from_checkpoint {requested!r}: not a complete checkpoint folder "
                                    f"(no readable {TRAINER_STATE})")
        return requested
    if requested is not None and requested.lower() == "false":
        return None
    last = last_complete_checkpoint(output_dir)
    if last is not None:
        logger.info("resuming from %s (set resume_from_checkpoint: false to start afresh)", last)
        return str(last)
    if requested is not None:
        raise MissingFileError(f"resume_from_checkpoint {requested!r}: no complete checkpoint in {output_dir}")
    return None


def tokens_seen_at(checkpoint: str | None) -> int:
    """Input tokens the run had seen when `checkpoint` was saved (0 without one)."""
    if checkpoint is None:
        return 0
    return json.loads((Path(checkpoint) / TRAINER_STATE).read_text()).get("num_input_tokens_seen") or 0

"""Merge a LoRA adapter into its base model and save a standalone model.

The merged folder holds everything `generate_json` and `jsontune eval` need: the model, the
adapter's tokenizer (with its chat template), the prompt settings the adapter was trained with, and
its recipe. It is written to a staging folder beside OUT and renamed into place, so a failure never
leaves half a model at OUT.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from jsontune import run_dir
from jsontune.errors import JsontuneError
from jsontune.models.loading import load_tokenizer, resolve_base

logger = logging.getLogger(__name__)


class MergeError(JsontuneError):
    """The adapter folder cannot be merged (named with the reason)."""


def merged_model(adapter: str | Path, base: str | None = None):
    """(merged model, tokenizer) in fp32 on the CPU: the adapter folded into its base's weights."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    try:
        base_path = resolve_base(base or run_dir.adapter_base(adapter), adapter)
    except run_dir.RunDirError as err:
        raise MergeError(str(err)) from None
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype="float32")
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.eval(), load_tokenizer(adapter)


def merge_adapter(adapter: str | Path, out: str | Path, base: str | None = None, overwrite: bool = False) -> Path:
    """Save adapter + base as one standalone model at `out`; returns `out`."""
    adapter, out = Path(adapter), Path(out)
    check_out(out, overwrite)
    model, tokenizer = merged_model(adapter, base)
    save_standalone(model, tokenizer, out, adapter)
    logger.info("merged %s into its base: %s", adapter, out)
    return out


def check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise MergeError(f"{out} exists: choose another folder or pass --overwrite")


def save_standalone(model, tokenizer, out: Path, described_by: Path) -> None:
    """Write model, tokenizer and the description files of `described_by` (prompt settings, recipe) to `out`,
    through a staging folder beside it, so that a failure leaves nothing half-written there."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for name in run_dir.DESCRIPTION_FILES:
            if (described_by / name).is_file():
                shutil.copy2(described_by / name, staging / name)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

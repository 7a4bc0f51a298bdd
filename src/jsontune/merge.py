"""Merge a LoRA adapter into its base model and save a standalone model.

The merged folder holds everything `generate_json` and `jsontune eval` need: the model, the
adapter's tokenizer (with its chat template), the prompt settings the adapter was trained with, and
its recipe. It is written to a staging folder beside OUT and renamed into place, so a failure never
leaves half a model at OUT.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
# Files of a run that describe it rather than its weights; they travel with the merged model.
RUN_FILES = ("jsontune_prompt.json", "recipe.yaml", "train_results.json")


class MergeError(ValueError):
    """The adapter folder cannot be merged (named with the reason)."""


def adapter_base(adapter: str | Path) -> str:
    """The base model an adapter folder was trained on (as recorded in its adapter_config.json)."""
    config_path = Path(adapter) / ADAPTER_CONFIG
    if not config_path.is_file():
        raise MergeError(f"{adapter}: not a LoRA adapter folder (no {ADAPTER_CONFIG})")
    base = json.loads(config_path.read_text()).get("base_model_name_or_path")
    if not base:
        raise MergeError(f"{config_path}: base_model_name_or_path is not set")
    return base


def merged_model(adapter: str | Path, base: str | None = None):
    """(merged model, tokenizer) in fp32 on the CPU: the adapter folded into its base's weights."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jsontune.generation import resolve_base

    base_path = resolve_base(base or adapter_base(adapter))
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype="float32")
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.eval(), AutoTokenizer.from_pretrained(str(adapter))


def merge_adapter(adapter: str | Path, out: str | Path, base: str | None = None, overwrite: bool = False) -> Path:
    """Save adapter + base as one standalone model at `out`; returns `out`."""
    adapter, out = Path(adapter), Path(out)
    if out.exists() and not overwrite:
        raise MergeError(f"{out} exists: choose another folder or pass --overwrite")
    model, tokenizer = merged_model(adapter, base)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for name in RUN_FILES:
            if (adapter / name).is_file():
                shutil.copy2(adapter / name, staging / name)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("merged %s into its base: %s", adapter, out)
    return out

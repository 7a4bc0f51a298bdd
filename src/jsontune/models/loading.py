"""Loading a trained model for inference: a standalone model, an adapter folder, or a base plus an adapter.

An adapter folder names its base (`jsontune.run_dir.adapter_base`); an embedded base is found, or prepared
again, by its name. The tokenizer is the adapter's when there is one (it carries the chat template training
used), with the pad-token fallback every jsontune path shares (`load_tokenizer`). The prompt settings saved
beside a trained model come back with it, so it is prompted the way it was trained.
"""

from __future__ import annotations

from pathlib import Path

import torch

from jsontune import run_dir
from jsontune.data.prompting import PromptConfig
from jsontune.models.base_model import EMBEDDED_MODELS, resolve_model_name


def load_tokenizer(source: str | Path, revision: str = "main"):
    """The tokenizer of a model or adapter folder, padded with EOS when it names no pad token."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source), revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def resolve_base(name: str) -> str:
    """The path of an adapter's base model: a path as given; an embedded model found (or prepared) again by its
    name, even when the adapter recorded another machine's path to it."""
    if Path(name).exists():
        return name
    embedded = Path(name).name
    return resolve_model_name(embedded if embedded in EMBEDDED_MODELS else name)


def load_for_inference(model_path: str | Path, adapter: str | Path | None = None, device: str | None = None):
    """(model, tokenizer, saved PromptConfig or None) for a standalone model folder, an adapter folder, or base + adapter."""
    from transformers import AutoModelForCausalLM

    model_path = str(model_path)
    if adapter is None and run_dir.is_adapter(model_path):
        adapter = model_path
        model_path = run_dir.adapter_base(model_path)
    base_path = resolve_base(model_path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
    tokenizer_source = base_path
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        tokenizer_source = str(adapter)
    tokenizer = load_tokenizer(tokenizer_source)
    prompt_config = PromptConfig.load(adapter if adapter is not None else base_path)
    return model.to(device).eval(), tokenizer, prompt_config

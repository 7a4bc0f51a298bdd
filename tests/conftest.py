"""Shared fixtures: the embedded model's real tokenizer on a tiny random Llama, and small recipes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests import REPO

# Small records in the contract, short enough for a tiny model to overfit in a few dozen steps.
TINY_RECORDS = [
    {"id": "orders-1", "prompt": "Please create a JSON object from the following: 'Carla ordered 5 notebooks.'",
     "reference": {"order": {"customer": "Carla", "items": [{"type": "notebook", "quantity": 5}]}},
     "schema": {"type": "object", "required": ["order"]}},
    {"id": "contacts-1", "prompt": "Please create a JSON object from the following: 'Bob lives in Oslo.'",
     "reference": {"contact": {"name": "Bob", "city": "Oslo"}}},
]


@pytest.fixture(scope="session")
def embedded_model_dir() -> Path:
    """The embedded SmolLM2 checkpoint (prepared once into the checkout's models/, as `make` does)."""
    from jsontune.models.base_model import embedded_path, prepare_base

    os.environ.setdefault("JSONTUNE_MODELS_DIR", str(REPO / "models"))
    prepare_base()
    return embedded_path()


@pytest.fixture(scope="session")
def tokenizer(embedded_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_model_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, embedded_model_dir, tokenizer) -> Path:
    """A 2-layer random Llama with the embedded model's real tokenizer and chat template."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    # initializer_range 0.2 (not 0.02): logits wide enough that LoRA can move them within a few steps.
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
        initializer_range=0.2,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in TINY_RECORDS))
    return path


@pytest.fixture
def make_recipe(tmp_path, tiny_model_dir, tiny_data):
    """Write a recipe for the tiny model and data; keyword arguments replace or add keys."""

    def make(use_peft: bool = True, jsontune: dict | None = None, **keys) -> Path:
        recipe = {
            "model_name_or_path": str(tiny_model_dir),
            "use_peft": use_peft,
            "output_dir": str(tmp_path / ("lora" if use_peft else "full")),
            "per_device_train_batch_size": 2,
            "learning_rate": 1e-2,
            "max_steps": 4,
            "logging_steps": 1,
            "save_strategy": "no",
            "report_to": "none",
            "seed": 0,
            "jsontune": {"data_files": [str(tiny_data)], "test_fraction": 0.0, **(jsontune or {})},
            **keys,
        }
        if use_peft and "lora_target_modules" not in recipe:
            recipe["lora_target_modules"] = ["q_proj", "v_proj"]
        path = tmp_path / f"recipe-{'lora' if use_peft else 'full'}.yaml"
        path.write_text(yaml.safe_dump(recipe, sort_keys=False))
        return path

    return make


@pytest.fixture
def silent_endpoint() -> str:
    """The URL of a server that accepts connections and never answers (a network that drops packets)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()

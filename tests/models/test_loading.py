"""Loading for inference: an adapter is merged into its base by default, with the same logits as unmerged."""

from __future__ import annotations

import torch

from jsontune.models.loading import load_weights, model_source


def _random_adapter(tiny_model_dir, out):
    """A LoRA adapter on the tiny model whose B matrices are random (a fresh adapter's are zero: no change)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(out)
    return out


def test_a_merged_adapter_gives_the_logits_of_the_unmerged_one(tiny_model_dir, tokenizer, tmp_path):
    adapter = _random_adapter(tiny_model_dir, tmp_path / "adapter")
    source = model_source(tiny_model_dir, adapter)
    merged = load_weights(source, device="cpu")
    unmerged = load_weights(source, device="cpu", merge_adapter=False)
    base = load_weights(model_source(tiny_model_dir), device="cpu")
    ids = torch.tensor([tokenizer("Bob lives in Oslo and works at the harbour.")["input_ids"]])

    with torch.inference_mode():
        logits = {name: model(input_ids=ids).logits for name, model in
                  (("merged", merged), ("unmerged", unmerged), ("base", base))}
    assert not hasattr(merged, "peft_config") and hasattr(unmerged, "peft_config")
    assert torch.allclose(logits["merged"], logits["unmerged"], atol=1e-5)
    assert torch.equal(logits["merged"].argmax(-1), logits["unmerged"].argmax(-1))
    assert not torch.allclose(logits["merged"], logits["base"], atol=1e-3), "the adapter changes the model"

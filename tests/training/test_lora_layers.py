"""LoRA layers in training: the fast forward computes PEFT's function, and RawBitsDropout keeps nn.Dropout's."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model

from jsontune.recipe import load_recipe
from jsontune.training.lora_layers import RawBitsDropout, fast_lora_layers
from jsontune.training.train import build_trainer


@pytest.mark.parametrize("p, bits", [(0.25, 16), (0.05, 16), (0.001, 32)])
def test_raw_bits_dropout_keeps_one_minus_p_of_the_elements_scaled_and_passes_the_mask_to_the_gradient(p, bits):
    torch.manual_seed(0)
    x = torch.ones(400_000, requires_grad=True)
    dropout = RawBitsDropout(p).train()
    assert dropout.bits == bits  # 0.001 is not within a thousandth of itself of a multiple of 1/65536
    y = dropout(x)
    kept = y != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=4 * (p * (1 - p) / x.numel()) ** 0.5)
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - p)), rtol=1e-4, atol=0)
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # d(x * mask)/dx = mask


def test_raw_bits_dropout_masks_follow_torch_seed_and_differ_between_calls():
    dropout = RawBitsDropout(0.5).train()
    x = torch.ones(4, 1000)
    torch.manual_seed(3)
    first, second = dropout(x), dropout(x)
    torch.manual_seed(3)
    torch.testing.assert_close(dropout(x), first)  # a restored RNG state draws the same mask (resumed runs)
    assert not torch.equal(first, second)
    assert not torch.equal(first[0], first[1])  # rows of one call are not copies of each other


def test_raw_bits_dropout_is_the_identity_in_evaluation_and_at_p_zero():
    x = torch.randn(64)
    assert RawBitsDropout(0.5).eval()(x) is x and RawBitsDropout(0.0).train()(x) is x
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\), got 1.0"):
        RawBitsDropout(1.0)


def _lora_model(tiny_model_dir, **config):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=12, target_modules="all-linear", **config))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:  # PEFT starts B at zero; a trained adapter has it non-zero
            torch.nn.init.normal_(parameter, std=0.1)
    return model


def _loss_and_grads(model, ids):
    model.zero_grad()
    logits = model(input_ids=ids).logits
    logits.square().mean().backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_the_fast_lora_forward_gives_peft_outputs_and_gradients(tiny_model_dir):
    peft_model = _lora_model(tiny_model_dir).train()
    fast_model = copy.deepcopy(peft_model)
    assert fast_lora_layers(fast_model) == 7 * fast_model.config.num_hidden_layers
    ids = torch.randint(10, 500, (2, 11))
    expected_logits, expected_grads = _loss_and_grads(peft_model, ids)
    logits, grads = _loss_and_grads(fast_model, ids)
    torch.testing.assert_close(logits, expected_logits, atol=1e-5, rtol=1e-5)
    assert grads.keys() == expected_grads.keys()
    for name in grads:
        torch.testing.assert_close(grads[name], expected_grads[name], atol=1e-6, rtol=1e-4, msg=name)
    # Merged and disabled adapters take PEFT's own forward, and merging reads the layer's own scaling.
    with torch.no_grad(), fast_model.disable_adapter(), peft_model.disable_adapter():
        base_logits = peft_model(input_ids=ids).logits
        torch.testing.assert_close(fast_model(input_ids=ids).logits, base_logits)
        assert not torch.allclose(base_logits, logits, atol=1e-3)  # the adapter does change the logits
    fast_model.eval()
    with torch.no_grad():
        unmerged = fast_model(input_ids=ids).logits
        fast_model.merge_adapter()
        torch.testing.assert_close(fast_model(input_ids=ids).logits, unmerged, atol=1e-4, rtol=1e-4)


def test_under_bf16_autocast_the_fast_forward_runs_and_gives_peft_outputs_and_gradients(tiny_model_dir):
    peft_model = _lora_model(tiny_model_dir).train()
    fast_model = copy.deepcopy(peft_model)
    fast_lora_layers(fast_model)
    b_calls = []
    for module in fast_model.modules():
        if isinstance(getattr(module, "lora_B", None), torch.nn.ModuleDict):
            module.lora_B["default"].register_forward_hook(lambda *args: b_calls.append(1))
    ids = torch.randint(10, 500, (2, 11))
    exact_logits, exact_grads = _loss_and_grads(peft_model, ids)  # fp32: the reference both bf16 runs round
    with torch.autocast("cpu", dtype=torch.bfloat16):
        peft_logits, peft_grads = _loss_and_grads(peft_model, ids)
        logits, grads = _loss_and_grads(fast_model, ids)
    assert b_calls == []  # B's product went into the fast path's addmm, not through PEFT's sum
    assert logits.dtype == peft_logits.dtype == torch.bfloat16
    # bf16 rounds both sides, in different places: the fast path is to be about as far from fp32 as PEFT's own bf16
    # forward, for the logits and for all gradients together.
    assert _relative_error(logits, exact_logits) < 1.5 * _relative_error(peft_logits, exact_logits) < 0.05
    assert grads.keys() == exact_grads.keys()
    every = [torch.cat([g[name].flatten() for name in sorted(grads)]) for g in (grads, peft_grads, exact_grads)]
    assert _relative_error(every[0], every[2]) < 1.5 * _relative_error(every[1], every[2])


def _relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return float((got.float() - expected.float()).norm() / expected.float().norm())


def test_the_fast_forward_takes_the_dropout_scale_on_the_low_rank_side_with_the_same_mask(tiny_model_dir):
    peft_model = _lora_model(tiny_model_dir, lora_dropout=0.3).train()
    fast_model = copy.deepcopy(peft_model)
    fast_lora_layers(fast_model)  # RawBitsDropout in both: PEFT's forward calls it whole, the fast one splits it
    for module in peft_model.modules():
        if isinstance(getattr(module, "lora_dropout", None), torch.nn.ModuleDict):
            module.lora_dropout["default"] = RawBitsDropout(0.3).train()
    ids = torch.randint(10, 500, (2, 11))
    torch.manual_seed(5)
    expected_logits, expected_grads = _loss_and_grads(peft_model, ids)
    torch.manual_seed(5)
    logits, grads = _loss_and_grads(fast_model, ids)
    torch.testing.assert_close(logits, expected_logits, atol=1e-5, rtol=1e-5)
    for name in grads:
        torch.testing.assert_close(grads[name], expected_grads[name], atol=1e-6, rtol=1e-4, msg=name)
    torch.manual_seed(6)
    assert not torch.allclose(_loss_and_grads(fast_model, ids)[0], logits, atol=1e-4)  # the dropout does act


def test_every_lora_layer_of_a_run_is_fast_and_drops_its_input_with_raw_bits(make_recipe):
    trainer, _, _ = build_trainer(load_recipe(make_recipe(use_peft=True, lora_dropout=0.1,
                                                          lora_target_modules=["q_proj", "v_proj"])))
    dropouts = [d for m in trainer.model.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
                for d in m.lora_dropout.values()]
    layers = trainer.model.config.num_hidden_layers
    assert len(dropouts) == 2 * layers and all(type(d) is RawBitsDropout and d.p == 0.1 for d in dropouts)
    assert fast_lora_layers(trainer.model) == 0  # nothing left to change

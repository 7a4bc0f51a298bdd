"""LoRA's input dropout: UniformDropout keeps nn.Dropout's contract, and every LoRA layer of a run gets it."""

from __future__ import annotations

import pytest
import torch

from jsontune.recipe import load_recipe
from jsontune.training.lora_dropout import UniformDropout, use_uniform_dropout
from jsontune.training.train import build_trainer


def test_uniform_dropout_keeps_one_minus_p_of_the_elements_scaled_and_passes_the_mask_to_the_gradient():
    torch.manual_seed(0)
    x = torch.ones(200_000, requires_grad=True)
    dropout = UniformDropout(0.25).train()
    y = dropout(x)
    kept = y != 0
    assert kept.float().mean().item() == pytest.approx(0.75, abs=0.005)
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # d(x * mask)/dx = mask


def test_uniform_dropout_is_the_identity_in_evaluation_and_at_p_zero():
    x = torch.randn(64)
    assert UniformDropout(0.5).eval()(x) is x and UniformDropout(0.0).train()(x) is x
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\), got 1.0"):
        UniformDropout(1.0)


def test_every_lora_layer_of_a_run_drops_its_input_with_uniform_dropout(make_recipe):
    trainer, _, _ = build_trainer(load_recipe(make_recipe(use_peft=True, lora_dropout=0.1,
                                                          lora_target_modules=["q_proj", "v_proj"])))
    dropouts = [d for m in trainer.model.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
                for d in m.lora_dropout.values()]
    layers = trainer.model.config.num_hidden_layers
    assert len(dropouts) == 2 * layers and all(type(d) is UniformDropout and d.p == 0.1 for d in dropouts)
    assert use_uniform_dropout(trainer.model) == 0  # nothing left to replace

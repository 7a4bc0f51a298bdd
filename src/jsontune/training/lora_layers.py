"""LoRA layers in training: PEFT's function, computed in fewer passes over the layer's output.

PEFT computes an adapted linear layer as `result + lora_B(lora_A(dropout(x))) * scaling`: besides the two small
matmuls, three passes over a (tokens x out_features) tensor forward (B's output, the scaling, the sum) and one
backward (the scaling again), for each of the 7 layers a decoder layer adapts with all linear layers. With no GPU
those passes cost as much as the adapter's matmuls. `fast_lora_layers` changes two things, never the function:

- the scaling multiplies the (tokens x r) output of A instead of the output of B (B is linear and LoRA's has no
  bias), and B's product is added to the base layer's output by one `addmm`;
- the input dropout draws its mask with one uniform draw per element (`UniformDropout`): `nn.Dropout` draws it with
  `bernoulli_`, which runs on one thread, then divides the mask.

The dropout is swapped on CPU only (`uniform_dropout`): a GPU draws `nn.Dropout`'s mask in one fused kernel.
Everything else (merged or disabled adapters, several active adapters, DoRA and other variants, mixed-adapter
batches, a bias on B, dtypes that differ, as under autocast) takes PEFT's own forward or its own sum. Merging, saving
and loading see PEFT's modules unchanged: the scaling is read from the layer at every call.

Measured here (2026-12-04, one jsontune LoRA step: forward and backward of the same batch of bench examples, the
variants alternating in one process, median of 6 pairs): q_proj/v_proj at batch 8 (1,307 tokens) 2.998 s with
PEFT's layers, 2.933 s with both changes; all linear layers at batch 4 (the shipped recipe's shape, 912 tokens)
3.329 s -> 2.980 s, of which the dropout alone 3.340 -> 3.074 s (`nn.Dropout` 4.3-4.7 ms a call on 1,307 x 576
inputs, `UniformDropout` 2.8 ms).
"""

from __future__ import annotations

import types

import torch


class UniformDropout(torch.nn.Module):
    """Inverted dropout whose mask is `uniform_() >= p`, scaled in place: `nn.Dropout`'s contract (each element kept
    with probability 1 - p and scaled by 1 / (1 - p)); only the random stream differs."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).uniform_().ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


def fast_lora_layers(model: torch.nn.Module, uniform_dropout: bool = True) -> int:
    """Give every PEFT LoRA linear layer of `model` the fast forward (and, with `uniform_dropout`, `UniformDropout`);
    returns how many layers changed."""
    from peft.tuners.lora import Linear as LoraLinear

    changed = 0
    for module in model.modules():
        if type(module) is not LoraLinear or getattr(module, "_jsontune_fast", False):
            continue
        for name, dropout in module.lora_dropout.items():
            if uniform_dropout and type(dropout) is torch.nn.Dropout:
                uniform = UniformDropout(dropout.p)
                uniform.train(dropout.training)
                module.lora_dropout[name] = uniform
        module._peft_forward = module.forward
        module.forward = types.MethodType(_fast_forward, module)
        module._jsontune_fast = True
        changed += 1
    return changed


def _fast_forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    """PEFT's `lora.Linear.forward` for one plain adapter, with the scaling on the low-rank side and one addmm."""
    adapters = self.active_adapters
    if args or kwargs or self.disable_adapters or self.merged or len(adapters) != 1:
        return self._peft_forward(x, *args, **kwargs)
    name = adapters[0]
    if name not in self.lora_A or name in self.lora_variant or self.lora_B[name].bias is not None:
        return self._peft_forward(x, *args, **kwargs)
    lora_a, lora_b = self.lora_A[name], self.lora_B[name]
    result = self.base_layer(x)
    if not (x.dtype == result.dtype == lora_a.weight.dtype == lora_b.weight.dtype):
        return _peft_sum(self, name, x, result)
    low_rank = lora_a(self.lora_dropout[name](x)) * self.scaling[name]
    out = torch.addmm(result.reshape(-1, result.shape[-1]), low_rank.reshape(-1, low_rank.shape[-1]), lora_b.weight.T)
    return out.view(result.shape)


def _peft_sum(self, name: str, x: torch.Tensor, result: torch.Tensor) -> torch.Tensor:
    """PEFT's own sum for one adapter, for dtypes that differ (x cast to the adapter's, the sum in the result's)."""
    lora_a, lora_b = self.lora_A[name], self.lora_B[name]
    x = self._cast_input_dtype(x, lora_a.weight.dtype)
    return (result + lora_b(lora_a(self.lora_dropout[name](x))) * self.scaling[name]).to(result.dtype)

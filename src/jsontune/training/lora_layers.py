"""LoRA layers in training: PEFT's function, computed in fewer passes over the layer's output.

PEFT computes an adapted linear layer as `result + lora_B(lora_A(dropout(x))) * scaling`: besides the two small
matmuls, three passes over a (tokens x out_features) tensor forward (B's output, the scaling, the sum) and one
backward (the scaling again), for each of the 7 layers a decoder layer adapts with all linear layers. With no GPU
those passes cost as much as the adapter's matmuls. `fast_lora_layers` changes two things, never the function:

- the scaling multiplies the (tokens x r) output of A instead of the output of B (B is linear and LoRA's has no
  bias), and B's product is added to the base layer's output by one `addmm`;
- the input dropout's mask is drawn from raw random bits (`RawBitsDropout`): `nn.Dropout` draws it with
  `bernoulli_`, one serial draw of torch's generator per element, then divides the mask; and the fast forward
  takes the dropout's scale on A's rank-r output (A is linear too), so the input is only masked.

The dropout is swapped on CPU only (`cpu_dropout`): a GPU draws `nn.Dropout`'s mask in one fused kernel.
Under autocast (bf16 on a CPU with AMX) the fast forward runs as it is: its matmuls, addmm included, run in
autocast's dtype, as PEFT's do. Everything else (merged or disabled adapters, several active adapters, DoRA and
other variants, mixed-adapter batches, a bias on B, dtypes that differ outside autocast) takes PEFT's own forward
or its own sum. Merging, saving and loading see PEFT's modules unchanged: the scaling is read from the layer at
every call.

Measured here (one jsontune LoRA step: forward and backward of the same batch of bench examples, the variants
alternating in one process, median of 6 pairs; 2026-12-04): q_proj/v_proj at batch 8 (1,307 tokens) 2.998 s with
PEFT's layers, 2.933 s with the scaling moved and the mask drawn by `uniform_`; all linear layers at batch 4 (the
shipped recipe's shape, 912 tokens) 3.329 s -> 2.980 s (`nn.Dropout` 4.3-4.7 ms a call on 1,307 x 576 inputs,
`uniform_` 2.8 ms). Raw bits for the mask, the scale moved to the rank-r side: all linear at batch 4 3.049 s ->
2.777 s against the `uniform_` mask (the same step with no dropout at all: 2.50 s), q/v at batch 8 3.196 ->
3.106 s. On an AMD EPYC with AVX512-BF16 (2026-12-07, the shipped recipe in bf16 autocast, 6 batches of 4, 6
alternating rounds): the threshold compared by numpy instead of torch (268 -> 28 us for 1,230 x 576 draws),
2.861 -> 2.768 s a step. Not kept: the mask applied as a product with a float mask made by numpy, forward and
backward (a custom autograd function), though `where` on a boolean mask costs 6x that product alone here:
2.730 -> 2.828 s a step, slower in all 6 rounds. The dropout costs 14% of that step (no dropout: 345-357 tokens/s
against 300-306).
"""

from __future__ import annotations

import math
import types

import numpy
import torch


class RawBitsDropout(torch.nn.Module):
    """Inverted dropout with `nn.Dropout`'s contract (each element kept with probability 1 - p and scaled by its
    inverse), its mask drawn as raw random bits compared with a threshold.

    torch's CPU generator makes one serial Mersenne-Twister draw per element (`bernoulli_`, `uniform_`): 1.4 ms for
    a 912 x 576 input, where the dropout of an all-linear LoRA step spent 18% of the step. Here one 64-bit draw
    from torch's generator seeds numpy's SFC64 generator, whose raw 64-bit words, read as four 16-bit integers,
    are compared with a threshold (0.2 ms for the same input). The seed comes from torch's generator, so a run's
    masks follow `set_seed` and a resumed run's restored RNG state as `nn.Dropout`'s do; the stream differs.

    The drop probability is rounded to a multiple of 1/65536 (32-bit integers where that moves p by more than a
    thousandth of itself, as for p below about 0.008), and the scale is the exact inverse of the rounded keep
    probability, so the expectation of the output is the input.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.bits = 16 if abs(round(p * 2**16) / 2**16 - p) <= 1e-3 * p else 32
        dropped = round(p * 2**self.bits)
        self.threshold = dropped - 2 ** (self.bits - 1)  # draws are uniform over [-2^(bits-1), 2^(bits-1))
        self.scale = 2**self.bits / (2**self.bits - dropped)  # 1 / the keep probability

    @property
    def active(self) -> bool:
        """False in evaluation and at p = 0, where the dropout is the identity."""
        return self.training and self.p > 0.0

    def keep_mask(self, shape: torch.Size) -> torch.Tensor:
        """A boolean mask of `shape`, each element True with probability 1 - p."""
        count = math.prod(shape)
        seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
        words = numpy.random.SFC64(seed).random_raw(-(-count * self.bits // 64))
        draws = words.view(numpy.int16 if self.bits == 16 else numpy.int32)[:count]
        return torch.from_numpy(draws >= self.threshold).view(shape)  # numpy compares integers 10x faster here

    def masked(self, x: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The dropout's output before its scale, and the scale: `forward(x)` is their product, and a linear map
        after the dropout can take the scale on its own (smaller) output instead."""
        return torch.where(self.keep_mask(x.shape).to(x.device), x, 0.0), self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return x
        kept, scale = self.masked(x)
        return kept.mul_(scale)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def fast_lora_layers(model: torch.nn.Module, cpu_dropout: bool = True) -> int:
    """Give every PEFT LoRA linear layer of `model` the fast forward (and, with `cpu_dropout`, `RawBitsDropout` in
    place of `nn.Dropout`); returns how many layers changed."""
    from peft.tuners.lora import Linear as LoraLinear

    changed = 0
    for module in model.modules():
        if type(module) is not LoraLinear or getattr(module, "_jsontune_fast", False):
            continue
        for name, dropout in module.lora_dropout.items():
            if cpu_dropout and type(dropout) is torch.nn.Dropout:
                raw_bits = RawBitsDropout(dropout.p)
                raw_bits.train(dropout.training)
                module.lora_dropout[name] = raw_bits
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
    if torch.is_autocast_enabled(x.device.type):  # every matmul below runs in autocast's dtype
        one_dtype = result.dtype == torch.get_autocast_dtype(x.device.type)
    else:
        one_dtype = x.dtype == result.dtype == lora_a.weight.dtype == lora_b.weight.dtype
    if not one_dtype:
        return _peft_sum(self, name, x, result)
    dropout = self.lora_dropout[name]
    if isinstance(dropout, RawBitsDropout) and dropout.active:
        kept, dropout_scale = dropout.masked(x)  # A is linear: its rank-r output takes the dropout's scale
    else:
        kept, dropout_scale = dropout(x), 1.0
    low_rank = lora_a(kept) * (self.scaling[name] * dropout_scale)
    out = torch.addmm(result.reshape(-1, result.shape[-1]), low_rank.reshape(-1, low_rank.shape[-1]), lora_b.weight.T)
    return out.view(result.shape)


def _peft_sum(self, name: str, x: torch.Tensor, result: torch.Tensor) -> torch.Tensor:
    """PEFT's own sum for one adapter, for dtypes that differ (x cast to the adapter's, the sum in the result's)."""
    lora_a, lora_b = self.lora_A[name], self.lora_B[name]
    x = self._cast_input_dtype(x, lora_a.weight.dtype)
    return (result + lora_b(lora_a(self.lora_dropout[name](x))) * self.scaling[name]).to(result.dtype)

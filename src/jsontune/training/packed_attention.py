"""Attention for padding-free batches: each packed sequence attends to itself only, at its own cost.

TRL's padding-free collator concatenates a batch into one row and passes the sequence boundaries as
`cu_seq_lens_q`. Flash-attention kernels use them; plain SDPA does not: transformers builds a
block-diagonal mask over the whole row, and the attention then costs (total tokens)^2 instead of the sum
of each sequence's length^2 (8x more at batch 8 on jsontune's data). This implementation runs SDPA once per
sequence, causal and without a mask, so it needs no flash-attention package and works on CPU. Inputs
without boundaries (padded batches, generation with a KV cache) go to transformers' own SDPA unchanged.

Under bf16 autocast on CPU the attention runs in fp32: torch's CPU flash attention is slower in bf16 than in fp32
at these lengths (forward and backward of one layer, 4 sequences of 120-262 tokens, 9 query and 3 key/value heads
of 64: 15.1 ms in bf16, 9.2 ms in fp32; 2026-12-05), and fp32 is the more exact of the two.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
from transformers.utils import is_flash_attn_2_available

PACKED_SDPA = "jsontune_packed_sdpa"


def packed_sdpa_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                          attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                          cu_seq_lens_q: torch.Tensor | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """Same contract as transformers' `sdpa_attention_forward`: (batch, heads, seq, dim) in, (batch, seq, heads,
    dim) out."""
    packed = cu_seq_lens_q is not None and query.shape[0] == 1 and query.shape[2] == key.shape[2]
    if not packed:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    grouped = getattr(module, "num_key_value_groups", 1) > 1  # SDPA shares key/value heads itself
    lengths = cu_seq_lens_q.diff().tolist()
    if query.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            return _attend_each(query.float(), key.float(), value.float(), lengths, dropout, scaling, grouped), None
    return _attend_each(query, key, value, lengths, dropout, scaling, grouped), None


def _attend_each(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, lengths: list[int], dropout: float,
                 scaling: float | None, grouped: bool) -> torch.Tensor:
    """Causal SDPA over each sequence of a packed row: (1, heads, seq, dim) in, (1, seq, heads, dim) out."""
    # split, not slices: a slice's backward writes its gradient into a zeroed copy of the whole row, once per
    # sequence; split's backward is one concatenation.
    outputs = [
        torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True,
                                                         enable_gqa=grouped)
        for q, k, v in zip(query.split(lengths, 2), key.split(lengths, 2), value.split(lengths, 2)) if q.shape[2]
    ]
    return torch.cat(outputs, dim=2).transpose(1, 2).contiguous()


def register_packed_sdpa() -> str:
    """Make `attn_implementation=PACKED_SDPA` loadable (idempotent); returns the name."""
    AttentionInterface.register(PACKED_SDPA, packed_sdpa_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(PACKED_SDPA, sdpa_mask)  # padded batches keep SDPA's masks
    return PACKED_SDPA


def training_attention(requested: str | None, padding_free: bool) -> str | None:
    """The attention a run trains with: the recipe's if it names one; for padding-free batches flash-attention 2 on
    a GPU that has the package, else packed SDPA; for padded batches transformers' default (SDPA)."""
    if requested or not padding_free:
        return requested
    if torch.cuda.is_available() and is_flash_attn_2_available():
        return "flash_attention_2"
    return register_packed_sdpa()

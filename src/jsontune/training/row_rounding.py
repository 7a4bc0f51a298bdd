"""Padding-free rows rounded up to a few lengths, for bf16 on CPU, where every new length costs a kernel build.

Under bf16 autocast on CPU, torch's matmuls go to oneDNN, which builds (JIT-compiles) a kernel for each new shape.
A padding-free row has a new length at almost every step (the sum of its sequences' lengths), so almost every step
builds its kernels afresh: measured here, 8 LoRA steps on 8 rows of new lengths took 17.6 s, the same 8 steps
again 14.5 s (2026-12-05, bf16 autocast on a CPU with AMX, the shipped LoRA recipe's batches). fp32 matmuls (MKL)
build nothing: 20.8 s then 19.4 s, the first pass warming the allocator.

`round_packed_row` pads the row's last sequence at its end to a multiple of `ROW_MULTIPLE` tokens, so a run meets a
few lengths and builds their kernels once. The padding is right padding of that sequence: causal attention keeps it
out of every real token's view, it has no labels, and so it changes neither the loss nor any gradient, as the
padding of TRL's padded batches does not. It costs its tokens' compute, about ROW_MULTIPLE / 2 tokens a step.
"""

from __future__ import annotations

import torch

# Padding-free rows of the shipped recipes hold 400 to 1,300 tokens: about 15 lengths, at most 63 tokens of padding.
ROW_MULTIPLE = 64


def round_packed_row(inputs: dict, pad_token_id: int, multiple: int = ROW_MULTIPLE) -> dict:
    """The padding-free batch `inputs` (TRL's collator: one row, `position_ids`, `cu_seq_lens_q`) with its last
    sequence padded at the end to a row length that is a multiple of `multiple`; other batches unchanged."""
    input_ids = inputs["input_ids"]
    boundaries = inputs.get("cu_seq_lens_q")
    extra = -input_ids.shape[1] % multiple
    if boundaries is None or input_ids.shape[0] != 1 or "attention_mask" in inputs or not extra:
        return inputs
    rounded = dict(inputs)

    def extended(name: str, tail: torch.Tensor) -> torch.Tensor:
        return torch.cat([inputs[name], tail.to(inputs[name])[None]], dim=1)

    rounded["input_ids"] = extended("input_ids", torch.full((extra,), pad_token_id))
    if "labels" in inputs:
        rounded["labels"] = extended("labels", torch.full((extra,), -100))
    last_position = inputs["position_ids"][0, -1]
    rounded["position_ids"] = extended("position_ids", last_position + 1 + torch.arange(extra))
    boundaries = boundaries.clone()
    boundaries[-1] += extra
    rounded["cu_seq_lens_q"] = rounded["cu_seq_lens_k"] = boundaries
    longest = int(boundaries.diff().max())
    rounded["max_length_q"] = rounded["max_length_k"] = longest
    if "seq_idx" in inputs:
        rounded["seq_idx"] = extended("seq_idx", inputs["seq_idx"][0, -1].expand(extra))
    return rounded

"""What a model's speed is measured against: the machine's matmul peak, measured on the spot, and the FLOPs of a
token by the usual count (2 per matmul parameter and token forward, 6 with the backward)."""

from __future__ import annotations

import time

import torch


def peak_kind(bf16_on_cpu: bool = False) -> str:
    """What `matmul_peak_flops` measures on this machine."""
    if torch.cuda.is_available():
        return "bf16 GPU matmul peak"
    return "bf16 CPU matmul peak" if bf16_on_cpu else "fp32 CPU matmul peak"


def matmul_peak_flops(repeats: int = 5, bf16_on_cpu: bool = False) -> tuple[float, str]:
    """(FLOP/s, what was measured): the best of a few square matmuls, bf16 on a GPU, fp32 on CPU unless
    `bf16_on_cpu` (for a model that trains in bf16 autocast on a CPU that multiplies bf16 in hardware)."""
    cuda = torch.cuda.is_available()
    cpu_dtype = torch.bfloat16 if bf16_on_cpu else torch.float32
    size, dtype, device = (8192, torch.bfloat16, "cuda") if cuda else (2048, cpu_dtype, "cpu")
    a, b = torch.randn(size, size, dtype=dtype, device=device), torch.randn(size, size, dtype=dtype, device=device)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        began = time.perf_counter()
        a @ b
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best, peak_kind(bf16_on_cpu)


def matmul_parameters(model) -> int:
    """The parameters a token passes through as matmuls: all of them, the LM head included, the embedding
    lookup not (a tied LM head shares the embedding's matrix, which then counts once)."""
    config = model.config
    embeddings = config.vocab_size * config.hidden_size
    return sum(p.numel() for p in model.parameters()) - embeddings * (0 if config.tie_word_embeddings else 1)

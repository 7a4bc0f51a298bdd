"""The training loss on CPU: LM head and cross-entropy only at the positions that have a label, in chunks, with the
gradient taken on the way.

TRL's fused LM head scores every position on devices without Triton, in tiles folded by torch ops, and
computes entropy for its metrics on the way. On this repository's data about half of the tokens are prompt,
and with a 49k vocabulary the head is a fifth of the model's FLOPs: projecting only the labelled positions
(transformers' boolean `logits_to_keep`) and taking a plain cross-entropy doubled LoRA examples/s here
(`make bench`).

Even at labelled positions only, the logits of a batch are large (700 tokens x 49k = 138 MB at batch 8), and
log-softmax, its backward, the entropy metric and the top-1 metric each read or write all of them: measured here at
700 positions, 520 ms for the head forward and backward, of which about 300 ms are its two matmuls, in a LoRA step of
about 3.5 s. `head_cross_entropy` instead projects `HEAD_CHUNK` positions at a time and takes, from one softmax of
the chunk, the loss, both metrics and the gradients (of the hidden states, and of the head's weight where it
trains), so the full logits never exist and the backward pass only scales what the forward pass kept. The loss is
TRL's: summed over labelled tokens, divided by `num_items_in_batch`.

The chunked head needs the model to compute its logits as `lm_head(hidden)` and nothing after (no soft-capping or
scaling): the families in FUSED_HEAD_MODEL_TYPES, with a plain bias-free `nn.Linear` head (not a LoRA-wrapped or
quantised one) whose whole weight is in the process (not a ZeRO-3 shard). Other models take the plain path: their
head on the labelled positions, then log-softmax.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from accelerate.utils import extract_model_from_parallel

# Positions projected at once: 128 x 49k fp32 logits are 25 MB, under the 32 MiB above which glibc maps each block
# afresh (jsontune.training.allocator), and the matmuls still run at full speed. Measured here (700 positions, 49k
# vocabulary, forward and backward): 64 rows 485 ms, 128 400 ms, 256 430 ms, 512 412 ms, against 520 ms for
# log-softmax over all logits; in a whole LoRA step 128 and 512 rows measured the same (3.25 s).
HEAD_CHUNK = 128
# Model families whose logits are exactly `lm_head(hidden states)`, checked in their transformers code.
FUSED_HEAD_MODEL_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3"})


def next_token_targets(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(keep, targets): positions whose next token has a label, and those labels, in row-major order."""
    following = labels[:, 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = following != -100
    return keep, following[following != -100]


def compact_causal_lm_loss(model, inputs: dict, num_items_in_batch: int | torch.Tensor | None
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(loss, sums): the loss, and the entropy sum, top-1 hits and count of the labelled tokens (TRL's metrics)."""
    model_inputs = {key: value for key, value in inputs.items() if key != "labels"}
    keep, targets = next_token_targets(inputs["labels"])
    head = fusable_head(model)
    if head is not None:
        with head_inputs_taken(head) as taken:
            model(**model_inputs, use_cache=False, logits_to_keep=keep)
        loss, sums = head_cross_entropy(taken[0], head.weight, targets)
    else:
        logits = model(**model_inputs, use_cache=False, logits_to_keep=keep).logits  # (labelled tokens, vocab)
        loss, sums = _log_softmax_cross_entropy(logits, targets)
    denominator = targets.numel() if num_items_in_batch is None else num_items_in_batch
    return loss / torch.as_tensor(denominator, device=loss.device).clamp(min=1), sums


def fusable_head(model) -> torch.nn.Linear | None:
    """The model's LM head when `head_cross_entropy` may stand in for it (see the module's docstring), else None."""
    inner = extract_model_from_parallel(model)  # DDP/DeepSpeed wrappers; a PeftModel answers for its base model
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    plain = type(head) is torch.nn.Linear and head.bias is None
    # DeepSpeed ZeRO-3 holds a shard of the weight outside the module's own forward (ds_id marks its parameters).
    whole = plain and head.weight.shape == (head.out_features, head.in_features) and not hasattr(head.weight, "ds_id")
    return head if whole and getattr(inner.config, "model_type", None) in FUSED_HEAD_MODEL_TYPES else None


@contextmanager
def head_inputs_taken(head: torch.nn.Module) -> Iterator[list[torch.Tensor]]:
    """While open, the head's input is taken (appended to the yielded list) and the head runs on no rows instead.

    The model runs through its own wrappers (DDP's hooks, PEFT's layers) as usual; only the projection is left to
    the caller.
    """
    taken: list[torch.Tensor] = []

    def take(module, args):
        taken.append(args[0])
        return (args[0][..., :0, :],)

    handle = head.register_forward_pre_hook(take)
    try:
        yield taken
    finally:
        handle.remove()


def head_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int = HEAD_CHUNK
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(summed cross-entropy of `hidden @ weight.T` against `targets`, TRL's metric sums), chunk by chunk.

    hidden: (tokens, hidden size); weight: (vocab, hidden size); targets: (tokens,). Differentiable in hidden and
    weight, where they require grad.
    """
    loss, entropy, correct, tokens = _ChunkedHeadLoss.apply(hidden, weight, targets, chunk)
    return loss, {"entropy": entropy, "correct": correct, "tokens": tokens}


class _ChunkedHeadLoss(torch.autograd.Function):
    """Forward: per chunk, logits, one softmax, loss, metrics, and the gradients for an upstream gradient of 1.
    Backward: those gradients times the upstream one (a scalar: the loss is a sum)."""

    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk):
        grad_hidden = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_weight = torch.zeros_like(weight, dtype=torch.float32) if ctx.needs_input_grad[1] else None
        loss = hidden.new_zeros((), dtype=torch.float32)
        entropy = loss.clone()
        correct = torch.zeros((), dtype=torch.long, device=hidden.device)
        for start in range(0, targets.numel(), chunk):
            rows, target = hidden[start:start + chunk], targets[start:start + chunk, None]
            logits = (rows @ weight.T).float()
            correct += (logits.max(-1, keepdim=True).indices == target).sum()  # max: argmax is slower on CPU
            log_probs = torch.log_softmax(logits, -1)
            loss -= log_probs.gather(1, target).sum()
            probs = torch.exp(log_probs, out=logits)  # the logits' memory: they are not needed again
            entropy -= torch.linalg.vecdot(probs, log_probs).sum()
            if grad_hidden is None and grad_weight is None:
                continue
            grad_logits = probs.scatter_add_(1, target, probs.new_full(target.shape, -1.0))  # softmax - one-hot
            if grad_hidden is not None:
                grad_hidden[start:start + chunk] = (grad_logits.to(weight.dtype) @ weight).to(hidden.dtype)
            if grad_weight is not None:
                grad_weight.addmm_(grad_logits.T, rows.float())
        ctx.save_for_backward(grad_hidden, grad_weight)
        ctx.weight_dtype = weight.dtype
        tokens = torch.tensor(targets.numel(), device=hidden.device)
        ctx.mark_non_differentiable(entropy, correct, tokens)
        return loss, entropy, correct, tokens

    @staticmethod
    def backward(ctx, grad_loss, *unused):
        grad_hidden, grad_weight = ctx.saved_tensors
        if grad_hidden is not None:
            grad_hidden = grad_hidden * grad_loss.to(grad_hidden.dtype)
        if grad_weight is not None:
            grad_weight = (grad_weight * grad_loss).to(ctx.weight_dtype)
        return grad_hidden, grad_weight, None, None


def _log_softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor
                               ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The plain path: summed cross-entropy of full logits, and TRL's metric sums."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    loss = torch.nn.functional.nll_loss(log_probs, targets, reduction="sum")
    with torch.no_grad():
        sums = {"entropy": -(log_probs.exp() * log_probs).sum(), "correct": (log_probs.argmax(-1) == targets).sum(),
                "tokens": torch.tensor(targets.numel(), device=loss.device)}
    return loss, sums

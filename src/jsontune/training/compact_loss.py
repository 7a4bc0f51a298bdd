"""The training loss on CPU: LM head and cross-entropy only at the positions that have a label.

TRL's fused LM head scores every position on devices without Triton, in tiles folded by torch ops, and
computes entropy for its metrics on the way. On this repository's data about half of the tokens are prompt,
and with a 49k vocabulary the head is a fifth of the model's FLOPs: projecting only the labelled positions
(transformers' boolean `logits_to_keep`) and taking a plain cross-entropy doubled LoRA examples/s here
(`make bench`). The loss is TRL's: summed over labelled tokens, divided by `num_items_in_batch`.
"""

from __future__ import annotations

import torch


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
    logits = model(**model_inputs, use_cache=False, logits_to_keep=keep).logits  # (labelled tokens, vocab)
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    denominator = targets.numel() if num_items_in_batch is None else num_items_in_batch
    loss = torch.nn.functional.nll_loss(log_probs, targets, reduction="sum")
    loss = loss / torch.as_tensor(denominator, device=loss.device).clamp(min=1)
    with torch.no_grad():
        sums = {"entropy": -(log_probs.exp() * log_probs).sum(), "correct": (log_probs.argmax(-1) == targets).sum(),
                "tokens": torch.tensor(targets.numel(), device=loss.device)}
    return loss, sums

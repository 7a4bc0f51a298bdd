"""Rows rounded up for bf16 on CPU: the same loss and gradients as the row itself, and a length from a few."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from jsontune.training.compact_loss import compact_causal_lm_loss
from jsontune.training.packed_attention import PACKED_SDPA, register_packed_sdpa
from jsontune.training.row_rounding import round_packed_row


def _packed_batch(vocab: int, lengths=(5, 9, 3)) -> dict:
    generator = torch.Generator().manual_seed(0)
    rows = []
    for length in lengths:
        ids = torch.randint(10, vocab, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "labels": [-100, -100, *ids[2:]]})
    return DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)


def _loss_and_grads(model, batch):
    model.zero_grad()
    loss, sums = compact_causal_lm_loss(model, batch, None)
    loss.backward()
    return loss.detach(), sums, {name: p.grad.clone() for name, p in model.named_parameters()}


def test_a_rounded_row_gives_the_loss_gradients_and_metrics_of_the_row(tiny_model_dir):
    register_packed_sdpa()
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=PACKED_SDPA,
                                                 dtype=torch.float32).train()
    batch = _packed_batch(model.config.vocab_size)
    rounded = round_packed_row(batch, pad_token_id=0, multiple=8)
    assert batch["input_ids"].shape == (1, 17) and rounded["input_ids"].shape == (1, 24)
    # The last sequence grows at its end: no new sequence, positions go on, the padding has no labels.
    assert rounded["cu_seq_lens_q"].tolist() == [0, 5, 14, 24] and rounded["max_length_q"] == 10
    assert rounded["position_ids"][0, 14:].tolist() == list(range(10))
    assert (rounded["labels"][0, 17:] == -100).all() and rounded["seq_idx"][0, 17:].tolist() == [2] * 7
    loss, sums, grads = _loss_and_grads(model, batch)
    rounded_loss, rounded_sums, rounded_grads = _loss_and_grads(model, rounded)
    torch.testing.assert_close(rounded_loss, loss, atol=1e-6, rtol=1e-5)
    assert rounded_sums.keys() == sums.keys()
    for key in sums:  # entropy, top-1 hits, labelled tokens: the metrics see the real tokens only
        torch.testing.assert_close(rounded_sums[key], sums[key], atol=1e-4, rtol=1e-5, msg=key)
    for name in grads:
        torch.testing.assert_close(rounded_grads[name], grads[name], atol=1e-6, rtol=1e-4, msg=name)


def test_round_rows_and_padded_batches_are_left_as_they_are():
    batch = _packed_batch(100, lengths=(5, 3))
    assert round_packed_row(batch, pad_token_id=0, multiple=8) is batch  # 8 tokens already
    padded = DataCollatorForLanguageModeling(pad_token_id=0)([{"input_ids": [11, 12, 13]}, {"input_ids": [14]}])
    assert round_packed_row(padded, pad_token_id=0, multiple=8) is padded

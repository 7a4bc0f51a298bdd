"""The CPU training fast path gives the numbers of the slow one: packed attention, the compact loss, padding-free."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM
from trl import SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from jsontune.recipe import load_recipe
from jsontune.training.launch_checks import LaunchError
from jsontune.training.packed_attention import PACKED_SDPA, register_packed_sdpa
from jsontune.training.train import build_trainer, train

LENGTHS = [5, 9, 3]


def _rows(vocab: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    rows = []
    for length in LENGTHS:
        ids = torch.randint(10, vocab, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "labels": [-100, -100, *ids[2:]]})
    return rows


def _model(path: Path, attention: str):
    return AutoModelForCausalLM.from_pretrained(path, attn_implementation=attention, dtype=torch.float32).eval()


def test_packed_attention_gives_the_logits_of_a_padded_batch(tiny_model_dir, monkeypatch):
    register_packed_sdpa()
    padded_model, packed_model = _model(tiny_model_dir, "sdpa"), _model(tiny_model_dir, PACKED_SDPA)
    rows = _rows(padded_model.config.vocab_size)
    padded = DataCollatorForLanguageModeling(pad_token_id=0)(rows)
    packed = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    assert packed["input_ids"].shape == (1, sum(LENGTHS)) and "attention_mask" not in packed

    lengths_seen = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def recording_sdpa(query, *args, **kwargs):
        lengths_seen.append(query.shape[2])
        return sdpa(query, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording_sdpa)
    with torch.no_grad():
        expected = padded_model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits
        lengths_seen.clear()
        got = packed_model(**{k: v for k, v in packed.items() if k != "labels"}).logits[0]
    # Each sequence attends to itself alone: one call per sequence and layer, none over the whole row.
    assert lengths_seen == LENGTHS * packed_model.config.num_hidden_layers
    offsets = [0, *torch.tensor(LENGTHS).cumsum(0).tolist()]
    for i, length in enumerate(LENGTHS):
        torch.testing.assert_close(got[offsets[i]:offsets[i + 1]], expected[i, :length], atol=1e-5, rtol=1e-5)


def test_packed_attention_gives_the_gradients_of_a_padded_batch(tiny_model_dir):
    register_packed_sdpa()
    padded_model, packed_model = _model(tiny_model_dir, "sdpa"), _model(tiny_model_dir, PACKED_SDPA)
    rows = _rows(padded_model.config.vocab_size)
    padded = DataCollatorForLanguageModeling(pad_token_id=0)(rows)
    packed = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    real = padded["attention_mask"].bool()
    # The same function of the real tokens' logits on both sides, so every weight's gradient must agree.
    padded_logits = padded_model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits
    padded_logits[real].square().mean().backward()
    packed_model(**{k: v for k, v in packed.items() if k != "labels"}).logits[0].square().mean().backward()
    for (name, expected), got in zip(padded_model.named_parameters(), packed_model.parameters()):
        torch.testing.assert_close(got.grad, expected.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_packed_attention_leaves_padded_batches_and_generation_to_sdpa(tiny_model_dir):
    register_packed_sdpa()
    padded_model, packed_model = _model(tiny_model_dir, "sdpa"), _model(tiny_model_dir, PACKED_SDPA)
    batch = DataCollatorForLanguageModeling(pad_token_id=0)(_rows(padded_model.config.vocab_size))
    left = {"input_ids": batch["input_ids"].flip(1), "attention_mask": batch["attention_mask"].flip(1)}  # left padding
    settings = {"max_new_tokens": 6, "do_sample": False, "pad_token_id": 0}
    with torch.no_grad():
        torch.testing.assert_close(packed_model(**left).logits, padded_model(**left).logits)
        assert torch.equal(packed_model.generate(**left, **settings), padded_model.generate(**left, **settings))


def test_under_bf16_autocast_packed_attention_attends_in_fp32(tiny_model_dir, monkeypatch):
    register_packed_sdpa()
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=PACKED_SDPA,
                                                 dtype=torch.float32).eval()
    rows = _rows(model.config.vocab_size)
    packed = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    batch = {k: v for k, v in packed.items() if k != "labels"}
    dtypes = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def recording_sdpa(query, key, value, *args, **kwargs):
        dtypes.append((query.dtype, key.dtype, value.dtype, torch.is_autocast_enabled("cpu")))
        return sdpa(query, key, value, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording_sdpa)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(**batch).logits
    assert dtypes and set(dtypes) == {(torch.float32, torch.float32, torch.float32, False)}
    with torch.no_grad():
        expected = model(**batch).logits
    assert torch.nn.functional.cosine_similarity(logits.float().flatten(), expected.flatten(), dim=0) > 0.99


def _trainer(make_recipe, use_peft: bool, padding_free: bool):
    recipe = load_recipe(make_recipe(use_peft=use_peft, padding_free=padding_free, lora_dropout=0.0,
                                     lora_target_modules=["all-linear"]))
    trainer, _, _ = build_trainer(recipe)
    return trainer


@pytest.mark.parametrize("head", ["chunked", "plain"])
@pytest.mark.parametrize(("use_peft", "padding_free"), [(True, False), (False, True)],
                         ids=["lora-padded", "full-padding-free"])
def test_compact_loss_matches_trl_loss_gradients_and_metrics(make_recipe, monkeypatch, use_peft, padding_free, head):
    import jsontune.training.compact_loss as compact_loss

    if head == "plain":  # a model family the chunked head does not know
        monkeypatch.setattr(compact_loss, "FUSED_HEAD_MODEL_TYPES", frozenset())
    trainer = _trainer(make_recipe, use_peft, padding_free)
    model = trainer.model.train()
    batch = next(iter(trainer.get_train_dataloader()))
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    head_rows = []
    model.get_output_embeddings().register_forward_hook(lambda module, args, out: head_rows.append(args[0].shape[0]))

    def loss_and_grads(compute):
        model.zero_grad()
        trainer._metrics["train"].clear()
        loss = compute(trainer, model, dict(batch), num_items_in_batch=labelled + 3)  # + 3: the divisor is used
        loss.backward()
        grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
        metrics = {key: trainer._metrics["train"][key][-1] for key in ("entropy", "mean_token_accuracy")}
        return loss.detach(), grads, metrics

    assert trainer._compact_loss_applies()
    loss, grads, metrics = loss_and_grads(type(trainer).compute_loss)
    # The labelled positions only reach the head; the chunked path projects them itself, the head module none.
    assert head_rows == [0 if head == "chunked" else labelled]
    trl_loss, trl_grads, trl_metrics = loss_and_grads(SFTTrainer.compute_loss)
    torch.testing.assert_close(loss, trl_loss, atol=1e-5, rtol=1e-5)
    assert grads.keys() == trl_grads.keys() and len(grads) > 0
    for name in grads:
        torch.testing.assert_close(grads[name], trl_grads[name], atol=1e-5, rtol=1e-4, msg=name)
    assert metrics == pytest.approx(trl_metrics, abs=1e-4)


@pytest.mark.parametrize("weight_trains", [True, False])
def test_chunked_head_loss_gives_the_loss_gradients_and_metrics_of_full_logits(weight_trains):
    from jsontune.training.compact_loss import head_cross_entropy

    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(37, 8, generator=generator, requires_grad=True)
    weight = torch.randn(50, 8, generator=generator, requires_grad=weight_trains)
    targets = torch.randint(0, 50, (37,), generator=generator)
    loss, sums = head_cross_entropy(hidden, weight, targets, chunk=10)  # 4 chunks, the last one short
    (2.5 * loss).backward()  # an upstream gradient other than 1 scales the kept gradients
    got = [hidden.grad.clone(), *([weight.grad.clone()] if weight_trains else [])]
    hidden.grad = weight.grad = None

    log_probs = torch.log_softmax(hidden @ weight.T, dim=-1)
    expected_loss = torch.nn.functional.nll_loss(log_probs, targets, reduction="sum")
    (2.5 * expected_loss).backward()
    torch.testing.assert_close(loss, expected_loss)
    torch.testing.assert_close(got, [hidden.grad, *([weight.grad] if weight_trains else [])])
    assert sums["entropy"].item() == pytest.approx(-(log_probs.exp() * log_probs).sum().item(), rel=1e-6)
    assert sums["correct"].item() == (log_probs.argmax(-1) == targets).sum().item() and sums["tokens"].item() == 37
    with torch.no_grad():  # evaluation: the same loss, no gradient kept
        torch.testing.assert_close(head_cross_entropy(hidden, weight, targets, chunk=10)[0], loss.detach())


def test_padding_free_training_follows_padded_training(make_recipe, tmp_path):
    figures = {}
    for padding_free in (False, True):
        recipe = load_recipe(make_recipe(padding_free=padding_free, lora_dropout=0.0, max_steps=4, max_length=256,
                                         output_dir=str(tmp_path / f"run-{padding_free}")))
        figures[padding_free] = train(recipe)
        saved = (Path(recipe.training.output_dir) / "recipe.yaml").read_text()
        assert "max_length: 256" in saved  # jsontune lifts max_length from TRL while it builds; the run keeps it
    assert figures[True]["loss_history"] == pytest.approx(figures[False]["loss_history"], abs=1e-4)
    assert figures[True]["train_tokens"] == figures[False]["train_tokens"]


def test_padding_free_rows_longer_than_max_length_are_refused_by_file_and_line(make_recipe, tiny_data):
    recipe = load_recipe(make_recipe(padding_free=True), ["--max_length", "20"])
    rows = rf"{re.escape(str(tiny_data))}:1, {re.escape(str(tiny_data))}:2"
    with pytest.raises(LaunchError, match=rf"2 of 2 training rows \({rows}; the longest has \d+ tokens\) are "
                                          r"longer than max_length 20"):
        build_trainer(recipe)
    assert recipe.training.max_length == 20


def test_training_attention_is_the_recipes_else_the_fastest_that_keeps_sequences_apart(monkeypatch):
    import jsontune.training.packed_attention as packed

    assert packed.training_attention("eager", padding_free=True) == "eager"
    assert packed.training_attention(None, padding_free=False) is None  # transformers' default, SDPA
    monkeypatch.setattr(packed.torch.cuda, "is_available", lambda: False)
    assert packed.training_attention(None, padding_free=True) == PACKED_SDPA
    monkeypatch.setattr(packed.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(packed, "is_flash_attn_2_available", lambda: False)
    assert packed.training_attention(None, padding_free=True) == PACKED_SDPA
    monkeypatch.setattr(packed, "is_flash_attn_2_available", lambda: True)
    assert packed.training_attention(None, padding_free=True) == "flash_attention_2"


def test_compact_loss_of_a_batch_without_labels_is_a_differentiable_zero(tiny_model_dir):
    from jsontune.training.compact_loss import compact_causal_lm_loss

    model = _model(tiny_model_dir, "sdpa").train()
    batch = DataCollatorForLanguageModeling(pad_token_id=0)(_rows(model.config.vocab_size))
    batch["labels"][:] = -100
    loss, sums = compact_causal_lm_loss(model, batch, num_items_in_batch=None)
    loss.backward()
    assert loss.item() == 0.0 and sums["tokens"].item() == 0
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())

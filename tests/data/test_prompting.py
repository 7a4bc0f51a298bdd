"""Prompt rendering and the label mask: only the answer and its end-of-turn token are trained."""

from __future__ import annotations

import torch

from jsontune.data.prompting import PromptConfig, choose_prompt_config, compact_json, render_prompt, tokenize_example

RECORD = {"id": "r", "prompt": "Please create a JSON object from the following: 'Ana bought 2 pens.'",
          "reference": {"order": {"customer": "Ana", "items": [{"type": "pen", "quantity": 2}]}},
          "schema": {"type": "object", "required": ["order"]}}


def test_chat_prompt_has_no_injected_system_prompt(tokenizer):
    config = choose_prompt_config(tokenizer, schema_in_prompt=False)
    assert config.format == "chat"
    assert render_prompt(tokenizer, RECORD, config) == (
        f"<|im_start|>user\n{RECORD['prompt']}<|im_end|>\n<|im_start|>assistant\n")


def test_system_prompt_and_schema_when_the_recipe_asks(tokenizer):
    config = PromptConfig(format="chat", system_prompt="Answer with JSON only.", schema_in_prompt=True)
    text = render_prompt(tokenizer, RECORD, config)
    assert text.startswith("<|im_start|>system\nAnswer with JSON only.<|im_end|>\n<|im_start|>user\n")
    assert '{"type":"object","required":["order"]}' in text


def test_plain_format_for_models_without_a_template(tokenizer):
    config = PromptConfig(format="plain", system_prompt="Be brief.")
    assert render_prompt(tokenizer, RECORD, config) == (
        f"Be brief.\n\n### Request:\n{RECORD['prompt']}\n\n### JSON:\n")


def test_label_mask_trains_only_the_answer_and_its_end_token(tokenizer):
    config = choose_prompt_config(tokenizer)
    example = tokenize_example(tokenizer, RECORD, config)
    ids, mask = example["input_ids"], example["completion_mask"]
    answer = [t for t, m in zip(ids, mask) if m]
    prompt = [t for t, m in zip(ids, mask) if not m]
    assert tokenizer.decode(prompt) == render_prompt(tokenizer, RECORD, config)
    assert tokenizer.decode(answer) == compact_json(RECORD["reference"]) + "<|im_end|>"
    assert mask == sorted(mask)  # one prompt block, then one answer block


def test_padding_never_masks_the_real_end_token(tokenizer, make_recipe):
    """pad == EOS here: labels must come from positions, so the answer's EOS keeps its label (GUIDE 5.3)."""
    from jsontune.recipe import load_recipe
    from jsontune.training.train import build_trainer

    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    trainer, config, splits = build_trainer(load_recipe(make_recipe(use_peft=False)))
    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    assert len(rows) == 2 and len(rows[0]["input_ids"]) != len(rows[1]["input_ids"])
    batch = trainer.data_collator(rows)
    eos = tokenizer.eos_token_id
    for record, row, labels in zip(splits.train, rows, batch["labels"]):
        expected = tokenize_example(tokenizer, record, config)
        assert row["input_ids"] == expected["input_ids"]
        real, prompt_len = len(row["input_ids"]), expected["completion_mask"].index(1)
        assert labels[real - 1].item() == eos  # the answer's end token is trained
        assert (labels[real:] == -100).all()  # padding (also EOS) is not
        assert (labels[:prompt_len] == -100).all()  # nor is the prompt
        assert torch.equal(labels[prompt_len:real], torch.tensor(row["input_ids"][prompt_len:real]))

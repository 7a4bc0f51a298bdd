"""Training on the tiny model: the loss falls, outputs are complete and reload, and generation stops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from peft import PeftModel

from jsontune.generation import generate, load_for_inference
from jsontune.prompting import PromptConfig, compact_json, prompt_ids
from jsontune.recipe import load_recipe
from jsontune.training import TRAIN_RESULTS_FILE, train

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("use_peft", [True, False], ids=["lora", "full"])
def test_a_few_steps_lower_the_loss_and_save_everything(make_recipe, use_peft):
    # LoRA on q/v of a random tiny model barely moves its output; on every linear layer it does.
    extra = {"lora_target_modules": ["all-linear"], "lora_r": 32} if use_peft else {}
    recipe = load_recipe(make_recipe(use_peft=use_peft, max_steps=8, learning_rate=2e-2, **extra))
    figures = train(recipe)
    out = Path(recipe.training.output_dir)

    losses = figures["loss_history"]
    assert len(losses) == 8 and losses[-1] < losses[0] - 1.0, losses
    assert figures["train_tokens"] > 0 and figures["train_tokens_per_second"] > 0 and figures["peak_memory_mb"] > 0
    assert json.loads((out / TRAIN_RESULTS_FILE).read_text())["final_loss"] == losses[-1]
    assert PromptConfig.load(out).format == "chat"
    resolved = yaml.safe_load((out / "recipe.yaml").read_text())
    assert resolved["max_steps"] == 8 and resolved["jsontune"]["data_files"] == recipe.jsontune.data_files
    assert (out / "tokenizer.json").is_file()

    model, _, config = load_for_inference(out)
    assert config == PromptConfig.load(out)
    if use_peft:
        assert (out / "adapter_model.safetensors").stat().st_size > 10_000  # non-empty (GUIDE 5.1)
        assert isinstance(model, PeftModel)
        assert figures["trainable_parameters"] < figures["total_parameters"] / 10
    else:
        assert (out / "model.safetensors").is_file()
        assert figures["trainable_parameters"] == figures["total_parameters"]


def test_overfit_tiny_model_answers_exactly_and_stops_at_end_of_turn(make_recipe, tiny_data):
    """GUIDE 5.3: with pad == EOS the model must still learn to stop."""
    recipe = load_recipe(make_recipe(use_peft=False, max_steps=60, learning_rate=3e-3, logging_steps=10,
                                     lr_scheduler_type="constant"))
    train(recipe)
    model, tokenizer, config = load_for_inference(recipe.training.output_dir)
    records = [json.loads(line) for line in tiny_data.read_text().splitlines()]
    prompts = [prompt_ids(tokenizer, r, config) for r in records]
    outputs = generate(model, tokenizer, prompts, max_new_tokens=80, batch_size=2, progress=False)
    for record, output in zip(records, outputs):
        assert output.text == compact_json(record["reference"])
        assert output.finished  # ended with <|im_end|>, well before the 80-token budget
        assert output.new_tokens == len(tokenizer(output.text)["input_ids"]) + 1

"""Training on the tiny model: the loss falls, outputs are complete and reload, and generation stops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from peft import PeftModel

from jsontune import generate_json
from jsontune.data.prompting import PromptConfig, compact_json, prompt_ids
from jsontune.decoding.generate import generate
from jsontune.models.loading import load_for_inference, load_weights, model_source
from jsontune.recipe import RecipeError, load_recipe
from jsontune.run_dir import TRAIN_RESULTS_FILE, RunDirError
from jsontune.training.train import optimizer_steps_per_epoch, train, with_step_floor

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
        assert not isinstance(model, PeftModel), "loaded for inference, the adapter is merged into its base"
        assert isinstance(load_weights(model_source(out), merge_adapter=False), PeftModel)
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
        # The Python API of the original experiment returns the parsed JSON.
        answer = generate_json(record["prompt"], model_path=recipe.training.output_dir, schema=record.get("schema"))
        assert answer == record["reference"]


def test_generation_metrics_during_training_drive_early_stopping_and_reach_tensorboard(make_recipe):
    recipe = load_recipe(make_recipe(
        use_peft=False, max_steps=6, eval_strategy="steps", eval_steps=1, save_strategy="steps", save_steps=1,
        load_best_model_at_end=True, metric_for_best_model="json_field_f1", report_to="tensorboard",
        jsontune={"dev_rows": 1, "early_stopping_patience": 1, "eval_max_new_tokens": 8},
    ))
    figures = train(recipe)
    out = Path(recipe.training.output_dir)
    state = json.loads(sorted(out.glob("checkpoint-*/trainer_state.json"))[-1].read_text())
    evaluations = [e for e in state["log_history"] if "eval_json_field_f1" in e]
    assert evaluations and all(0.0 <= e["eval_json_parse_rate"] <= 1.0 for e in evaluations)
    # A random model's F1 stays 0: no improvement after the first evaluation, so patience 1 stops at step 2.
    assert figures["global_steps"] == 2
    assert state["best_metric"] == evaluations[0]["eval_json_field_f1"]
    events = list(out.rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(events[0].parent)).Reload().Tags()["scalars"]
    assert "eval/json_field_f1" in tags and "eval/loss" in tags


def test_early_stopping_without_a_dev_set_is_a_recipe_error(make_recipe):
    with pytest.raises(RecipeError, match="early_stopping_patience needs .*dev_rows > 0"):
        load_recipe(make_recipe(jsontune={"early_stopping_patience": 2}))
    with pytest.raises(RecipeError, match="eval_strategy is 'steps' but jsontune.dev_rows is 0"):
        load_recipe(make_recipe(eval_strategy="steps"))


def test_min_train_steps_lifts_a_short_epoch_budget_without_rewriting_the_recipe(make_recipe):
    # Two tiny records at batch 2: one step per epoch, so 2 epochs are 2 steps and the floor makes them 5.
    recipe = load_recipe(make_recipe(max_steps=-1, num_train_epochs=2, jsontune={"min_train_steps": 5}))
    figures = train(recipe)
    assert figures["global_steps"] == 5 and len(figures["loss_history"]) == 5
    resolved = yaml.safe_load((Path(recipe.training.output_dir) / "recipe.yaml").read_text())
    assert resolved["max_steps"] == -1 and resolved["num_train_epochs"] == 2
    assert resolved["jsontune"]["min_train_steps"] == 5


def test_min_train_steps_leaves_longer_budgets_and_a_set_max_steps_alone(make_recipe):
    epochs = load_recipe(make_recipe(max_steps=-1, num_train_epochs=3, gradient_accumulation_steps=2)).training
    assert optimizer_steps_per_epoch(9, epochs) == 3  # 5 batches of 2, in steps of 2 batches
    assert with_step_floor(epochs, 9, 9) is epochs  # 3 epochs of 3 steps reach the floor
    floored = with_step_floor(epochs, 9, 10)
    assert floored.max_steps == 10 and epochs.max_steps == -1
    fixed = load_recipe(make_recipe(max_steps=4)).training
    assert with_step_floor(fixed, 9, 100) is fixed
    with pytest.raises(RecipeError, match="min_train_steps must be 0 or more"):
        load_recipe(make_recipe(jsontune={"min_train_steps": -1}))


def test_a_finished_run_is_replaced_only_when_asked_and_then_none_of_its_files_remain(make_recipe, tmp_path):
    """An adapter left beside a new complete model would make the folder load as the old LoRA run."""
    folder = str(tmp_path / "run")
    train(load_recipe(make_recipe(max_steps=1, output_dir=folder)))
    assert (Path(folder) / "adapter_config.json").is_file()

    complete = load_recipe(make_recipe(use_peft=False, max_steps=1, output_dir=folder))
    with pytest.raises(RunDirError, match="--overwrite"):
        train(complete)
    assert (Path(folder) / "adapter_config.json").is_file()
    train(complete, overwrite=True)
    assert not (Path(folder) / "adapter_config.json").exists()
    assert (Path(folder) / "config.json").is_file() and (Path(folder) / TRAIN_RESULTS_FILE).is_file()

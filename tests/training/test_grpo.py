"""GRPO with JSON rewards: the rewards score hand-made answers as the benchmark would, and two GRPO steps of the
tiny model train the SFT adapter further into a run folder like SFT's."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from jsontune.training.rewards import REWARDS, field_f1, length_stop_reward, schema_valid, slot_f1, strict_json

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
          "required": ["name", "city"], "additionalProperties": False}
REFERENCE = {"name": "Bob", "city": "Oslo"}
COMPLETIONS = ['{"name":"Bob","city":"Oslo"}',      # right
               '{"name":"Bob","city":"Rome"}',      # half right
               'Sure! {"name":"Bob","city":"Oslo"}',  # right, but not strictly JSON
               '{"name": "Bob"',                     # cut off
               '{"name":"Bob","city":"Oslo","age":3}']  # an invented key


def _rows(n: int, reference=REFERENCE, schema=SCHEMA) -> dict:
    return {"reference": [json.dumps(reference)] * n, "schema": [json.dumps(schema) if schema else ""] * n}


def test_each_reward_scores_valid_invalid_and_partly_right_answers():
    rows = _rows(len(COMPLETIONS))
    assert strict_json(COMPLETIONS) == [1.0, 1.0, 0.0, 0.0, 1.0]
    assert schema_valid(COMPLETIONS, **rows) == [1.0, 1.0, 1.0, 0.0, 0.0]
    f1 = field_f1(COMPLETIONS, **rows)
    assert f1[0] == f1[2] == 1.0 and f1[1] == pytest.approx(0.5) and 0 < f1[4] < 1
    assert slot_f1(COMPLETIONS, **rows) == [None] * len(COMPLETIONS)  # not a slot-filling row
    slots = {"intent": "PlayMusic", "slots": {"artist": "Adele"}}
    assert slot_f1(['{"intent":"PlayMusic","slots":{"artist":"adele"}}', '{"intent":"PlayMusic","slots":{}}'],
                   **_rows(2, slots, None)) == [1.0, 0.0]
    length_stop = length_stop_reward(stop_token=2, budget=10)
    assert length_stop(["", "", ""], completion_ids=[[5, 2], [5] * 10, [5] * 9 + [2]]) == [0.9, 0.0, 0.5]


@pytest.mark.slow
@pytest.mark.parametrize("start", ["adapter", "complete"])
def test_two_grpo_steps_train_a_sft_model_further_with_every_reward(make_recipe, tiny_data, tmp_path, start):
    """From an SFT adapter (trained further), and from a complete SFT model under a fresh adapter."""
    from safetensors.torch import load_file
    from trl import GRPOConfig

    from jsontune.models.loading import load_weights, model_source
    from jsontune.recipe import load_recipe
    from jsontune.training.grpo import REWARD_PLOT_FILE, train_grpo
    from jsontune.training.train import train

    # Overfit until its greedy answers are the references (as test_train's overfitting test), so that answers
    # sampled at temperature 1 earn different rewards: GRPO learns only from the differences within a group.
    # The adapter case is a short LoRA run on top of that model (a LoRA on the random tiny model learns too
    # slowly to answer anything right).
    complete = load_recipe(make_recipe(use_peft=False, max_steps=60, learning_rate=3e-3,
                                       lr_scheduler_type="constant"))
    train(complete)
    origin = complete.training.output_dir
    if start == "adapter":
        lora = load_recipe(make_recipe(max_steps=2, model_name_or_path=origin, output_dir=str(tmp_path / "sft")))
        train(lora)
        origin = lora.training.output_dir
    data = tmp_path / "grpo.jsonl"  # the SFT records and a slot-filling one, so that every reward has rows to score
    data.write_text(tiny_data.read_text() + json.dumps({"prompt": "play adele", "reference": {
        "intent": "PlayMusic", "slots": {"artist": "adele"}}}) + "\n")
    recipe = tmp_path / "grpo.yaml"
    recipe.write_text(yaml.safe_dump({
        "model_name_or_path": origin, "use_peft": True, "lora_target_modules": ["q_proj", "v_proj"],
        "output_dir": str(tmp_path / "grpo"), "max_steps": 2, "learning_rate": 5e-2,
        "per_device_train_batch_size": 9, "num_generations": 3, "max_completion_length": 40, "logging_steps": 1,
        "temperature": 1.0, "save_strategy": "no", "report_to": "none", "seed": 0,
        "reward_weights": [1.0, 1.0, 1.0, 1.0, 0.5],
        "jsontune": {"data_files": [str(data)], "test_fraction": 0.0, "rewards": list(REWARDS)}}))

    figures = train_grpo(load_recipe(recipe, trainer_config=GRPOConfig))
    out = tmp_path / "grpo"

    assert figures["global_steps"] == 2
    history = figures["reward_history"]
    assert {name: len(points) for name, points in history.items()} == {**dict.fromkeys(REWARDS, 2), "total": 2}
    assert max(value for _, value in history["field_f1"]) > 0  # some answers were right
    assert (out / REWARD_PLOT_FILE).is_file() and (out / "jsontune_prompt.json").is_file()
    after = load_file(out / "adapter_model.safetensors")
    if start == "adapter":
        before = load_file(f"{origin}/adapter_model.safetensors")
        assert before.keys() == after.keys()
        assert any(not torch.equal(before[k], after[k]) for k in before), "GRPO left the adapter as it was"
    else:  # a fresh adapter's B matrices start at zero
        assert any(bool(after[k].abs().sum()) for k in after if "lora_B" in k), "GRPO left the adapter as it was"
    assert load_weights(model_source(out), device="cpu") is not None  # loads like any run folder

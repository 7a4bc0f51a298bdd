"""Recipes: every shipped one parses; mistakes are clear errors naming the recipe, line and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from accelerate.commands.config.config_args import load_config_from_file

from jsontune.recipe import RecipeError, load_recipe
from tests import REPO

RECIPES = sorted((REPO / "recipes").rglob("*.yaml"))
ACCELERATE_CONFIGS = sorted((REPO / "accelerate_configs").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(REPO)  # recipes name data files relative to the checkout


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_recipe_parses(path):
    from trl import GRPOConfig, SFTConfig

    recipe = load_recipe(path, trainer_config=GRPOConfig if path.stem == "grpo" else SFTConfig)
    assert recipe.model.model_name_or_path
    assert recipe.jsontune.data_files


def test_shipped_recipes_exist():
    names = {str(p.relative_to(REPO / "recipes")) for p in RECIPES}
    assert {"lora.yaml", "complete.yaml", "opt-350m/complete.yaml", "opt-350m/lora.yaml", "snips/lora.yaml",
            "snips/complete.yaml", "snips/lora-all.yaml"} <= names


def test_opt_recipes_carry_the_original_hyperparameters():
    full = load_recipe(REPO / "recipes/opt-350m/complete.yaml")
    assert (full.training.num_train_epochs, full.training.per_device_train_batch_size) == (3, 4)
    assert (full.training.learning_rate, full.training.gradient_accumulation_steps) == (2e-5, 2)
    assert not full.model.use_peft
    lora = load_recipe(REPO / "recipes/opt-350m/lora.yaml")
    assert lora.model.use_peft and lora.training.num_train_epochs == 100
    assert (lora.model.lora_r, lora.model.lora_alpha, lora.model.lora_dropout) == (16, 32, 0.05)
    assert lora.model.lora_target_modules == ["q_proj", "v_proj"] and lora.training.learning_rate == 2e-4


@pytest.mark.parametrize("path", ACCELERATE_CONFIGS, ids=lambda p: p.name)
def test_every_accelerate_config_parses(path):
    config = load_config_from_file(str(path))
    assert config.num_processes >= 1
    if config.distributed_type.value == "DEEPSPEED":
        ds_file = REPO / config.deepspeed_config["deepspeed_config_file"]
        ds = json.loads(ds_file.read_text())
        assert ds["train_micro_batch_size_per_gpu"] == "auto"
        if ds["zero_optimization"]["stage"] == 3:  # LoRA adapters saved empty without it (GUIDE 5.1)
            assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True


def test_overrides_follow_the_recipe():
    recipe = load_recipe(REPO / "recipes/lora.yaml", ["--max_steps", "3", "--output_dir", "/tmp/x", "--lora_r", "4"])
    assert (recipe.training.max_steps, recipe.training.output_dir, recipe.model.lora_r) == (3, "/tmp/x", 4)
    assert recipe.resolved()["max_steps"] == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU defaults")
def test_cpu_defaults_without_touching_the_recipe():
    from jsontune.recipe import cpu_has_bf16_matmuls

    recipe = load_recipe(REPO / "recipes/lora.yaml")
    assert recipe.training.use_cpu and recipe.training.bf16 is cpu_has_bf16_matmuls()  # the recipe asks for bf16
    assert not recipe.training.gradient_checkpointing


def test_resolved_recipe_reloads_to_the_same_values(tmp_path):
    recipe = load_recipe(REPO / "recipes/lora.yaml", ["--max_steps", "7"])
    saved = recipe.save(tmp_path)
    again = load_recipe(saved)
    assert again.resolved() == recipe.resolved()


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


BASE = "model_name_or_path: smollm2-135m-instruct\n"


def test_unknown_key_names_line_and_suggests(tmp_path):
    path = _write(tmp_path, BASE + "use_peft: true\nlora_rank: 8\n")
    with pytest.raises(RecipeError, match=r"bad.yaml:3: unknown key 'lora_rank' \(did you mean 'lora_r'\?\)"):
        load_recipe(path)


def test_jsontune_key_at_top_level_is_pointed_to_its_section(tmp_path):
    path = _write(tmp_path, BASE + "system_prompt: hi\n")
    message = "bad.yaml:2: unknown key 'system_prompt' here: it belongs in the 'jsontune:'"
    with pytest.raises(RecipeError, match=message):
        load_recipe(path)


def test_unknown_key_in_jsontune_section(tmp_path):
    path = _write(tmp_path, BASE + "jsontune:\n  data_file: x.jsonl\n")
    with pytest.raises(RecipeError, match=r"bad.yaml:3: unknown key 'data_file' \(did you mean 'data_files'\?\)"):
        load_recipe(path)


def test_wrong_type_names_the_key(tmp_path):
    path = _write(tmp_path, BASE + "learning_rate: fast\n")
    with pytest.raises(RecipeError, match="bad.yaml.*--learning_rate.*invalid float value: 'fast'"):
        load_recipe(path)


def test_bad_choice_names_the_key(tmp_path):
    path = _write(tmp_path, BASE + "jsontune:\n  on_bad_rows: ignore\n")
    with pytest.raises(RecipeError, match="--on_bad_rows.*invalid choice: 'ignore'"):
        load_recipe(path)


def test_unknown_override(tmp_path):
    with pytest.raises(RecipeError, match="--lora_rnk"):
        load_recipe(REPO / "recipes/lora.yaml", ["--lora_rnk", "4"])


def test_missing_data_file(tmp_path):
    path = _write(tmp_path, BASE + "jsontune:\n  data_files: [nowhere.jsonl]\n")
    with pytest.raises(RecipeError, match="no such file or folder 'nowhere.jsonl'"):
        load_recipe(path)


def test_missing_model_path(tmp_path):
    path = _write(tmp_path, "model_name_or_path: ./no/such/model\n")
    with pytest.raises(RecipeError, match="not an existing path, an embedded model"):
        load_recipe(path)


def test_missing_recipe_and_bad_yaml(tmp_path):
    with pytest.raises(RecipeError, match="no such recipe file"):
        load_recipe(tmp_path / "absent.yaml")
    with pytest.raises(RecipeError, match=r"bad.yaml:2: invalid YAML"):
        load_recipe(_write(tmp_path, BASE + "learning_rate: 1: 2\n"))


def test_row_limits_must_match_the_files(tmp_path):
    path = _write(tmp_path, BASE + yaml.safe_dump({"jsontune": {
        "data_files": ["data/synthetic/records.jsonl"] * 3, "max_train_rows_per_file": [1, 2]}}))
    with pytest.raises(RecipeError, match="has 2 numbers for 3 data files"):
        load_recipe(path)


@pytest.mark.parametrize("has_bf16_matmuls", [True, False])
def test_bf16_on_cpu_is_kept_only_where_the_recipe_asks_and_the_cpu_multiplies_bf16(monkeypatch, make_recipe,
                                                                                   has_bf16_matmuls):
    import jsontune.recipe as recipe_module

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(recipe_module, "cpu_has_bf16_matmuls", lambda: has_bf16_matmuls)
    for shipped in ("lora", "complete"):  # the experiment's recipes ask for bf16
        asked = load_recipe(REPO / f"recipes/{shipped}.yaml")
        assert asked.training.use_cpu and asked.training.bf16 is has_bf16_matmuls
    assert load_recipe(REPO / "recipes/lora.yaml", ["--bf16", "false"]).training.bf16 is False
    assert load_recipe(make_recipe()).training.bf16 is False  # fp32 unless asked


def test_gpu_settings_bf16_and_liger_kernels_when_installed_unless_the_recipe_says(monkeypatch):
    import importlib.util

    from jsontune.recipe import _device_tokens

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    installed = set()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name in installed else None)
    assert _device_tokens(set()) == ["--bf16", "true"]
    installed.add("liger_kernel")
    assert _device_tokens(set()) == ["--bf16", "true", "--use_liger_kernel", "true"]
    assert _device_tokens({"bf16", "use_liger_kernel"}) == []

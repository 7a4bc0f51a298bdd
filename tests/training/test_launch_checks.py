"""Bad configurations fail fast, before a model loads, with a message that names the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jsontune.recipe import load_recipe
from jsontune.training.launch_checks import LaunchError, check_labels_end_with_stop, check_launch
from tests import REPO

ZERO3 = REPO / "accelerate_configs/deepspeed/zero3.json"


def _deepspeed_file(tmp_path: Path, gather: bool | None = None, train_batch_size="auto") -> Path:
    config = json.loads(ZERO3.read_text())
    if gather is None:
        del config["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
    else:
        config["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] = gather
    config["train_batch_size"] = train_batch_size
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(autouse=True)
def _single_process_launch(monkeypatch):
    for name in ("ACCELERATE_USE_DEEPSPEED", "ACCELERATE_DEEPSPEED_CONFIG_FILE", "ACCELERATE_USE_FSDP",
                 "ACCELERATE_DEEPSPEED_ZERO_STAGE", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("gather", [None, False])
def test_zero3_lora_without_the_16bit_gather_is_refused(make_recipe, tmp_path, gather):
    recipe = load_recipe(make_recipe(use_peft=True), ["--deepspeed", str(_deepspeed_file(tmp_path, gather))])
    with pytest.raises(LaunchError, match="ZeRO-3 with LoRA needs \"stage3_gather_16bit_weights_on_model_save\""):
        check_launch(recipe)


def test_zero3_with_the_gather_or_without_lora_passes(make_recipe, tmp_path):
    check_launch(load_recipe(make_recipe(use_peft=True), ["--deepspeed", str(_deepspeed_file(tmp_path, True))]))
    check_launch(load_recipe(make_recipe(use_peft=False), ["--deepspeed", str(_deepspeed_file(tmp_path, None))]))


def test_the_accelerate_launchs_deepspeed_file_is_checked_too(make_recipe, tmp_path, monkeypatch):
    bad = _deepspeed_file(tmp_path, None)
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_CONFIG_FILE", str(bad))
    with pytest.raises(LaunchError, match=f"the accelerate config's deepspeed_config_file \\({bad}\\)"):
        check_launch(load_recipe(make_recipe(use_peft=True)))


def test_a_deepspeed_batch_for_another_process_count_is_refused(make_recipe, tmp_path, monkeypatch):
    recipe = load_recipe(make_recipe(use_peft=False),
                         ["--deepspeed", str(_deepspeed_file(tmp_path, True, train_batch_size=8))])
    monkeypatch.setenv("WORLD_SIZE", "4")  # 4 processes x batch 2 x 1 step = 8: fine
    check_launch(recipe)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(LaunchError, match="train_batch_size 8 is for another process count: this launch has 2 "):
        check_launch(recipe)


def test_more_processes_than_gpus_is_refused(make_recipe, monkeypatch):
    import torch

    recipe = load_recipe(make_recipe(use_peft=True))
    recipe.training.use_cpu = False  # as on a GPU machine
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    check_launch(recipe)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(LaunchError, match="starts 2 processes on this machine but it has 1 GPU"):
        check_launch(recipe)


def test_wrapped_packing_is_refused_and_bfd_passes(make_recipe):
    check_launch(load_recipe(make_recipe(), ["--packing", "true", "--packing_strategy", "bfd"]))
    with pytest.raises(LaunchError, match="packing_strategy 'wrapped' cuts rows"):
        check_launch(load_recipe(make_recipe(), ["--packing", "true", "--packing_strategy", "wrapped"]))


def test_a_collator_that_masks_pad_ids_while_pad_is_eos_is_caught(tokenizer):
    """transformers' causal-LM collator sets every pad id's label to -100: with pad == EOS that is the stop token."""
    from transformers import DataCollatorForLanguageModeling
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling as TrlCollator

    from jsontune.data.prompting import choose_prompt_config, end_of_turn_id, tokenize_example
    from tests.conftest import TINY_RECORDS

    stop = end_of_turn_id(tokenizer)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id == stop  # the embedded model's own setup
    config = choose_prompt_config(tokenizer)
    rows = []
    for record in TINY_RECORDS:
        row = tokenize_example(tokenizer, record, config)
        rows.append({"input_ids": row["input_ids"],
                     "labels": [t if m else -100 for t, m in zip(row["input_ids"], row["completion_mask"])]})
    check_labels_end_with_stop(rows, TrlCollator(pad_token_id=stop), stop, "<|im_end|>")
    check_labels_end_with_stop(rows, TrlCollator(pad_token_id=stop, padding_free=True), stop, "<|im_end|>")
    masking = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    with pytest.raises(LaunchError, match="2 of 2 training rows \\(rows 0, 1\\) do not end their labels with the stop"):
        check_labels_end_with_stop([{"input_ids": r["input_ids"]} for r in rows], masking, stop, "<|im_end|>")


@pytest.mark.slow
def test_rows_truncated_before_their_stop_token_are_refused(make_recipe):
    from jsontune.training.train import build_trainer

    recipe = load_recipe(make_recipe(jsontune={"schema_in_prompt": False}), ["--max_length", "40"])
    with pytest.raises(LaunchError, match="do not end their labels with the stop token '<\\|im_end\\|>'.*max_length"):
        build_trainer(recipe)


def test_rows_whose_prompt_fills_max_length_are_refused_not_dropped(make_recipe, tiny_data):
    from jsontune.training.train import build_trainer

    # With its schema in the prompt, the first tiny record's prompt is over 30 tokens: TRL would drop the row.
    with pytest.raises(LaunchError, match=rf"1 of 2 training rows \({tiny_data}:1\) have prompts "
                                          "of max_length 30 tokens or more"):
        build_trainer(load_recipe(make_recipe(), ["--max_length", "30"]))


def test_the_cli_reports_a_launch_error_without_a_traceback(make_recipe, tmp_path):
    bad = _deepspeed_file(tmp_path, None)
    done = subprocess.run([sys.executable, str(REPO / "scripts/sft.py"), str(make_recipe()), "--deepspeed", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "ZeRO-3 with LoRA needs" in done.stderr and "Traceback" not in done.stderr

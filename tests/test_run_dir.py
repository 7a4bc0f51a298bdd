"""The run folder: an adapter names its base, a folder that is not one says why, training figures round-trip."""

from __future__ import annotations

import json

import pytest

from jsontune import run_dir


def test_an_adapter_folder_names_its_base_and_a_model_folder_is_told_apart(tmp_path):
    adapter, model = tmp_path / "lora", tmp_path / "complete"
    adapter.mkdir()
    model.mkdir()
    (adapter / run_dir.ADAPTER_CONFIG_FILE).write_text(json.dumps({"base_model_name_or_path": "base/model", "r": 8}))
    (model / run_dir.MODEL_CONFIG_FILE).write_text("{}")
    assert run_dir.adapter_base(adapter) == "base/model" and run_dir.adapter_settings(adapter)["r"] == 8
    assert run_dir.is_adapter(adapter) and not run_dir.is_adapter(model)
    assert run_dir.is_model(adapter) and run_dir.is_model(model) and not run_dir.is_model(tmp_path)
    assert run_dir.adapter_settings(model) == {}


def test_a_folder_that_is_not_an_adapter_or_names_no_base_says_so(tmp_path):
    with pytest.raises(run_dir.RunDirError, match=f"{tmp_path}: not a LoRA adapter folder"):
        run_dir.adapter_base(tmp_path)
    (tmp_path / run_dir.ADAPTER_CONFIG_FILE).write_text("{}")
    with pytest.raises(run_dir.RunDirError, match="base_model_name_or_path is not set"):
        run_dir.adapter_base(tmp_path)


def test_merging_a_folder_that_is_not_an_adapter_is_a_merge_error(tmp_path):
    from jsontune.models.merge import MergeError, merge_adapter

    with pytest.raises(MergeError, match="not a LoRA adapter folder"):
        merge_adapter(tmp_path, tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_training_figures_round_trip_and_a_folder_without_them_has_none(tmp_path):
    assert run_dir.read_train_results(tmp_path) is None and not run_dir.is_trained(tmp_path)
    run_dir.write_train_results(tmp_path / "run", {"train_loss": 0.5, "data_files": {"ü.jsonl": {}}})
    assert run_dir.read_train_results(tmp_path / "run") == {"train_loss": 0.5, "data_files": {"ü.jsonl": {}}}

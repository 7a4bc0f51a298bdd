"""Scale-out, proven with real multi-process runs on CPU: DDP, DeepSpeed ZeRO-2/3, QLoRA, kill-and-resume,
merge; FSDP, which accelerate runs only on GPUs, stops with its reason on CPU.

Every run trains the tiny 2-layer Llama (real SmolLM2 tokenizer) through `tests/launch_probe.py`, which is
jsontune's own `train` plus the trained in-memory model's logits on a fixed probe (saved before the
model is saved) and facts about the launch. Tolerances (fp32 throughout):
- a saved model or adapter reloaded vs the in-memory model: max |logit difference| <= 1e-5;
- DDP (2 processes x batch b) vs one process x batch 2b: losses within 1e-4, logits within 1e-3
  (the sum over two processes runs in another order: rounding only);
- kill-and-resume vs uninterrupted: losses within 1e-6, weights and logits within 1e-5;
- merged vs adapter model: logits within 1e-4.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests import REPO
from tests.training.launch_probe import LAUNCH_FILE, PROBE_FILE, PROBE_IDS, STALL_FILE

BIN = Path(sys.executable).parent
PROBE = REPO / "tests" / "training" / "launch_probe.py"

SAVED_TOLERANCE = 1e-5
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_LOG_LEVEL": "warning", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture
def run_recipe(make_recipe, tmp_path):
    """A recipe for the tiny model on 24 shipped synthetic records, 4 steps (a few examples per step)."""
    rows = (REPO / "data/synthetic/records.jsonl").read_text().splitlines()[:24]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(rows) + "\n")

    def make(use_peft: bool = True, **keys) -> Path:
        return make_recipe(use_peft=use_peft, jsontune={"data_files": [str(data)]}, **keys)

    return make


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO, env=ENV, **kwargs)


def launch(config: str | None, processes: int, recipe: Path, out: Path, *overrides: str) -> dict:
    """Train under `accelerate launch` (or plain python for config None); returns train_results.json."""
    if config is None:
        command = [sys.executable, str(PROBE)]
    else:
        command = [str(BIN / "accelerate"), "launch", "--config_file", str(REPO / "accelerate_configs" / config),
                   "--num_processes", str(processes), str(PROBE)]
    done = _run([*command, str(recipe), "--output_dir", str(out), *overrides])
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((out / "train_results.json").read_text())


def probe_logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(input_ids=torch.tensor(PROBE_IDS)).logits


def reloaded_logits(out: Path, base: Path) -> torch.Tensor:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    if (out / "adapter_config.json").is_file():
        return probe_logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), out))
    return probe_logits(AutoModelForCausalLM.from_pretrained(out))


def assert_saved_model_is_the_trained_one(out: Path, base: Path) -> None:
    in_memory = torch.load(out / PROBE_FILE)
    saved = reloaded_logits(out, base)
    assert (saved - in_memory).abs().max() <= SAVED_TOLERANCE
    from transformers import AutoModelForCausalLM

    untrained = probe_logits(AutoModelForCausalLM.from_pretrained(base))
    assert (saved - untrained).abs().max() > 1e-2  # training moved the model: an empty save would not match


def assert_nonempty_adapter(out: Path) -> None:
    weights = load_file(out / "adapter_model.safetensors")
    assert weights and all(t.numel() > 0 for t in weights.values())
    assert any(t.abs().max() > 0 for name, t in weights.items() if "lora_B" in name)  # B starts at zero


@pytest.mark.distributed
def test_ddp_two_processes_match_one_process_at_double_batch(run_recipe, tmp_path, tiny_model_dir):
    recipe = run_recipe(lora_dropout=0.0)  # dropout draws differ between processes
    two = launch("ddp.yaml", 2, recipe, tmp_path / "ddp", "--per_device_train_batch_size", "2")
    one = launch(None, 1, recipe, tmp_path / "one", "--per_device_train_batch_size", "4")
    facts = json.loads((tmp_path / "ddp" / LAUNCH_FILE).read_text())
    assert facts["num_processes"] == 2 and two["world_size"] == 2 and one["world_size"] == 1
    assert len(two["loss_history"]) == len(one["loss_history"]) == 4
    assert two["loss_history"] == pytest.approx(one["loss_history"], abs=1e-4)
    assert two["train_tokens"] == one["train_tokens"]  # the same examples
    logits_two, logits_one = torch.load(tmp_path / "ddp" / PROBE_FILE), torch.load(tmp_path / "one" / PROBE_FILE)
    assert (logits_two - logits_one).abs().max() <= 1e-3
    assert_saved_model_is_the_trained_one(tmp_path / "ddp", tiny_model_dir)


@pytest.mark.distributed
@pytest.mark.parametrize("config, stage", [("zero2.yaml", 2), ("zero3.yaml", 3)])
def test_deepspeed_lora_saves_the_adapter_it_trained(run_recipe, tmp_path, tiny_model_dir, config, stage):
    out = tmp_path / f"zero{stage}"
    launch(config, 2, run_recipe(), out)
    facts = json.loads((out / LAUNCH_FILE).read_text())
    assert (facts["distributed_type"], facts["zero_stage"], facts["num_processes"]) == ("DEEPSPEED", stage, 2)
    assert (facts["sharded_parameters"] > 0) == (stage == 3)
    assert_nonempty_adapter(out)
    assert_saved_model_is_the_trained_one(out, tiny_model_dir)


@pytest.mark.distributed
def test_zero3_complete_fine_tuning_saves_a_loadable_model(run_recipe, tmp_path, tiny_model_dir):
    out = tmp_path / "zero3-full"
    launch("zero3.yaml", 2, run_recipe(use_peft=False), out)
    assert json.loads((out / LAUNCH_FILE).read_text())["sharded_parameters"] > 0
    assert_saved_model_is_the_trained_one(out, tiny_model_dir)  # from_pretrained(out)


@pytest.mark.distributed
def test_fsdp_on_cpu_processes_stops_with_the_reason(run_recipe, tmp_path):
    """accelerate enables FSDP only on accelerator devices: on CPUs the config would silently run DDP."""
    from jsontune.training.launch_checks import FSDP_ON_CPU

    out = tmp_path / "fsdp"
    command = [str(BIN / "accelerate"), "launch", "--config_file", str(REPO / "accelerate_configs/fsdp.yaml"),
               "--num_processes", "2", str(REPO / "scripts/sft.py"), str(run_recipe()), "--output_dir", str(out)]
    done = _run(command)
    assert done.returncode != 0
    assert FSDP_ON_CPU in done.stderr
    assert not out.exists()  # stopped before a model loaded


@pytest.mark.slow
def test_qlora_trains_a_4bit_base_and_saves_a_loadable_adapter(run_recipe, tmp_path, tiny_model_dir):
    from jsontune.recipe import load_recipe
    from jsontune.training.train import build_trainer

    recipe = run_recipe(load_in_4bit=True, bnb_4bit_quant_type="nf4", use_bnb_nested_quant=True)
    trainer, _, _ = build_trainer(load_recipe(recipe))
    quantized = [m for m in trainer.model.modules() if type(m).__name__ == "Linear4bit"]
    assert quantized and all(m.weight.quant_state.quant_type == "nf4" for m in quantized)
    del trainer
    out = tmp_path / "qlora"
    results = launch(None, 1, recipe, out, "--max_steps", "3")
    assert results["global_steps"] == 3
    assert_nonempty_adapter(out)
    reloaded_logits(out, tiny_model_dir)  # loads on the unquantized base


def test_shipped_qlora_recipe_quantizes_to_nf4():
    from jsontune.recipe import load_recipe

    recipe = load_recipe(REPO / "recipes/qlora.yaml")
    assert recipe.model.use_peft and recipe.model.load_in_4bit and recipe.model.bnb_4bit_quant_type == "nf4"


@pytest.mark.distributed
def test_a_killed_run_resumes_to_where_an_uninterrupted_run_ends(run_recipe, tmp_path):
    """Two DDP processes, killed (SIGKILL, launcher and workers) after the second checkpoint, then relaunched."""
    recipe = run_recipe(save_strategy="steps", save_steps=2, save_total_limit=2, max_steps=8,
                        per_device_train_batch_size=2)
    whole = launch("ddp.yaml", 2, recipe, tmp_path / "whole")

    out = tmp_path / "killed"
    command = [str(BIN / "accelerate"), "launch", "--config_file", str(REPO / "accelerate_configs/ddp.yaml"),
               "--num_processes", "2", str(PROBE), str(recipe), "--output_dir", str(out)]
    process = subprocess.Popen(command, cwd=REPO, env={**ENV, "JSONTUNE_TEST_STALL_AT_STEP": "4"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stalled = [out / f"{STALL_FILE}-{rank}" for rank in range(2)]
    deadline = time.monotonic() + 300
    while not all(path.exists() and path.read_text() for path in stalled):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its second checkpoint"
        time.sleep(0.2)
    time.sleep(0.5)  # both ranks are past the checkpoint barrier and asleep
    os.killpg(process.pid, signal.SIGKILL)
    for path in stalled:  # the workers run in sessions of their own: kill them as a lost machine would
        os.kill(int(path.read_text()), signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert not (out / "train_results.json").exists()

    resumed = launch("ddp.yaml", 2, recipe, out)  # the same command again: resumes by itself
    assert resumed["resumed_from"] == str(out / "checkpoint-4")
    assert resumed["global_steps"] == whole["global_steps"] == 8
    assert resumed["loss_history"] == pytest.approx(whole["loss_history"], abs=1e-6)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-6", "checkpoint-8"]  # save_total_limit
    final_whole = load_file(tmp_path / "whole" / "adapter_model.safetensors")
    final_resumed = load_file(out / "adapter_model.safetensors")
    assert final_whole.keys() == final_resumed.keys()
    for name, tensor in final_whole.items():
        assert torch.allclose(tensor, final_resumed[name], atol=1e-5), name
    difference = torch.load(out / PROBE_FILE) - torch.load(tmp_path / "whole" / PROBE_FILE)
    assert difference.abs().max() <= 1e-5


def test_resume_passes_over_a_checkpoint_cut_short(tmp_path):
    from jsontune.training.checkpoints import last_complete_checkpoint, resume_point

    for step in (2, 4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (2, 4):
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (tmp_path / "checkpoint-6" / "trainer_state.json").write_text('{"global_st')  # killed mid-write
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert resume_point(tmp_path, None) == str(tmp_path / "checkpoint-4")
    assert resume_point(tmp_path, "false") is None
    assert resume_point(tmp_path / "empty", None) is None
    with pytest.raises(FileNotFoundError, match="not a complete checkpoint"):
        resume_point(tmp_path, str(tmp_path / "checkpoint-6"))
    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        resume_point(tmp_path / "empty", "last")


@pytest.mark.slow
def test_merge_gives_the_adapter_model_logits(run_recipe, tmp_path, tiny_model_dir):
    adapter = tmp_path / "adapter"
    launch(None, 1, run_recipe(), adapter, "--max_steps", "3")
    merged = tmp_path / "merged"
    done = _run([str(BIN / "jsontune"), "merge", str(adapter), str(merged)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (merged / "adapter_config.json").exists()
    assert {"model.safetensors", "tokenizer.json", "jsontune_prompt.json", "recipe.yaml"} <= {
        p.name for p in merged.iterdir()}
    from transformers import AutoModelForCausalLM

    assert ((probe_logits(AutoModelForCausalLM.from_pretrained(merged)) - reloaded_logits(adapter, tiny_model_dir))
            .abs().max() <= 1e-4)
    again = _run([str(BIN / "jsontune"), "merge", str(adapter), str(merged)])
    assert again.returncode == 2 and "exists" in again.stderr
    assert not list(tmp_path.glob(".merged.*"))  # no staging folder left behind

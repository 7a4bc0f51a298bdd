"""A test harness run as `[accelerate launch ...] tests/launch_probe.py RECIPE [--key value ...]`.

It trains through jsontune's own `train` and adds what the tests need to look inside the run:
- the trained in-memory model's logits on a fixed probe, computed by every rank (sharded models gather
  their weights collectively) and saved by rank 0 as OUTPUT_DIR/probe_logits.pt, before the model is saved;
- how the run was parallelised (OUTPUT_DIR/launch.json): accelerate's distributed type, the process
  count, the ZeRO stage, and how many parameters were sharded (FSDP2 DTensors, ZeRO-3 partitions);
- with JSONTUNE_TEST_STALL_AT_STEP=N, a stall before step N+1 (after checkpoint N is written): each process
  writes its pid to OUTPUT_DIR/stalled-RANK and sleeps, so a test can kill them all at a known point (the
  launcher cannot pass a SIGKILL on: torch's elastic agent starts the workers in sessions of their own).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

PROBE_IDS = [[1, 9690, 198, 4160, 253, 2773, 2645, 429, 260, 1695, 42, 2, 198, 1, 520, 9531, 198]]
PROBE_FILE = "probe_logits.pt"
LAUNCH_FILE = "launch.json"
STALL_FILE = "stalled"


class ProbeLogits(TrainerCallback):
    def on_train_end(self, args, state, control, model=None, **kwargs):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(PROBE_IDS, device=args.device)).logits.float().cpu()
        model.train(was_training)
        if state.is_world_process_zero:
            torch.save(logits, Path(args.output_dir) / PROBE_FILE)
            (Path(args.output_dir) / LAUNCH_FILE).write_text(json.dumps(launch_facts(model)))


def launch_facts(model) -> dict:
    from accelerate.state import AcceleratorState
    from torch.distributed.tensor import DTensor

    state = AcceleratorState()
    plugin = state.deepspeed_plugin
    return {"distributed_type": state.distributed_type.value, "num_processes": state.num_processes,
            "zero_stage": plugin.zero_stage if plugin is not None else None,
            "sharded_parameters": sum(isinstance(p, DTensor) or hasattr(p, "ds_id") for p in model.parameters())}


class StallAt(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            (Path(args.output_dir) / f"{STALL_FILE}-{args.process_index}").write_text(str(os.getpid()))
            time.sleep(600)


def main(argv: list[str]) -> None:
    from jsontune.recipe import load_recipe
    from jsontune.training.train import train

    recipe = load_recipe(argv[0], argv[1:])
    callbacks = [ProbeLogits()]
    if os.environ.get("JSONTUNE_TEST_STALL_AT_STEP"):
        callbacks.append(StallAt(int(os.environ["JSONTUNE_TEST_STALL_AT_STEP"])))
    train(recipe, callbacks=tuple(callbacks))


if __name__ == "__main__":
    main(sys.argv[1:])

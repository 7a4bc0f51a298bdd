"""Configurations that would fail late, or quietly train the wrong thing, stopped before a model loads.

- ZeRO-3 with LoRA and no 16-bit gather on save: every rank holds a shard, and the adapter is saved
  empty.
- A DeepSpeed config that fixes the global batch for another process count than the launch's: DeepSpeed
  stops with an assertion only after the model has loaded.
- More processes on a machine than it has GPUs: two ranks share a GPU (NCCL refuses, or it silently
  runs out of memory).
- FSDP on CPU processes: accelerate (1.x) enables its FSDP plugin only on accelerator devices, so an FSDP
  config launched on CPUs would silently train as plain DDP (torch's FSDP2 itself runs on gloo; the
  Trainer never reaches it).
- Wrapped packing: rows are cut and glued with positions running across them, so attention and the
  loss cross example boundaries (bfd packing and padding_free keep per-sample positions).
- With padding_free, a row longer than max_length: TRL truncates only padded rows, so jsontune holds
  padding-free rows to max_length itself.
- A row longer than the model's context (its position embeddings): it would fail, or be cut, mid-run.
- A padded row whose prompt alone fills max_length: TRL's truncation leaves it no answer token and TRL
  then drops it without a word ("Dropping fully masked examples"), so the run would train on less data.
- Training rows whose labels do not end with the stop token (a collator that masks pad ids when pad
  is EOS, or truncation at max_length): the model never learns to stop. Checked on the prepared data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jsontune.data.contract import location
from jsontune.errors import JsontuneError
from jsontune.recipe import Recipe

# How many rows a message names before it counts the rest.
MAX_NAMED_ROWS = 10


class LaunchError(JsontuneError):
    """The recipe and the launch disagree, or would train something other than intended."""


def deepspeed_config(recipe: Recipe) -> tuple[dict[str, Any] | None, str]:
    """The DeepSpeed config of this run (the recipe's `deepspeed` key, else the accelerate launch's), with where
    it came from; (None, "") when the run does not use DeepSpeed."""
    source = recipe.training.deepspeed
    where = f"{recipe.path}: deepspeed"
    if source is None and os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true":
        source = os.environ.get("ACCELERATE_DEEPSPEED_CONFIG_FILE")
        where = f"the accelerate config's deepspeed_config_file ({source})"
        if source is None:  # the stage set in the accelerate config itself, without a DeepSpeed file
            stage = os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE")
            gather = os.environ.get("ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL", "false") == "true"
            config = {"zero_optimization": {"stage": int(stage) if stage else 0,
                                            "stage3_gather_16bit_weights_on_model_save": gather}}
            return config, "the accelerate config's deepspeed_config"
    if source is None:
        return None, ""
    if isinstance(source, dict):
        return source, where
    try:
        return json.loads(Path(source).read_text()), where
    except (OSError, ValueError) as err:
        raise LaunchError(f"{where}: cannot read the DeepSpeed config: {err}") from err


def check_deepspeed(recipe: Recipe, world_size: int) -> None:
    config, where = deepspeed_config(recipe)
    if config is None:
        return
    zero = config.get("zero_optimization") or {}
    if zero.get("stage") == 3 and recipe.model.use_peft and not zero.get("stage3_gather_16bit_weights_on_model_save"):
        raise LaunchError(f"{where}: ZeRO-3 with LoRA needs \"stage3_gather_16bit_weights_on_model_save\": true in "
                          "zero_optimization; without it every process holds a shard and the adapter is saved "
                          "empty (accelerate_configs/deepspeed/zero3.json sets it)")
    total = config.get("train_batch_size")
    if isinstance(total, int):
        micro = recipe.training.per_device_train_batch_size
        steps = recipe.training.gradient_accumulation_steps
        if total != micro * steps * world_size:
            raise LaunchError(f"{where}: train_batch_size {total} is for another process count: this launch has "
                              f"{world_size} process(es) x per_device_train_batch_size {micro} x "
                              f"gradient_accumulation_steps {steps} = {micro * steps * world_size}; set it to "
                              "\"auto\" (the recipe decides)")


def check_processes_per_machine(use_cpu: bool) -> None:
    import torch

    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if use_cpu or not torch.cuda.is_available() or local <= 1:
        return
    gpus = torch.cuda.device_count()
    if local > gpus:
        raise LaunchError(f"the launch starts {local} processes on this machine but it has {gpus} GPU(s): set "
                          f"--num_processes to the number of GPUs (times --num_machines on a cluster)")


FSDP_ON_CPU = ("FSDP needs GPUs here: accelerate enables its FSDP plugin only on accelerator devices, so on CPU "
               "processes this launch would silently train as plain DDP, unsharded. On CPUs use "
               "accelerate_configs/zero3.yaml (DeepSpeed ZeRO-3 shards on CPU) or ddp.yaml")


def check_fsdp_device(use_cpu: bool) -> None:
    import torch

    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and (use_cpu or not torch.cuda.is_available()):
        raise LaunchError(FSDP_ON_CPU)


def check_packing(recipe: Recipe) -> None:
    training = recipe.training
    if training.packing and training.packing_strategy == "wrapped":
        raise LaunchError(f"{recipe.path}: packing_strategy 'wrapped' cuts rows and runs positions across them, so "
                          "attention and the loss cross example boundaries; use packing_strategy 'bfd' (per-sample "
                          "positions) or padding_free: true")


def check_launch(recipe: Recipe) -> None:
    """Every check that needs only the recipe and the launch environment (run before a model loads)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    check_deepspeed(recipe, world_size)
    check_processes_per_machine(recipe.training.use_cpu)
    check_fsdp_device(recipe.training.use_cpu)
    check_packing(recipe)


def _named(indices: list[int], records: list[dict] | None) -> str:
    """The rows at these indices, by file:line when their records are given, else by index."""
    shown = indices[:MAX_NAMED_ROWS]
    names = ", ".join(location(records[i]) for i in shown) if records is not None else \
        "rows " + ", ".join(str(i) for i in shown)
    return names + (f" and {len(indices) - MAX_NAMED_ROWS} more" if len(indices) > MAX_NAMED_ROWS else "")


def _too_long(dataset, limit: int, name: str, records: list[dict] | None) -> str | None:
    """'N of M <name> rows (which; the longest has T tokens) are longer than' when some prepared row of `dataset`
    has more than `limit` tokens, else None."""
    lengths = [len(ids) for ids in dataset["input_ids"]]
    long = [i for i, length in enumerate(lengths) if length > limit]
    if not long:
        return None
    return (f"{len(long)} of {len(lengths)} {name} rows ({_named(long, records)}; the longest has {max(lengths)} "
            "tokens) are longer than")


def check_row_lengths(dataset, max_length: int, name: str, records: list[dict] | None = None) -> None:
    """No prepared row of `dataset` is longer than max_length tokens (rows named by `records`' file:line)."""
    if (found := _too_long(dataset, max_length, name, records)) is not None:
        raise LaunchError(f"{found} max_length {max_length}: padding-free rows are not truncated, since that would "
                          "cut off their stop token. Raise max_length, or shorten the data")


def check_rows_fit_context(dataset, context: int | None, name: str, records: list[dict] | None = None) -> None:
    """No prepared row is longer than the model's context (None: the model states none; unchecked)."""
    if context is not None and (found := _too_long(dataset, context, name, records)) is not None:
        raise LaunchError(f"{found} the model's context of {context} tokens: shorten them, or leave them out of "
                          "the data")


def check_answers_survive_truncation(dataset, max_length: int, name: str, records: list[dict] | None = None) -> None:
    """No prepared row keeps none of its answer within max_length tokens (which TRL would drop silently)."""
    lost = [i for i, mask in enumerate(dataset["completion_mask"]) if not any(mask[:max_length])]
    if lost:
        raise LaunchError(f"{len(lost)} of {len(dataset)} {name} rows ({_named(lost, records)}) have prompts of "
                          f"max_length {max_length} tokens or more: truncation would leave them no answer and TRL "
                          "would drop them without a word. Raise max_length, or shorten the prompts (the schema "
                          "in the prompt counts: see schema_format)")


def check_labels_end_with_stop(dataset, collator, stop_id: int, stop_text: str, chunk: int = 64,
                               records: list[dict] | None = None) -> None:
    """Every prepared training row, once collated, has a label on its stop token as its last label (rows named
    by `records`' file:line)."""
    bad: list[int] = []
    for start in range(0, len(dataset), chunk):
        rows = dataset[start:start + chunk]
        if isinstance(rows, dict):  # a datasets.Dataset slice is by column
            rows = [dict(zip(rows, values)) for values in zip(*rows.values())]
        labels = collator(rows)["labels"]
        if labels.dim() == 2 and labels.shape[0] == 1 and len(rows) > 1:  # padding-free: one packed row
            ends = _packed_ends(rows, labels[0])
        else:
            ends = [_last_label(row) for row in labels]
        bad += [start + i for i, end in enumerate(ends) if end != stop_id]
    if bad:
        raise LaunchError(f"{len(bad)} of {len(dataset)} training rows ({_named(bad, records)}) do not end their "
                          f"labels with the stop token {stop_text!r}: the model would never learn to stop. Causes: a "
                          "row longer than max_length (raise it, or shorten the data), or a collator that masks pad "
                          "ids while pad is EOS")


def _last_label(labels) -> int:
    kept = labels[labels != -100]
    return int(kept[-1]) if len(kept) else -100


def _packed_ends(rows: list[dict], labels) -> list[int]:
    ends, offset = [], 0
    for row in rows:
        offset += len(row["input_ids"])
        ends.append(_last_label(labels[:offset][-len(row["input_ids"]):]))
    return ends

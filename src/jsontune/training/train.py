"""Supervised fine-tuning (complete or LoRA) of a recipe with TRL's SFTTrainer: the training flow, top to bottom.

    recipe -> launch checks -> data splits -> tokenised rows -> trainer -> train (resuming) -> run folder

The same `train` runs in one process (`python scripts/sft.py`, `jsontune train`, the experiment) and
under `accelerate launch` with DDP or DeepSpeed: the trainer picks the launch up from the environment.
The run folder gets the model and tokenizer, the resolved recipe, the prompt settings and the training
figures (`jsontune.run_dir`); with push_to_hub, rank 0 pushes it once, at the end.
"""

from __future__ import annotations

import copy
import logging
import math
import random
from pathlib import Path
from typing import Any

from accelerate import PartialState
from datasets import Dataset
from transformers import EarlyStoppingCallback
from trl import get_peft_config, get_quantization_config

from jsontune import run_dir
from jsontune.data.prompting import PromptConfig, end_of_turn_id, tokenize_example
from jsontune.data.splits import Splits
from jsontune.errors import JsontuneError
from jsontune.memory import peak_memory_mb, reset_peak_memory
from jsontune.models.base_model import resolve_model_name
from jsontune.models.bnb_hub_kernel import explain_4bit_kernel
from jsontune.models.hub import check_repo_id, hub_token, push_run
from jsontune.models.loading import ModelSource, check_hub_reachable, is_hub_id, load_tokenizer
from jsontune.recipe import Recipe
from jsontune.training.allocator import keep_freed_memory
from jsontune.training.callbacks import GenerationMetricsCallback
from jsontune.training.checkpoints import resume_point, tokens_seen_at
from jsontune.training.launch_checks import (
    check_answers_survive_truncation,
    check_labels_end_with_stop,
    check_launch,
    check_row_lengths,
    check_rows_fit_context,
)
from jsontune.training.lora_layers import fast_lora_layers
from jsontune.training.packed_attention import training_attention
from jsontune.training.time_budget import TimeBudgetCallback
from jsontune.training.trainer import JsontuneTrainer

logger = logging.getLogger(__name__)


def train(recipe: Recipe, callbacks: tuple = (), overwrite: bool = False) -> dict[str, Any]:
    """Fine-tune as the recipe says; save the model, tokenizer, resolved recipe, prompt settings and figures.

    Resumes from the last complete checkpoint in output_dir (`jsontune.training.checkpoints`). An output_dir
    that holds a finished training is refused unless `overwrite`, and then emptied before training
    (`jsontune.run_dir.check_training_folder`). With push_to_hub, the token is checked before training and
    the run is pushed at the end (`jsontune.models.hub`), once, from rank 0.
    """
    training_args = recipe.training
    run_dir.check_training_folder(training_args.output_dir, overwrite)
    check_launch(recipe)
    hub_repo, token = None, None
    if training_args.push_to_hub:
        hub_repo, token = check_repo_id(training_args.hub_model_id), hub_token()

    if overwrite:
        empty_finished_run(training_args.output_dir)
    trainer, prompt_config, splits = build_trainer(recipe)
    budget = TimeBudgetCallback(recipe.jsontune.max_train_seconds) if recipe.jsontune.max_train_seconds else None
    for callback in (*callbacks, budget):
        if callback is not None:
            trainer.add_callback(callback)
    trainable, total = parameter_counts(trainer.model)
    reset_peak_memory()
    checkpoint = resume_point(training_args.output_dir, training_args.resume_from_checkpoint)
    tokens_before = tokens_seen_at(checkpoint)  # now: save_total_limit may delete that checkpoint
    result = trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(training_args.output_dir)

    peak_mb, peak_kind = peak_memory_mb()
    metrics = dict(result.metrics)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tokens = trainer.state.num_input_tokens_seen or 0
    tokens_this_run = tokens - tokens_before  # train_runtime counts this run only
    figures = {
        "train_loss": result.training_loss,
        "final_loss": losses[-1] if losses else None,
        "loss_history": losses,
        "global_steps": result.global_step,
        "train_runtime_s": metrics.get("train_runtime"),
        "train_examples": len(trainer.train_dataset),
        "train_samples_per_second": metrics.get("train_samples_per_second"),
        "train_tokens": tokens,
        "train_tokens_per_second": tokens_this_run / metrics["train_runtime"] if metrics.get("train_runtime") else None,
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "world_size": training_args.world_size,
        "resumed_from": checkpoint,
        "max_train_seconds": recipe.jsontune.max_train_seconds,
        "stopped_by_time_budget": budget is not None and budget.stopped_at_step is not None,
        "data_files": splits.files,
        "test_ids": [r["id"] for r in splits.test],
    }
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        recipe.save(out)
        prompt_config.save(out)
        run_dir.write_train_results(out, figures)
        logger.info("saved %s model to %s", "LoRA" if recipe.model.use_peft else "complete", out)
        if hub_repo:
            push_run(out, hub_repo, private=bool(training_args.hub_private_repo), token=token)
    return figures


def empty_finished_run(output_dir: str | Path) -> None:
    """Remove a finished run from output_dir (`run_dir.clear_training`), once: rank 0 does it, the others wait."""
    with PartialState().main_process_first():
        if PartialState().is_main_process:
            run_dir.clear_training(output_dir)


def build_trainer(recipe: Recipe, splits: Splits | None = None) -> tuple[JsontuneTrainer, PromptConfig, Splits]:
    """The trainer of a recipe, with its prompt settings and data splits (the recipe's, unless given)."""
    training_args, model_args = recipe.training, recipe.model
    model_path = resolve_model_name(model_args.model_name_or_path)
    if is_hub_id(model_path) and not Path(model_path).exists():
        check_hub_reachable(model_path)
    tokenizer = load_tokenizer(model_path, model_args.model_revision)
    if training_args.chat_template_path:  # before tokenising, so that training, dev metrics and the saved
        # tokenizer all use it (TRL sets the same template again, which changes nothing)
        tokenizer.chat_template = Path(training_args.chat_template_path).read_text(encoding="utf-8")
    prompt_config = recipe.prompt_config(tokenizer)
    splits = splits or recipe.splits()
    train_records, dev_records = hold_out_dev(splits.train, recipe.jsontune.dev_rows, recipe.jsontune.split_seed)
    if not train_records:
        raise JsontuneError(f"{recipe.path}: the training split is empty ({len(splits.test)} test record(s), "
                            f"{len(dev_records)} dev): give more data, or a smaller test_fraction")
    train_dataset = build_dataset(train_records, tokenizer, prompt_config)
    eval_dataset = build_dataset(dev_records, tokenizer, prompt_config) if dev_records else None
    context = ModelSource(model_path).context_length()
    for name, dataset, records in (("training", train_dataset, train_records), ("dev", eval_dataset, dev_records)):
        if dataset is not None:
            check_rows_fit_context(dataset, context, name, records)

    # Padding-free: TRL refuses max_length (it truncates padded rows only), so jsontune holds rows to it here, and
    # each packed sequence attends to itself alone (jsontune.training.packed_attention) unless the recipe names a
    # kernel.
    padding_free = training_args.padding_free and not training_args.packing
    if training_args.max_length is not None:
        check = check_row_lengths if padding_free else check_answers_survive_truncation
        for name, dataset, records in (("training", train_dataset, train_records),
                                       ("dev", eval_dataset, dev_records)):
            if dataset is not None:
                check(dataset, training_args.max_length, name, records)
    attention = training_attention(model_args.attn_implementation, training_args.padding_free)
    keep_freed_memory()  # before the model loads: every step reuses its activations' pages
    trainer = JsontuneTrainer(
        length_bucket_window=recipe.jsontune.length_bucket_window,
        model=model_path,
        args=trainer_arguments(recipe, len(train_dataset), attention, padding_free),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),
    )
    if model_args.load_in_4bit:
        explain_4bit_kernel()
    # PEFT's function in fewer passes; on CPU the dropout's mask from raw random bits (jsontune.training.lora_layers)
    fast_lora_layers(trainer.model, cpu_dropout=trainer.args.device.type == "cpu")
    stop_id = end_of_turn_id(tokenizer)
    check_labels_end_with_stop(trainer.train_dataset, trainer.data_collator, stop_id, tokenizer.decode([stop_id]),
                               records=train_records)
    if dev_records:
        callback = GenerationMetricsCallback(dev_records, tokenizer, prompt_config,
                                             recipe.jsontune.eval_max_new_tokens, recipe.jsontune.eval_batch_size)
        callback.trainer = trainer
        trainer.add_callback(callback)  # before early stopping, which reads the metrics it adds
    if recipe.jsontune.early_stopping_patience is not None:
        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=recipe.jsontune.early_stopping_patience))
    return trainer, prompt_config, splits


def build_dataset(records: list[dict], tokenizer, config: PromptConfig) -> Dataset:
    """Pre-tokenised rows: TRL builds labels from `completion_mask` (positions, not pad ids, so EOS stays)."""
    return Dataset.from_list([tokenize_example(tokenizer, record, config) for record in records])


def trainer_arguments(recipe: Recipe, rows: int, attention: str | None, padding_free: bool):
    """A copy of the recipe's training arguments as the Trainer must see them; the recipe, saved with the run,
    keeps what was asked.

    The copy loads the model with the recipe's dtype, revision and attention; drops max_length for padding-free
    batches (TRL refuses it there; jsontune checked the rows against it instead); never pushes (the Trainer
    would push every checkpoint and its own card: jsontune pushes once, at the end); and trains for at least
    jsontune.min_train_steps optimizer steps (`with_step_floor`).
    """
    model_args = recipe.model
    args = copy.copy(recipe.training)
    args.model_init_kwargs = {
        **(args.model_init_kwargs or {}),
        "dtype": model_args.dtype,
        "revision": model_args.model_revision,
        **({"attn_implementation": attention} if attention else {}),
    }
    if padding_free:
        args.max_length = None
    args.push_to_hub = False
    return with_step_floor(args, rows, recipe.jsontune.min_train_steps)


def optimizer_steps_per_epoch(rows: int, training_args) -> int:
    """Optimizer steps of one epoch over `rows` rows, on every process at once."""
    batches = math.ceil(rows / (training_args.per_device_train_batch_size * training_args.world_size))
    return math.ceil(batches / training_args.gradient_accumulation_steps)


def with_step_floor(training_args, rows: int, min_steps: int):
    """The training arguments, or a copy whose max_steps gives at least `min_steps` optimizer steps.

    A copy, so that the recipe saved with the run still says what was asked (its epochs), not the floor.
    """
    if min_steps <= 0 or training_args.max_steps > 0:
        return training_args
    steps = math.ceil(training_args.num_train_epochs * optimizer_steps_per_epoch(rows, training_args))
    if steps >= min_steps:
        return training_args
    logger.info("%s epochs over %d rows are %d optimizer steps: training for jsontune.min_train_steps = %d",
                training_args.num_train_epochs, rows, steps, min_steps)
    floored = copy.copy(training_args)
    floored.max_steps = min_steps
    return floored


def hold_out_dev(records: list[dict], dev_rows: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, dev): a seeded sample of dev_rows records held out of the training records."""
    if dev_rows <= 0:
        return records, []
    if dev_rows >= len(records):
        raise JsontuneError(f"jsontune.dev_rows ({dev_rows}) must be below the training rows ({len(records)})")
    chosen = set(random.Random(seed).sample(range(len(records)), dev_rows))
    return ([r for i, r in enumerate(records) if i not in chosen], [r for i, r in enumerate(records) if i in chosen])


def parameter_counts(model) -> tuple[int, int]:
    """(trainable, total) parameters: a LoRA run trains its adapter's few, complete fine-tuning all of them."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())

"""Supervised fine-tuning (complete or LoRA) of a recipe with TRL's SFTTrainer.

The same `train` runs in one process (`python scripts/sft.py`, `jsontune train`, the experiment) and
under `accelerate launch` with DDP or DeepSpeed: the trainer picks the launch up from the environment.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import AutoTokenizer, EarlyStoppingCallback
from trl import SFTTrainer, get_peft_config, get_quantization_config

from jsontune.base_model import resolve_model_name
from jsontune.callbacks import GenerationMetricsCallback
from jsontune.checkpoints import resume_point, tokens_seen_at
from jsontune.compact_loss import compact_causal_lm_loss
from jsontune.data import Splits, load_splits
from jsontune.evaluation import TRAIN_RESULTS_FILE
from jsontune.hub import check_repo_id, hub_token, push_run
from jsontune.launch_checks import check_labels_end_with_stop, check_launch, check_row_lengths
from jsontune.memory import peak_memory_mb, reset_peak_memory
from jsontune.packed_attention import training_attention
from jsontune.prompting import PromptConfig, choose_prompt_config, end_of_turn_id, tokenize_example
from jsontune.recipe import Recipe
from jsontune.sampling import LengthBucketSampler
from jsontune.snips_split import parse_per_intent, snips_splits

logger = logging.getLogger(__name__)

def load_recipe_splits(recipe: Recipe) -> Splits:
    args = recipe.jsontune
    if args.snips_per_intent is not None:
        return snips_splits(args.data_files, parse_per_intent(args.snips_per_intent), args.split_seed,
                            args.snips_test_per_intent, args.snips_dev_per_intent, args.snips_augment)
    return load_splits(args.data_files, args.test_fraction, args.split_seed, args.max_train_rows_per_file,
                       args.max_test_rows_per_file, args.on_bad_rows)


def load_tokenizer(model_path: str, revision: str = "main"):
    tokenizer = AutoTokenizer.from_pretrained(model_path, revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def prompt_config_for(recipe: Recipe, tokenizer) -> PromptConfig:
    args = recipe.jsontune
    return choose_prompt_config(tokenizer, args.prompt_format, args.system_prompt, args.schema_in_prompt)


def build_dataset(records: list[dict], tokenizer, config: PromptConfig) -> Dataset:
    """Pre-tokenised rows: TRL builds labels from `completion_mask` (positions, not pad ids, so EOS stays)."""
    return Dataset.from_list([tokenize_example(tokenizer, record, config) for record in records])


class JsontuneTrainer(SFTTrainer):
    """SFTTrainer with length-bucketed batches (`jsontune.sampling`) and, on CPU, the loss computed only at
    labelled positions (`jsontune.compact_loss`)."""

    def __init__(self, *args, length_bucket_window: int = 0, **kwargs):
        self.length_bucket_window = length_bucket_window
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.length_bucket_window <= 0 or not isinstance(dataset, Dataset):
            return super()._get_train_sampler(train_dataset)
        lengths = [len(ids) for ids in dataset["input_ids"]]
        # Buckets of the global batch: accelerate deals consecutive per-device batches to the processes, so
        # N processes at batch b see the batches one process at batch N*b would.
        global_batch = self._train_batch_size * self.args.world_size
        return LengthBucketSampler(lengths, global_batch, self.length_bucket_window, self.args.seed)

    def _compact_loss_applies(self) -> bool:
        # TRL's own path on accelerators (its Triton head is compact already) and for the losses it alone has.
        return (self.args.device.type == "cpu" and self.args.loss_type == "nll" and self.label_smoother is None
                and self.compute_loss_func is None and not self.aux_loss_enabled)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if return_outputs or not self._compact_loss_applies():
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        mode = "train" if self.model.training else "eval"
        loss, sums = compact_causal_lm_loss(model, inputs, num_items_in_batch)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes  # as TRL: DDP averages gradients over the processes
        # TRL's metrics: entropy and top-1 accuracy over labelled tokens, and the tokens seen, over all processes.
        local = torch.stack([sums["entropy"], sums["correct"].float(), sums["tokens"].float(),
                             torch.tensor(float(_batch_tokens(inputs)))])
        # gather, not gather_for_metrics: in evaluation that one trims the last batch's rows to the dataset's end.
        entropy, correct, labelled, tokens = self.accelerator.gather(local).view(-1, 4).sum(0).tolist()
        self._metrics[mode]["entropy"].append(entropy / labelled if labelled else 0.0)
        self._metrics[mode]["mean_token_accuracy"].append(correct / labelled if labelled else 0.0)
        if mode == "train":
            self._total_train_tokens += int(tokens)
        self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
        return loss


def _batch_tokens(inputs: dict) -> int:
    """Tokens of a batch without padding: padded batches carry an attention mask, padding-free ones do not."""
    if "attention_mask" in inputs:
        return int(inputs["attention_mask"].sum())
    return inputs["input_ids"].numel()


def build_trainer(recipe: Recipe, splits: Splits | None = None) -> tuple[SFTTrainer, PromptConfig, Splits]:
    """The SFTTrainer of a recipe, with its prompt settings and data splits (the recipe's, unless given)."""
    training_args, model_args = recipe.training, recipe.model
    model_path = resolve_model_name(model_args.model_name_or_path)
    tokenizer = load_tokenizer(model_path, model_args.model_revision)
    prompt_config = prompt_config_for(recipe, tokenizer)
    splits = splits or load_recipe_splits(recipe)
    train_records, dev_records = hold_out_dev(splits.train, recipe.jsontune.dev_rows, recipe.jsontune.split_seed)
    if not train_records:
        raise ValueError(f"{recipe.path}: the training split is empty")
    train_dataset = build_dataset(train_records, tokenizer, prompt_config)
    eval_dataset = build_dataset(dev_records, tokenizer, prompt_config) if dev_records else None

    # Padding-free: TRL refuses max_length (it truncates padded rows only), so jsontune holds rows to it here, and
    # each packed sequence attends to itself alone (jsontune.packed_attention) unless the recipe names a kernel.
    max_length = training_args.max_length
    padding_free = training_args.padding_free and not training_args.packing
    if padding_free and max_length is not None:
        for name, dataset in (("training", train_dataset), ("dev", eval_dataset)):
            if dataset is not None:
                check_row_lengths(dataset, max_length, name)
    attention = training_attention(model_args.attn_implementation, training_args.padding_free)
    training_args.model_init_kwargs = {
        **(training_args.model_init_kwargs or {}),
        "dtype": model_args.dtype,
        "revision": model_args.model_revision,
        **({"attn_implementation": attention} if attention else {}),
    }
    if padding_free:
        training_args.max_length = None
    try:
        trainer = JsontuneTrainer(
            length_bucket_window=recipe.jsontune.length_bucket_window,
            model=model_path,
            args=with_step_floor(training_args, len(train_dataset), recipe.jsontune.min_train_steps),
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=tokenizer,
            peft_config=get_peft_config(model_args),
            quantization_config=get_quantization_config(model_args),
        )
    finally:
        training_args.max_length = max_length  # the recipe, as saved with the run, keeps it
    stop_id = end_of_turn_id(tokenizer)
    check_labels_end_with_stop(trainer.train_dataset, trainer.data_collator, stop_id, tokenizer.decode([stop_id]))
    if dev_records:
        callback = GenerationMetricsCallback(dev_records, tokenizer, prompt_config,
                                             recipe.jsontune.eval_max_new_tokens, recipe.jsontune.eval_batch_size)
        callback.trainer = trainer
        trainer.add_callback(callback)  # before early stopping, which reads the metrics it adds
    if recipe.jsontune.early_stopping_patience is not None:
        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=recipe.jsontune.early_stopping_patience))
    return trainer, prompt_config, splits


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
        raise ValueError(f"jsontune.dev_rows ({dev_rows}) must be below the training rows ({len(records)})")
    chosen = set(random.Random(seed).sample(range(len(records)), dev_rows))
    return ([r for i, r in enumerate(records) if i not in chosen], [r for i, r in enumerate(records) if i in chosen])


def train(recipe: Recipe, callbacks: tuple = ()) -> dict[str, Any]:
    """Fine-tune as the recipe says; save the model, tokenizer, resolved recipe, prompt settings and figures.

    Resumes from the last complete checkpoint in output_dir (jsontune.checkpoints). With push_to_hub, the
    token is checked before training and the run is pushed at the end (jsontune.hub), once, from rank 0.
    """
    training_args, model_args = recipe.training, recipe.model
    check_launch(recipe)
    hub_repo, token = None, None
    if training_args.push_to_hub:
        hub_repo, token = check_repo_id(training_args.hub_model_id), hub_token()
    # The Trainer would push every checkpoint and its own card; jsontune pushes once, at the end. The recipe
    # keeps push_to_hub (it is saved with the run), so the flag is off only while the Trainer runs.
    training_args.push_to_hub = False
    try:
        trainer, prompt_config, splits = build_trainer(recipe)
        for callback in callbacks:
            trainer.add_callback(callback)
        train_dataset = trainer.train_dataset
        trainable, total = _parameter_counts(trainer.model)
        reset_peak_memory()
        checkpoint = resume_point(training_args.output_dir, training_args.resume_from_checkpoint)
        tokens_before = tokens_seen_at(checkpoint)  # now: save_total_limit may delete that checkpoint
        result = trainer.train(resume_from_checkpoint=checkpoint)
        trainer.save_model(training_args.output_dir)
    finally:
        training_args.push_to_hub = hub_repo is not None

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
        "train_examples": len(train_dataset),
        "train_samples_per_second": metrics.get("train_samples_per_second"),
        "train_tokens": tokens,
        "train_tokens_per_second": tokens_this_run / metrics["train_runtime"] if metrics.get("train_runtime") else None,
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "world_size": training_args.world_size,
        "resumed_from": checkpoint,
        "data_files": splits.files,
        "test_ids": [r["id"] for r in splits.test],
    }
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        recipe.save(out)
        prompt_config.save(out)
        (out / TRAIN_RESULTS_FILE).write_text(json.dumps(figures, indent=2) + "\n")
        logger.info("saved %s model to %s", "LoRA" if model_args.use_peft else "complete", out)
        if hub_repo:
            push_run(out, hub_repo, private=bool(training_args.hub_private_repo), token=token)
    return figures


def _parameter_counts(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())

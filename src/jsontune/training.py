"""Supervised fine-tuning (complete or LoRA) of a recipe with TRL's SFTTrainer.

The same `train` runs in one process (`python scripts/sft.py`, `jsontune train`, the experiment) and
under `accelerate launch` with DDP or DeepSpeed: the trainer picks the launch up from the environment.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import AutoTokenizer
from trl import SFTTrainer, get_peft_config, get_quantization_config

from jsontune.base_model import resolve_model_name
from jsontune.data import Splits, load_splits
from jsontune.prompting import PromptConfig, choose_prompt_config, tokenize_example
from jsontune.recipe import Recipe
from jsontune.sampling import LengthBucketSampler

logger = logging.getLogger(__name__)

TRAIN_RESULTS_FILE = "train_results.json"


def load_recipe_splits(recipe: Recipe) -> Splits:
    args = recipe.jsontune
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


def peak_memory_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    # ru_maxrss is in KiB on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


class JsontuneTrainer(SFTTrainer):
    """SFTTrainer with length-bucketed batches (see `jsontune.sampling`)."""

    def __init__(self, *args, length_bucket_window: int = 0, **kwargs):
        self.length_bucket_window = length_bucket_window
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.length_bucket_window <= 0 or not isinstance(dataset, Dataset):
            return super()._get_train_sampler(train_dataset)
        lengths = [len(ids) for ids in dataset["input_ids"]]
        return LengthBucketSampler(lengths, self._train_batch_size, self.length_bucket_window, self.args.seed)


def build_trainer(recipe: Recipe) -> tuple[SFTTrainer, PromptConfig, Splits]:
    """The SFTTrainer of a recipe, with its prompt settings and data splits."""
    training_args, model_args = recipe.training, recipe.model
    model_path = resolve_model_name(model_args.model_name_or_path)
    tokenizer = load_tokenizer(model_path, model_args.model_revision)
    prompt_config = prompt_config_for(recipe, tokenizer)
    splits = load_recipe_splits(recipe)
    if not splits.train:
        raise ValueError(f"{recipe.path}: the training split is empty")
    train_dataset = build_dataset(splits.train, tokenizer, prompt_config)

    training_args.model_init_kwargs = {
        **(training_args.model_init_kwargs or {}),
        "dtype": model_args.dtype,
        "revision": model_args.model_revision,
        **({"attn_implementation": model_args.attn_implementation} if model_args.attn_implementation else {}),
    }
    trainer = JsontuneTrainer(
        length_bucket_window=recipe.jsontune.length_bucket_window,
        model=model_path,
        args=training_args,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),
    )
    return trainer, prompt_config, splits


def train(recipe: Recipe) -> dict[str, Any]:
    """Fine-tune as the recipe says; save the model, tokenizer, resolved recipe, prompt settings and figures."""
    training_args, model_args = recipe.training, recipe.model
    trainer, prompt_config, splits = build_trainer(recipe)
    train_dataset = trainer.train_dataset
    trainable, total = _parameter_counts(trainer.model)
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)

    metrics = dict(result.metrics)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tokens = trainer.state.num_input_tokens_seen or 0
    figures = {
        "train_loss": result.training_loss,
        "final_loss": losses[-1] if losses else None,
        "loss_history": losses,
        "global_steps": result.global_step,
        "train_runtime_s": metrics.get("train_runtime"),
        "train_examples": len(train_dataset),
        "train_samples_per_second": metrics.get("train_samples_per_second"),
        "train_tokens": tokens,
        "train_tokens_per_second": tokens / metrics["train_runtime"] if metrics.get("train_runtime") else None,
        "peak_memory_mb": peak_memory_mb(),
        "peak_memory_kind": "cuda_max_allocated" if torch.cuda.is_available() else "process_max_rss",
        "trainable_parameters": trainable,
        "total_parameters": total,
        "world_size": training_args.world_size,
        "data_files": splits.files,
        "test_ids": [r["id"] for r in splits.test],
    }
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        recipe.save(out)
        prompt_config.save(out)
        (out / TRAIN_RESULTS_FILE).write_text(json.dumps(figures, indent=2) + "\n")
        logger.info("saved %s model to %s", "LoRA" if model_args.use_peft else "complete", out)
    return figures


def _parameter_counts(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())

"""Reinforcement after supervised fine-tuning: TRL's GRPOTrainer with JSON rewards, from a jsontune run folder.

    recipe (GRPOConfig) -> the SFT run's model and prompt settings -> the recipe's data split ->
    prompts rendered as in SFT -> GRPOTrainer with the recipe's rewards -> a run folder like SFT's

`model_name_or_path` is a run folder: a LoRA adapter is trained further (the same adapter, on its base); a
complete model as a whole, or under a fresh adapter with `use_peft: true`. The prompts are rendered with the
run's saved prompt settings, so the model is asked exactly as it was trained; the rows carry their reference
and schema as JSON text for the rewards (`jsontune.training.rewards`, named with their weights in the recipe:
`jsontune.rewards`, `reward_weights`).
The output folder holds what SFT's does (model, tokenizer, prompt settings, recipe, figures), so eval, merge,
push and serve take it, plus `rewards.png`: the mean of each reward per logged step.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from jsontune import run_dir
from jsontune.data.prompting import end_of_turn_id, render_prompt
from jsontune.errors import JsontuneError
from jsontune.memory import peak_memory_mb, reset_peak_memory
from jsontune.models.loading import model_source
from jsontune.recipe import Recipe
from jsontune.training.allocator import keep_freed_memory
from jsontune.training.rewards import reward_functions
from jsontune.training.time_budget import TimeBudgetCallback
from jsontune.training.train import empty_finished_run, parameter_counts

logger = logging.getLogger(__name__)

REWARD_PLOT_FILE = "rewards.png"


def grpo_rows(records: list[dict], tokenizer, prompt_config) -> list[dict]:
    """The trainer's rows: the prompt as SFT renders it, the reference and schema as JSON text."""
    return [{"prompt": render_prompt(tokenizer, record, prompt_config),
             "reference": json.dumps(record["reference"], ensure_ascii=False),
             "schema": json.dumps(record["schema"], ensure_ascii=False) if record.get("schema") else ""}
            for record in records]


def train_grpo(recipe: Recipe, overwrite: bool = False) -> dict[str, Any]:
    """Reinforce the run folder `model_name_or_path` as the recipe says; returns the run's figures.

    An output_dir that holds a finished run is refused unless `overwrite` (`run_dir.check_training_folder`)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import GRPOTrainer

    args = recipe.training
    start = recipe.model.model_name_or_path
    if not run_dir.is_model(Path(start)):
        raise JsontuneError(f"{recipe.path}: model_name_or_path {start!r} must be a jsontune run folder (an SFT "
                            "model or LoRA adapter, e.g. models/lora)")
    if Path(args.output_dir).resolve() == Path(start).resolve():
        raise JsontuneError(f"{recipe.path}: output_dir {args.output_dir!r} is the run being reinforced; choose "
                            "another folder")
    run_dir.check_training_folder(args.output_dir, overwrite)
    source = model_source(start)
    tokenizer = source.tokenizer()
    prompt_config = source.prompt_config() or recipe.prompt_config(tokenizer)
    splits = recipe.splits()
    if not splits.train:
        raise JsontuneError(f"{recipe.path}: the training split is empty")
    rewards = reward_functions(recipe.jsontune.rewards, end_of_turn_id(tokenizer), args.max_completion_length)
    if args.reward_weights is not None and len(args.reward_weights) != len(rewards):
        raise JsontuneError(f"{recipe.path}: reward_weights has {len(args.reward_weights)} weights for "
                            f"{len(rewards)} rewards ({', '.join(recipe.jsontune.rewards)})")
    if overwrite:
        empty_finished_run(args.output_dir)
    keep_freed_memory()  # as SFT's trainer does (not measured for GRPO)
    model = AutoModelForCausalLM.from_pretrained(source.base, dtype=torch.float32)
    peft_config = None
    if source.adapter is not None:  # the SFT adapter, trained further
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source.adapter, is_trainable=True)
    elif recipe.model.use_peft:  # a complete SFT model under a fresh adapter
        from trl import get_peft_config

        peft_config = get_peft_config(recipe.model)
    dataset = Dataset.from_list(grpo_rows(splits.train, tokenizer, prompt_config))
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=args, train_dataset=dataset,
                          processing_class=tokenizer, peft_config=peft_config)
    budget = TimeBudgetCallback(recipe.jsontune.max_train_seconds) if recipe.jsontune.max_train_seconds else None
    if budget is not None:
        trainer.add_callback(budget)
    trainable, total = parameter_counts(trainer.model)
    reset_peak_memory()
    result = trainer.train()
    out = Path(args.output_dir)
    trainer.save_model(str(out))
    peak_mb, peak_kind = peak_memory_mb()
    history = trainer.state.log_history
    figures = {
        "train_loss": result.training_loss,
        "global_steps": result.global_step,
        "train_runtime_s": result.metrics.get("train_runtime"),
        "train_examples": len(dataset),
        "started_from": start,
        "stopped_by_time_budget": budget is not None and budget.stopped_at_step is not None,
        "rewards": list(recipe.jsontune.rewards),
        "reward_weights": args.reward_weights,
        "reward_history": reward_history(history, recipe.jsontune.rewards),
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "data_files": splits.files,
        "test_ids": [r["id"] for r in splits.test],
    }
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out)
        recipe.save(out)
        prompt_config.save(out)
        run_dir.write_train_results(out, figures)
        write_reward_curves(figures["reward_history"], out / REWARD_PLOT_FILE)
        logger.info("saved the reinforced model to %s", out)
    return figures


def reward_history(log_history: list[dict], names: list[str]) -> dict[str, list[tuple[int, float]]]:
    """(step, mean) of each reward as TRL logged it (`rewards/<name>/mean`), and of the weighted total."""
    curves: dict[str, list[tuple[int, float]]] = {name: [] for name in [*names, "total"]}
    for entry in log_history:
        step = entry.get("step")
        for name in names:
            value = entry.get(f"rewards/{name}/mean")
            if value is not None:
                curves[name].append((step, float(value)))
        if entry.get("reward") is not None:
            curves["total"].append((step, float(entry["reward"])))
    return curves


def write_reward_curves(curves: dict[str, list[tuple[int, float]]], path: Path) -> Path:
    """The mean of each reward per logged step, one line each, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for name, points in curves.items():
        if points:
            steps, values = zip(*points)
            axis.plot(steps, values, marker="o", markersize=3, label=name, linewidth=2 if name == "total" else 1)
    axis.set_xlabel("step")
    axis.set_ylabel("mean reward")
    axis.set_title("GRPO rewards per step")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path

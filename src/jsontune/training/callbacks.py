"""Generation metrics during training: what the model writes, not only its teacher-forced loss.

At every evaluation the callback answers the dev prompts greedily and adds `eval_json_*` figures
(strict parse rate, parse rate, schema adherence, field F1, quality score) to the evaluation's
metrics, where `metric_for_best_model`, early stopping and the loggers (TensorBoard) see them.
"""

from __future__ import annotations

from transformers import TrainerCallback

from jsontune.data.contract import dataset_label
from jsontune.data.prompting import PromptConfig, prompt_ids
from jsontune.decoding.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_NEW_TOKENS
from jsontune.decoding.strategies import DecodingConfig, decode
from jsontune.evaluation.evaluate import score_rows
from jsontune.evaluation.metrics import aggregate

LOGGED = ("strict_parse_rate", "parse_rate", "schema_adherence", "field_f1", "quality_score")
PREFIX = "eval_json_"


class GenerationMetricsCallback(TrainerCallback):
    """Adds eval_json_<metric> to each evaluation's metrics, from greedy answers to the dev records.

    Give it the trainer (`callback.trainer = trainer`) so the figures are also logged at the step.
    Every process of a distributed run computes them the same way, so they all stop together.
    """

    def __init__(self, records: list[dict], tokenizer, prompt_config: PromptConfig,
                 max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, batch_size: int = DEFAULT_BATCH_SIZE):
        self.records = records
        self.tokenizer = tokenizer
        self.prompts = [prompt_ids(tokenizer, r, prompt_config) for r in records]
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.trainer = None

    def on_evaluate(self, args, state, control, model=None, metrics=None, **kwargs):
        if model is None or metrics is None or not self.records:
            return
        was_training = model.training
        model.eval()
        attempts = decode(model, self.tokenizer, self.prompts, [r.get("schema") for r in self.records],
                          DecodingConfig("greedy"), max_new_tokens=self.max_new_tokens, batch_size=self.batch_size,
                          desc=f"dev generation at step {state.global_step}", progress=state.is_world_process_zero)
        if was_training:
            model.train()
        rows = score_rows(self.records, attempts, [dataset_label(r) for r in self.records])
        figures = aggregate(rows, n_resamples=0)
        values = {PREFIX + key: figures[key] for key in LOGGED}
        metrics.update(values)
        if self.trainer is not None:
            self.trainer.log(values)

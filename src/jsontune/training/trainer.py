"""jsontune's SFTTrainer: length-bucketed batches, and on CPU a loss computed only where there are labels (under
bf16, on rows rounded up to a few lengths).

They change how fast a step runs, never what it computes: the batches hold the same rows an epoch
would (in another order), the loss is TRL's (`jsontune.training.compact_loss`), and the rounding pads the row's
last sequence at its end (`jsontune.training.row_rounding`). `make bench` measures them against TRL's defaults.
"""

from __future__ import annotations

import torch
from datasets import Dataset
from trl import SFTTrainer

from jsontune.training.compact_loss import compact_causal_lm_loss
from jsontune.training.row_rounding import round_packed_row
from jsontune.training.sampling import LengthBucketSampler


class JsontuneTrainer(SFTTrainer):
    """SFTTrainer with length-bucketed batches (`jsontune.training.sampling`) and, on CPU, the loss computed only at
    labelled positions (`jsontune.training.compact_loss`)."""

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
        batch_tokens = _batch_tokens(inputs)
        if self.accelerator.mixed_precision == "bf16":  # oneDNN builds its bf16 kernels for each new row length
            inputs = round_packed_row(inputs, getattr(self.processing_class, "pad_token_id", None) or 0)
        loss, sums = compact_causal_lm_loss(model, inputs, num_items_in_batch)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes  # as TRL: DDP averages gradients over the processes
        # TRL's metrics: entropy and top-1 accuracy over labelled tokens, and the tokens seen, over all processes.
        local = torch.stack([sums["entropy"], sums["correct"].float(), sums["tokens"].float(),
                             torch.tensor(float(batch_tokens))])
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

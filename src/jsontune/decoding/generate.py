"""HF `generate` over length-sorted, left-padded batches: the path the decoding engine replaced.

It is kept as the reference the engine is measured and tested against (`jsontune bench-decoding`,
tests/decoding/test_engine.py): a batch runs until its longest answer, finished rows keep their slot. Each
row stops at the end-of-turn token, which is cut from the returned text; with `constraints`, each row's
tokens are masked by its own grammar (`jsontune.decoding.constrained`). Everything else decodes with
`jsontune.decoding.engine`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessorList

from jsontune.data.prompting import end_of_turn_id
from jsontune.decoding.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_NEW_TOKENS
from jsontune.decoding.engine import Generation

if TYPE_CHECKING:
    from jsontune.decoding.constrained import Constraints


def _sampling_kwargs(temperature: float | None) -> dict:
    if temperature is None:
        return {"do_sample": False}
    # Plain temperature sampling: no top-k/top-p truncation inherited from the model's generation config.
    return {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[list[int]], max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             batch_size: int = DEFAULT_BATCH_SIZE,
             progress: bool = True, desc: str = "generating", temperature: float | None = None,
             seed: int = 0, constraints: Constraints | None = None,
             processors: list | None = None) -> list[Generation]:
    """Answers for token-id prompts, in the order given: greedy, or sampled at `temperature` (seeded).

    `constraints` (one grammar per prompt) masks every step of every row with that row's grammar;
    `processors` are extra logits processors that run first at each step (e.g. a step timer).
    """
    if temperature is not None:
        torch.manual_seed(seed)
    eot = end_of_turn_id(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eot
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    results: list[Generation | None] = [None] * len(prompts)
    device = next(model.parameters()).device
    bar = tqdm(total=len(prompts), desc=desc, unit="row", disable=not progress)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = max(len(prompts[i]) for i in rows)
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for j, i in enumerate(rows):
            input_ids[j, width - len(prompts[i]):] = torch.tensor(prompts[i])
            attention[j, width - len(prompts[i]):] = 1
        step_processors = [*(processors or []), *([constraints.processor(rows)] if constraints else [])]
        extra = {"logits_processor": LogitsProcessorList(step_processors)} if step_processors else {}
        began = time.perf_counter()
        output = model.generate(
            input_ids=input_ids.to(device), attention_mask=attention.to(device), max_new_tokens=max_new_tokens,
            eos_token_id=eot, pad_token_id=pad, **_sampling_kwargs(temperature), **extra,
        )
        latency = (time.perf_counter() - began) / len(rows)
        for j, i in enumerate(rows):
            new = output[j, width:].tolist()
            finished = eot in new
            new = new[: new.index(eot) + 1] if finished else new
            text_ids = new[:-1] if finished else new
            results[i] = Generation(tokenizer.decode(text_ids, skip_special_tokens=True), len(new), latency, finished)
        bar.update(len(rows))
    bar.close()
    return results  # type: ignore[return-value]

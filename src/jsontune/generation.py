"""Loading a model for inference and batched generation (greedy, or sampled at a temperature).

Prompts are sorted by length and left-padded, so a batch wastes little padding; each row stops at the
end-of-turn token, which is cut from the returned text. With `constraints`, each row's tokens are
masked by its own grammar (`jsontune.constrained`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessorList

from jsontune.base_model import EMBEDDED_MODELS, resolve_model_name
from jsontune.prompting import PromptConfig, end_of_turn_id

if TYPE_CHECKING:
    from jsontune.constrained import Constraints


@dataclass
class Generation:
    text: str
    new_tokens: int
    latency_s: float  # the batch's wall time shared equally among its rows
    finished: bool  # ended with the end-of-turn token, not the token budget


def resolve_base(name: str) -> str:
    """An adapter's base model path; an embedded model is found (or prepared) again by its name."""
    if Path(name).exists():
        return name
    embedded = Path(name).name
    return resolve_model_name(embedded if embedded in EMBEDDED_MODELS else name)


def load_for_inference(model_path: str | Path, adapter: str | Path | None = None, device: str | None = None):
    """(model, tokenizer, saved PromptConfig or None) for a full model dir, an adapter dir, or base + adapter."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_path = str(model_path)
    if adapter is None and (Path(model_path) / "adapter_config.json").is_file():
        adapter = model_path
        model_path = json.loads((Path(model_path) / "adapter_config.json").read_text())["base_model_name_or_path"]
    base_path = resolve_base(model_path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
    tokenizer_source = base_path
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        tokenizer_source = str(adapter)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    prompt_config = PromptConfig.load(adapter if adapter is not None else base_path)
    return model.to(device).eval(), tokenizer, prompt_config


def _sampling_kwargs(temperature: float | None) -> dict:
    if temperature is None:
        return {"do_sample": False}
    # Plain temperature sampling: no top-k/top-p truncation inherited from the model's generation config.
    return {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[list[int]], max_new_tokens: int = 192, batch_size: int = 16,
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

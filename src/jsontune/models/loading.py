"""Loading a trained model for inference: a standalone model, an adapter folder, or a base plus an adapter.

A model name is a folder, an embedded model's name or a Hub id (OWNER/NAME, `is_hub_id`), and this module
decides which. Loading is two steps, so that every check can run before the weights load: `model_source` finds and
checks what to load (the folders exist and hold a model or an adapter, and an adapter's base is found)
and answers the cheap questions (tokenizer, saved prompt settings, context length); `load_weights` then
loads the weights. An adapter folder names its base (`jsontune.run_dir.adapter_base`); an embedded base is
found, or prepared again, by its name. The tokenizer is the adapter's when there is one (it carries the
chat template training used), with the pad-token fallback every jsontune path shares (`load_tokenizer`).
The prompt settings saved beside a trained model come back with it, so it is prompted the way it was
trained. A Hub id is loaded only when the Hub answers within `HUB_CHECK_TIMEOUT_S` (`check_hub_reachable`):
without a network, huggingface_hub retries for about 50 s before it fails; this check fails in seconds and
names the setting that works offline.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from jsontune import run_dir
from jsontune.data.prompting import PromptConfig
from jsontune.errors import MissingFileError
from jsontune.models.base_model import EMBEDDED_MODELS, embedded_model_of, resolve_model_name

# OWNER/NAME of a Hub repository (a model id or a repo to push to).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Names the Hub reserves for its own pages (huggingface.co/models, ...): no user or organisation has them.
HUB_RESERVED = ("models", "datasets", "spaces")
# How long the Hub has to answer once before a Hub id is given up (a reply of any status counts).
HUB_CHECK_TIMEOUT_S = 3.0


def hub_offline() -> bool:
    """Whether the user turned the Hub off (HF_HUB_OFFLINE), as huggingface_hub reads it."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def is_hub_id(name: str | None) -> bool:
    """Whether `name` reads as a Hub repository id, OWNER/NAME (not a path: no leading '.' or '/')."""
    return bool(name) and HUB_ID.match(name) is not None and not name.startswith((".", "/"))


class ModelPathError(MissingFileError):
    """A model or adapter path names nothing loadable."""


def hub_endpoint() -> str:
    """The Hub's address, as huggingface_hub reads it (HF_ENDPOINT, else huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or "https://huggingface.co"


def check_hub_reachable(name: str) -> None:
    """Raise `ModelPathError` within `HUB_CHECK_TIMEOUT_S` when the Hub does not answer, before any loading.

    Any HTTP reply counts as an answer (a private or missing repository is then reported by huggingface_hub
    itself). With HF_HUB_OFFLINE set nothing is asked: the user chose the cache.
    """
    if hub_offline():
        return
    endpoint = hub_endpoint()
    try:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/api/models/{name}", method="HEAD"),
                               timeout=HUB_CHECK_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as err:  # ValueError: a malformed HF_ENDPOINT
        reason = getattr(err, "reason", err)
        raise ModelPathError(
            f"{name}: no such folder here, and the Hub ({endpoint}) did not answer within {HUB_CHECK_TIMEOUT_S:g} s "
            f"({reason}), so it cannot be loaded as a Hub id: give a local folder, or set HF_HUB_OFFLINE=1 to "
            "load a copy from your Hugging Face cache") from None


def load_tokenizer(source: str | Path, revision: str = "main"):
    """The tokenizer of a model or adapter folder, padded with EOS when it names no pad token."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source), revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def resolve_base(name: str, run: str | Path | None = None) -> str:
    """The path of an adapter's base model: a path as given; an embedded model found (or prepared) again by its
    name, even when the adapter recorded another machine's path to it.

    A pushed adapter names its base by the Hub id of the model it came from (the embedded SmolLM2 by
    HuggingFaceTB/SmolLM2-135M-Instruct, so that peft loads it anywhere). When the adapter's run folder `run`
    says it was trained on the embedded copy (its recipe), that copy is the base, found offline: the Hub's
    weights are not the de-quantised ones it was trained on.
    """
    if Path(name).exists():
        return name
    embedded = embedded_model_of(name)
    if embedded is not None and (name != embedded.hub_id or (run is not None and trained_on_embedded(run))):
        return resolve_model_name(embedded.name)
    return resolve_model_name(name)


def trained_on_embedded(run: str | Path) -> bool:
    """Whether a run folder's recipe names an embedded model (by its name or its prepared folder) as the base."""
    import yaml

    recipe = run_dir.recipe_path(run)
    if not recipe.is_file():  # a merged push keeps its adapter in adapter/, the recipe beside it
        recipe = run_dir.recipe_path(Path(run).parent)
    if not recipe.is_file():
        return False
    base = (yaml.safe_load(recipe.read_text()) or {}).get("model_name_or_path") or ""
    embedded = embedded_model_of(str(base))
    return embedded is not None and base != embedded.hub_id


@dataclass(frozen=True)
class ModelSource:
    """What to load, checked: the base weights (a folder, or a Hub id) and the adapter on top, if any."""

    base: str
    adapter: str | None = None

    @property
    def tokenizer_source(self) -> str:
        return self.adapter or self.base

    def tokenizer(self):
        """The tokenizer; a Hub id that does not load (no such repository, no network) is a `ModelPathError`."""
        try:
            return load_tokenizer(self.tokenizer_source)
        except OSError as err:
            if Path(self.tokenizer_source).exists():
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelPathError(f"{self.tokenizer_source}: no such model folder here, and it does not load as a "
                                 f"Hub id: {first}") from None

    def prompt_config(self) -> PromptConfig | None:
        """The prompt settings saved with a model jsontune trained, else None."""
        return PromptConfig.load(self.tokenizer_source)

    @cached_property
    def config(self):
        """The base model's config (no weights), or None when it cannot be read."""
        from transformers import AutoConfig

        try:
            return AutoConfig.from_pretrained(self.base)
        except (OSError, ValueError):
            return None

    def context_length(self) -> int | None:
        """The most tokens the model attends to (prompt and answer), from its config; None when it says none."""
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
            value = getattr(self.config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None


def model_source(model_path: str | Path, adapter: str | Path | None = None) -> ModelSource:
    """The checked source of a model path (a folder, an embedded model's name or a Hub id) and an adapter.

    Raises `ModelPathError` naming the path and what is wrong with it: a missing folder (a path whose parent
    folder exists, or any path while HF_HUB_OFFLINE is set, is not taken for a Hub id), a file, a folder that
    holds neither a model nor an adapter, an adapter folder without adapter_config.json.
    """
    name = str(model_path)
    if adapter is not None:
        _check_adapter(Path(adapter), "--adapter")
    if name in EMBEDDED_MODELS and not Path(name).exists():
        return ModelSource(resolve_model_name(name), str(adapter) if adapter else None)
    path = Path(name)
    if path.is_file():
        raise ModelPathError(f"{path}: is a file, not a model folder")
    if path.is_dir():
        if run_dir.is_adapter(path):
            if adapter is not None:
                raise ModelPathError(f"{path}: is a LoRA adapter; give its base model as the model, or drop --adapter")
            return ModelSource(resolve_base(run_dir.adapter_base(path), path), name)
        if not run_dir.is_model(path):
            raise ModelPathError(f"{path}: holds no model ({run_dir.MODEL_CONFIG_FILE} or "
                                 f"{run_dir.ADAPTER_CONFIG_FILE}); is training still running, or was it stopped?")
        return ModelSource(name, str(adapter) if adapter else None)
    embedded = ", ".join(sorted(EMBEDDED_MODELS))
    if not is_hub_id(name) or _reads_as_path(path):
        raise ModelPathError(f"{path}: no such model folder (nor an embedded model: {embedded})")
    if hub_offline():
        raise ModelPathError(f"{path}: no such model folder here, and HF_HUB_OFFLINE is set, so it cannot be "
                             f"loaded as a Hub id (embedded models: {embedded})")
    check_hub_reachable(name)
    return ModelSource(name, str(adapter) if adapter else None)


def _reads_as_path(path: Path) -> bool:
    """`models/lroa` is a typo for a folder in models/, not the Hub repository of a user called "models"."""
    return (path.parent != Path(".") and path.parent.is_dir()) or path.parts[0] in HUB_RESERVED


def _check_adapter(path: Path, what: str) -> None:
    if not path.exists():
        raise ModelPathError(f"{what} {path}: no such adapter folder")
    if not run_dir.is_adapter(path):
        raise ModelPathError(f"{what} {path}: not a LoRA adapter folder (no {run_dir.ADAPTER_CONFIG_FILE})")


def load_weights(source: ModelSource, device: str | None = None, merge_adapter: bool = True):
    """The model of a checked source, on `device` (CUDA when there is one), in eval mode.

    An adapter is merged into its base by default: inference then pays for no extra matmuls (1.15x faster
    decoding measured here, `make bench`; in fp32 the same logits up to rounding, tests/models/test_loading.py;
    in bf16 the merged weights are rounded once more, so an answer may differ).
    A quantized base keeps its adapter, as does `merge_adapter=False`.
    """
    from transformers import AutoModelForCausalLM

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(source.base, dtype=dtype)
    if source.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source.adapter)
        if merge_adapter and not getattr(model.get_base_model(), "is_quantized", False):
            model = model.merge_and_unload()
    return model.to(device).eval()


def load_for_inference(model_path: str | Path, adapter: str | Path | None = None, device: str | None = None):
    """(model, tokenizer, saved PromptConfig or None) of a standalone model folder, an adapter folder, or a base
    and an adapter."""
    source = model_source(model_path, adapter)
    return load_weights(source, device), source.tokenizer(), source.prompt_config()

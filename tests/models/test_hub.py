"""Pushing to the Hub: the staged folder, the model card, the token's absence and its secrecy.

Nothing here reaches the Hub: dry runs stage only, and the one real push replaces HfApi's two network
calls with recorders that keep a copy of what would have been uploaded.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jsontune.errors import JsontuneError
from tests import REPO

BIN = Path(sys.executable).parent
SECRET = "hf_jsontuneTESTsecret0123456789abcdef"
DATA_FILES = [str(REPO / "data/synthetic/records.jsonl"), str(REPO / "data/snips/AddToPlaylist.jsonl")]


def _no_token_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    return {**env, "HF_HOME": str(tmp_path / "hf-home"), "OMP_NUM_THREADS": "1"}


def _recipe(tmp_path: Path, tiny_model_dir: Path, name: str = "lora", **keys) -> Path:
    recipe = {"model_name_or_path": str(tiny_model_dir), "use_peft": True, "lora_target_modules": ["q_proj", "v_proj"],
              "output_dir": str(tmp_path / name), "per_device_train_batch_size": 2, "learning_rate": 1e-2,
              "max_steps": 2, "logging_steps": 1, "save_strategy": "no", "report_to": "none", "seed": 0,
              "jsontune": {"data_files": DATA_FILES, "test_fraction": 0.2, "max_train_rows_per_file": [4]}, **keys}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_model_dir) -> Path:
    """A trained tiny LoRA run folder (named 'lora', like the experiment's)."""
    from jsontune.recipe import load_recipe
    from jsontune.training.train import train

    tmp = tmp_path_factory.mktemp("hub-run")
    train(load_recipe(_recipe(tmp, tiny_model_dir)))
    return tmp / "lora"


@pytest.fixture
def benchmark_csv(tmp_path) -> Path:
    """A report's CSV (two models, two datasets) with its plot beside it."""
    path = tmp_path / "report" / "benchmark_results.csv"
    path.parent.mkdir()
    fields = ["model", "decoding", "dataset", "strict_parse_rate", "schema_adherence", "exact_match", "field_f1",
              "quality_score", "slot_f1"]
    rows = [["base", "greedy", "all", 0, 0, 0, 0, 0.1, 0],
            ["lora", "constrained", "all", 1, 1, 0.262, 0.702, 0.792, ""],
            ["lora", "constrained", "snips", 1, 1, 0.5, 0.9, 0.9, 0.3], ["complete", "greedy", "all", 1, 1, 1, 1, 1, 1]]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        writer.writerows(rows)
    (path.parent / "benchmark_results.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def _push(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jsontune"), "push", *args], capture_output=True, text=True, timeout=300,
                          env=env, cwd=REPO)


@pytest.mark.slow
def test_dry_run_stages_the_upload_and_its_model_card(lora_run, benchmark_csv, tmp_path, tiny_model_dir):
    stage = tmp_path / "stage"
    done = _push([str(lora_run), "me/json-lora", "--dry-run", "--stage-dir", str(stage), "--benchmark",
                  str(benchmark_csv)], _no_token_env(tmp_path))  # a dry run needs no token
    assert done.returncode == 0, done.stderr[-3000:]
    staged = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
    assert staged == ["README.md", "adapter_config.json", "adapter_model.safetensors", "benchmark_results.png",
                      "chat_template.jinja", "jsontune_prompt.json", "recipe.yaml", "tokenizer.json",
                      "tokenizer_config.json", "train_results.json"]
    assert all(f"  {name}" in done.stdout for name in staged)  # the listing is the folder
    card = (stage / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["library_name"] == "peft" and "base_model" not in front  # a local base is no Hub id
    assert f"The base is a local model (`{tiny_model_dir.name}`)" in card
    table = [line for line in card.splitlines() if line.startswith("| ")]
    assert "| model | decoding | strict parse | schema | exact | field F1 | quality | slot F1 |" in table
    assert "| base | greedy | 0.000 | 0.000 | 0.000 | 0.000 | 0.100 | 0.000 |" in table
    assert "| lora | constrained | 1.000 | 1.000 | 0.262 | 0.702 | 0.792 | – |" in table
    assert not any(line.startswith("| complete") for line in table)  # another model's rows stay out
    assert f"| `{DATA_FILES[0]}` | Apache-2.0, the same as the project |" in table
    assert f"| `{DATA_FILES[1]}` | CC0 1.0 Universal |" in table
    assert "![benchmark](benchmark_results.png)" in card
    assert 'generate_json("Carla ordered 5 notebooks.", model_path=path' in card
    assert "lora_target_modules:" in card  # the resolved recipe
    assert "modules q_proj, v_proj" in card


@pytest.mark.slow
def test_merged_dry_run_stages_a_standalone_model_with_its_adapter(lora_run, tmp_path):
    stage = tmp_path / "stage"
    done = _push([str(lora_run), "me/json-merged", "--merged", "--dry-run", "--stage-dir", str(stage)],
                 _no_token_env(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    names = {str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "jsontune_prompt.json",
            "adapter/adapter_config.json", "adapter/adapter_model.safetensors"} <= names
    assert "adapter_config.json" not in names
    card = (stage / "README.md").read_text()
    assert "library_name: transformers" in card and "merged into the base weights" in card
    assert "No benchmark was attached" in card


def test_push_without_a_token_stops_before_staging(tmp_path, lora_dir_stub):
    done = _push([str(lora_dir_stub), "me/x"], _no_token_env(tmp_path))
    assert done.returncode == 2
    assert "needs a Hugging Face token: set HF_TOKEN or run `hf auth login`" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def lora_dir_stub(tmp_path) -> Path:
    """A folder that looks like a LoRA run (no weights needed to test what happens before staging)."""
    run = tmp_path / "stub"
    run.mkdir()
    (run / "adapter_config.json").write_text('{"base_model_name_or_path": "x"}')
    return run


def test_bad_inputs_are_named(tmp_path, lora_dir_stub):
    env = _no_token_env(tmp_path)
    assert "OWNER/NAME" in _push([str(lora_dir_stub), "no-owner", "--dry-run"], env).stderr
    assert "not a jsontune run folder" in _push([str(tmp_path), "me/x", "--dry-run"], env).stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "config.json").write_text("{}")
    assert "--merged needs a LoRA run" in _push([str(full), "me/x", "--merged", "--dry-run"], env).stderr


def test_a_dry_run_that_fails_leaves_no_temporary_staging_folder(tmp_path, monkeypatch):
    import tempfile

    from jsontune.models.hub import push_run

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with pytest.raises(JsontuneError, match="not a jsontune run folder"):
        push_run(tmp_path, "me/x", dry_run=True)
    assert list(temp.iterdir()) == []


def test_the_card_of_a_metrics_json_benchmark_names_its_decoding_mode(tmp_path, lora_dir_stub):
    from jsontune.models.hub import model_card, read_benchmark

    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"decoding": {"mode": "constrained", "backend": "llguidance"}, "field_f1": 0.5}')
    rows, plot = read_benchmark(metrics, "stub")
    card = model_card(lora_dir_stub, "me/x", False, rows, plot is not None)
    assert "| stub | constrained | " in card and "backend" not in card


def test_a_recipe_that_pushes_without_a_token_stops_before_training(tmp_path, tiny_model_dir):
    recipe = _recipe(tmp_path, tiny_model_dir, push_to_hub=True, hub_model_id="me/json-lora")
    done = subprocess.run([sys.executable, str(REPO / "scripts/sft.py"), str(recipe)], capture_output=True,
                          text=True, timeout=300, env=_no_token_env(tmp_path), cwd=REPO)
    assert done.returncode == 2
    assert "needs a Hugging Face token" in done.stderr
    assert not (tmp_path / "lora").exists()  # nothing trained, nothing written


def test_a_token_in_a_recipe_is_refused_with_its_line(tmp_path, tiny_model_dir):
    from jsontune.recipe import RecipeError, load_recipe

    recipe = _recipe(tmp_path, tiny_model_dir, hub_token=SECRET)
    line = next(i for i, text in enumerate(recipe.read_text().splitlines(), 1) if text.startswith("hub_token"))
    with pytest.raises(RecipeError, match=f"{recipe}:{line}: hub_token: a token does not belong") as err:
        load_recipe(recipe)
    assert SECRET not in str(err.value)
    with pytest.raises(RecipeError, match="the command line: --hub_token: a token does not belong"):
        load_recipe(_recipe(tmp_path, tiny_model_dir), ["--hub_token", SECRET])


@pytest.mark.slow
def test_the_token_reaches_the_hub_client_and_nothing_else(tmp_path, tiny_model_dir, monkeypatch, caplog, capfd):
    """A recipe with push_to_hub trains and pushes; the token is in no log line, output or file."""
    from huggingface_hub import HfApi

    from jsontune.recipe import load_recipe
    from jsontune.training.train import train

    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, self.token, kwargs.get("private")))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        calls.append(("upload_folder", repo_id, self.token, None))
        shutil.copytree(folder_path, tmp_path / "uploaded")

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    caplog.set_level("DEBUG")
    recipe = _recipe(tmp_path, tiny_model_dir, push_to_hub=True, hub_model_id="me/json-lora", hub_private_repo=True,
                     save_strategy="steps", save_steps=1)
    train(load_recipe(recipe))

    assert calls == [("create_repo", "me/json-lora", SECRET, True), ("upload_folder", "me/json-lora", SECRET, None)]
    saved = yaml.safe_load((tmp_path / "lora" / "recipe.yaml").read_text())
    assert (saved["push_to_hub"], saved["hub_model_id"]) == (True, "me/json-lora")  # reruns push again
    assert (tmp_path / "uploaded" / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "uploaded" / "training_args.bin").exists()
    captured = capfd.readouterr()
    assert SECRET not in captured.out + captured.err + caplog.text
    written = [p for folder in (tmp_path / "lora", tmp_path / "uploaded") for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "training_args.bin" for p in written)  # the pickled arguments were checked too
    assert [p for p in written if SECRET.encode() in p.read_bytes()] == []


@pytest.mark.slow
def test_an_embedded_base_is_named_by_its_hub_id_in_the_card_and_the_adapter_that_peft_loads(
        lora_run, benchmark_csv, tmp_path, tiny_model_dir):
    """The run is retold as one trained on the embedded model; peft then finds "the Hub's" base in a Hub cache
    that holds the tiny model under that id, offline."""
    import json

    from huggingface_hub import ModelCard

    from jsontune.models.base_model import EMBEDDED_MODELS
    from jsontune.models.hub import push_run

    embedded = EMBEDDED_MODELS["smollm2-135m-instruct"]
    run = tmp_path / "lora"
    shutil.copytree(lora_run, run)
    config = json.loads((run / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(REPO / "models/base" / embedded.name)
    (run / "adapter_config.json").write_text(json.dumps(config))
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    data = {**recipe["jsontune"], "data_files": [*recipe["jsontune"]["data_files"], {"path": "me/json-tasks"}]}
    (run / "recipe.yaml").write_text(yaml.safe_dump({**recipe, "model_name_or_path": embedded.name,
                                                     "jsontune": data}))
    result = push_run(run, "me/json-lora", dry_run=True, stage_dir=tmp_path / "stage", benchmark=benchmark_csv)

    card = ModelCard.load(result.staged / "README.md")
    assert card.data.base_model == embedded.hub_id and card.data.license == "apache-2.0"
    assert card.data.datasets == ["me/json-tasks"]  # the Hub's datasets only; local files are listed in the text
    values = {(r.metric_type, r.metric_config): r.metric_value for r in card.data.eval_results}
    assert values == {("strict_parse_rate", "constrained"): 1.0, ("schema_adherence", "constrained"): 1.0,
                      ("exact_match", "constrained"): 0.262, ("field_f1", "constrained"): 0.702,
                      ("quality_score", "constrained"): 0.792}  # the CSV's lora/all row; slot F1 is empty there
    staged_config = json.loads((result.staged / "adapter_config.json").read_text())
    assert staged_config["base_model_name_or_path"] == embedded.hub_id
    from jsontune.models.loading import model_source

    assert Path(model_source(result.staged).base).name == embedded.name  # jsontune: its embedded copy, offline

    cache = tmp_path / "hub-cache" / ("models--" + embedded.hub_id.replace("/", "--"))
    snapshot = cache / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_model_dir, snapshot)
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text("0" * 40)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub-cache"), "HF_HUB_OFFLINE": "1"}
    load = ("import sys; from peft import AutoPeftModelForCausalLM; "
            "m = AutoPeftModelForCausalLM.from_pretrained(sys.argv[1]); print(type(m).__name__, m.peft_config)")
    done = subprocess.run([sys.executable, "-c", load, str(result.staged)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0 and "PeftModelForCausalLM" in done.stdout, done.stderr[-2000:]

"""Hostile input gets one clear message and exit code 2 before any work, and nothing is lost or leaked.

The bad inputs live in tests/fixtures/hostile/ (its README lists each with the message it gets). The checks
before a model loads are asserted with a loader that raises: reaching it is a test failure, and each
group has a good input that does reach it, so the sentinel itself is known to work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jsontune import api
from jsontune.cli import app
from tests import REPO
from tests.conftest import TINY_RECORDS

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
TOKEN = "hf_" + "Zq7" * 11 + "x"  # the shape of a Hugging Face token: hf_ and 34 letters and digits


class ModelLoaded(Exception):
    """Raised by the patched loader: the command got as far as loading the model's weights."""


@pytest.fixture
def no_model_load(monkeypatch, embedded_model_dir):
    """Every load of a model's weights raises ModelLoaded (the tokenizer and config may load)."""
    from transformers import AutoModelForCausalLM

    def refuse(*args, **kwargs):
        raise ModelLoaded

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", refuse)
    api._source.cache_clear()
    api._weights.cache_clear()
    yield
    api._source.cache_clear()
    api._weights.cache_clear()


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


def assert_refused(result, *fragments: str) -> None:
    """Exit 2 with one message (no traceback) holding every fragment, before any model loaded."""
    assert not isinstance(result.exception, ModelLoaded), "the model loaded before the input was refused"
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def data_file(tmp_path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in TINY_RECORDS))
    return path


# 1. A Hub token reaches no file, log line or message, whichever way it is spelt.

SPELLINGS = {
    "recipe key": ({"hub_token": TOKEN}, []),
    "nested recipe key": ({"model_init_kwargs": {"token": TOKEN}}, []),
    "token as a recipe value": ({"run_name": TOKEN}, []),
    "--hub_token": ({}, ["--hub_token", TOKEN]),
    "--hub-token": ({}, ["--hub-token", TOKEN]),
    "--hub_token=": ({}, [f"--hub_token={TOKEN}"]),
    "--hub-token=": ({}, [f"--hub-token={TOKEN}"]),
    "prefix --hub_tok": ({}, ["--hub_tok", TOKEN]),
    "prefix --hub-tok=": ({}, [f"--hub-tok={TOKEN}"]),
    "--push_to_hub_token": ({}, ["--push_to_hub_token", TOKEN]),
    "--model_init_kwargs token": ({}, ["--model_init_kwargs", json.dumps({"token": TOKEN})]),
    "token as an override value": ({}, ["--run_name", TOKEN]),
    "beside a bad override": ({}, ["--learning_rate", "fast", "--hub-token", TOKEN]),
}


@pytest.mark.parametrize("keys, overrides", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_planted_token_is_refused_and_reaches_no_file_log_line_or_message(make_recipe, tmp_path, caplog, keys,
                                                                           overrides):
    recipe = make_recipe(**keys)
    result = invoke("train", recipe, *overrides)
    assert_refused(result, "HF_TOKEN")
    assert TOKEN not in result.output and TOKEN not in caplog.text
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != recipe]
    assert not [p for p in written if TOKEN.encode() in p.read_bytes()]


def test_a_token_shaped_string_is_masked_in_messages():
    from jsontune.models.credentials import redact

    assert redact(f"argument --x: invalid value: '{TOKEN}'") == "argument --x: invalid value: 'hf_***'"


# 2. Text that UTF-8 cannot write is refused on the way in and on the way out.

def test_data_check_names_the_row_holding_a_lone_surrogate():
    result = invoke("data", "check", HOSTILE / "data_lone_surrogate.jsonl")
    assert result.exit_code == 1
    assert "data_lone_surrogate.jsonl:2: 'reference/name' holds text that cannot be written as UTF-8" in result.output
    assert "1 good, 1 bad" in result.output


def test_eval_refuses_a_lone_surrogate_before_the_model_loads(no_model_load, tmp_path):
    result = invoke("eval", "--model", "smollm2-135m-instruct", "--data", HOSTILE / "data_lone_surrogate.jsonl",
                    "--out", tmp_path / "eval")
    assert_refused(result, "data_lone_surrogate.jsonl:2:", "UTF-8")
    assert not (tmp_path / "eval").exists()


@pytest.mark.parametrize("output", ['{"name": "\\ud800"}', 'Sure: {"name": "Ann \\udfff",}', '["\\ud800"]',
                                    '{"\\ud800": 1}', '{"name": "\ud800"}'])
def test_recover_json_refuses_an_answer_holding_a_lone_surrogate(output):
    from jsontune.decoding.repair import parse_strict, recover_json

    recovery = recover_json(output)
    assert not recovery.ok and recovery.value is None and "UTF-8" in recovery.reason
    assert parse_strict(output) == (False, None)


def test_recover_json_keeps_an_escaped_surrogate_pair():
    from jsontune.decoding.repair import recover_json

    assert recover_json('{"mood": "\\ud83d\\ude00"}').value == {"mood": "\N{GRINNING FACE}"}


# 3 and 4. eval and generate check every argument, path, schema and prompt length before the model loads.

def eval_args(tmp_path, data, **extra) -> list:
    args = {"--model": "smollm2-135m-instruct", "--data": data, "--out": tmp_path / "eval", **extra}
    return [item for pair in args.items() for item in pair if item is not None]


def test_eval_with_good_inputs_reaches_the_model(no_model_load, tmp_path, data_file):
    result = invoke("eval", *eval_args(tmp_path, data_file))
    assert isinstance(result.exception, ModelLoaded), result.output


def long_prompt_file(tmp_path) -> Path:
    path = tmp_path / "long.jsonl"
    rows = [TINY_RECORDS[1], {"prompt": "Describe: " + "the quick brown fox jumps. " * 4000, "reference": {"a": 1}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _empty_folder(parent):
    folder = parent / "empty-folder"
    folder.mkdir(exist_ok=True)
    return folder


EVAL_CASES = {
    "--out is a file": (lambda t, d: {"--out": d}, ["is a file; the output must be a folder"]),
    "--batch-size 0": (lambda t, d: {"--batch-size": "0"}, ["--batch-size"]),
    "--max-new-tokens -5": (lambda t, d: {"--max-new-tokens": "-5"}, ["--max-new-tokens"]),
    "--limit 0": (lambda t, d: {"--limit": "0"}, ["--limit"]),
    "--bounds": (lambda t, d: {"--bounds": "1,2"}, ["--bounds takes four counts"]),
    "--decoding": (lambda t, d: {"--decoding": "beam"}, ["decoding mode must be one of"]),
    "missing data": (lambda t, d: {"--data": t / "nope.jsonl"}, ["nope.jsonl: no such data file"]),
    "data is a folder of no data": (lambda t, d: {"--data": _empty_folder(t)}, ["holds no data files"]),
    "empty data": (lambda t, d: {"--data": HOSTILE / "data_empty.jsonl"}, ["holds no records"]),
    "blank lines only": (lambda t, d: {"--data": HOSTILE / "data_blank_lines.jsonl"}, ["holds no records"]),
    "missing model folder": (lambda t, d: {"--model": "models/no-such-run"},
                             ["models/no-such-run: no such model folder"]),
    "a folder without a model": (lambda t, d: {"--model": t}, ["holds no model (config.json or adapter_config.json)"]),
    "a file as the model": (lambda t, d: {"--model": d}, ["is a file, not a model folder"]),
    "adapter without adapter_config.json": (lambda t, d: {"--adapter": t},
                                            ["not a LoRA adapter folder (no adapter_config.json)"]),
    "a recipe that is not UTF-8": (lambda t, d: {"--recipe": HOSTILE / "recipe_not_utf8.yaml"},
                                   ["recipe_not_utf8.yaml:2: not UTF-8"]),
    "a prompt longer than the context": (lambda t, d: {"--data": long_prompt_file(t)},
                                         ["long.jsonl:2: ", "longer than the", "model's context (8192)"]),
}


@pytest.mark.parametrize("change, fragments", EVAL_CASES.values(), ids=EVAL_CASES.keys())
def test_eval_refuses_bad_input_before_the_model_loads(no_model_load, tmp_path, data_file, change, fragments):
    result = invoke("eval", *eval_args(tmp_path, data_file, **change(tmp_path, data_file)))
    assert_refused(result, *fragments)


def test_eval_keeps_another_evaluation_unless_told_to_overwrite_it(no_model_load, tmp_path, data_file):
    out = tmp_path / "eval"
    out.mkdir()
    (out / "predictions.jsonl").write_text("{}\n")
    (out / "metrics.json").write_text("{}\n")
    assert_refused(invoke("eval", *eval_args(tmp_path, data_file)), "holds another evaluation", "--overwrite")
    assert (out / "metrics.json").read_text() == "{}\n"
    # With --overwrite the old files go before the model loads: a run that stops leaves nothing to mistake.
    result = invoke("eval", *eval_args(tmp_path, data_file), "--overwrite")
    assert isinstance(result.exception, ModelLoaded)
    assert not (out / "metrics.json").exists() and not (out / "predictions.jsonl").exists()


def test_the_api_refuses_bad_input_before_the_model_loads(no_model_load):
    from jsontune.data.schemas import InvalidSchema
    from jsontune.decoding.budget import BudgetError
    from jsontune.errors import JsontuneError

    with pytest.raises(JsontuneError, match="the prompt is empty"):
        api.generate_json("  ", model_path="smollm2-135m-instruct")
    with pytest.raises(BudgetError, match="at least 1"):
        api.generate_json("Bob", model_path="smollm2-135m-instruct", max_new_tokens=0)
    with pytest.raises(InvalidSchema, match="not a valid JSON Schema"):
        api.generate_json("Bob", model_path="smollm2-135m-instruct", schema={"type": "objekt"})
    with pytest.raises(BudgetError, match="longer than the"):
        api.generate_json("word " * 30_000, model_path="smollm2-135m-instruct")
    with pytest.raises(ModelLoaded):
        api.generate_json("Bob lives in Oslo.", model_path="smollm2-135m-instruct")


GENERATE_CASES = {
    "an empty prompt": (["  "], ["the prompt is empty"]),
    "an empty stdin": (["-"], ["the prompt is empty"]),
    "--max-new-tokens 0": (["Bob", "--max-new-tokens", "0"], ["--max-new-tokens"]),
    "a schema file that is not JSON": (["Bob", "--schema", HOSTILE / "schema_not_json.json"],
                                       ["schema_not_json.json: cannot read the schema"]),
    "a missing schema file": (["Bob", "--schema", HOSTILE / "nope.json"], ["nope.json: cannot read the schema"]),
    "a schema that breaks the meta-schema": (["Bob", "--schema", HOSTILE / "schema_breaks_meta_schema.json"],
                                             ["schema_breaks_meta_schema.json: not a valid JSON Schema at type"]),
    "a schema without a grammar": (["Bob", "--schema", HOSTILE / "schema_no_grammar.json"],
                                   ["schema_no_grammar.json: llguidance cannot compile the schema"]),
    "a missing model": (["Bob", "--model", "models/no-such-run"], ["no such model folder"]),
    "a prompt of 100,000 characters": (["x" * 100_000], ["the prompt: ", "longer than the"]),
}


@pytest.mark.parametrize("args, fragments", GENERATE_CASES.values(), ids=GENERATE_CASES.keys())
def test_generate_refuses_bad_input_before_the_model_loads(no_model_load, args, fragments):
    result = invoke("generate", *args, *([] if "--model" in args else ["--model", "smollm2-135m-instruct"]),
                    stdin="")
    assert_refused(result, *fragments)


def test_generate_with_good_inputs_reaches_the_model(no_model_load):
    result = invoke("generate", "Bob lives in Oslo.", "--model", "smollm2-135m-instruct")
    assert isinstance(result.exception, ModelLoaded), result.output


# 5. A message, not a traceback, for every user error of train; --debug and JSONTUNE_DEBUG show the traceback.

def test_a_bad_data_row_under_train_is_a_message_and_debug_shows_the_traceback(make_recipe, tmp_path, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(TINY_RECORDS[0]) + "\n" + '{"prompt": "no reference"}\n')
    recipe = make_recipe(jsontune={"data_files": [str(bad)]})
    assert_refused(invoke("train", recipe), "bad.jsonl:2: missing 'reference'")
    debug = invoke("--debug", "train", recipe)
    assert debug.exit_code == 2 and "Traceback" in debug.output and "bad.jsonl:2" in debug.output
    monkeypatch.setenv("JSONTUNE_DEBUG", "1")
    assert "Traceback" in invoke("train", recipe).output


def test_an_empty_training_split_is_a_message(make_recipe, tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(TINY_RECORDS[0]) + "\n")
    recipe = make_recipe(jsontune={"data_files": [str(one)], "test_fraction": 0.9})
    assert_refused(invoke("train", recipe), "the training split is empty (1 test record(s)")


def test_cross_validation_with_more_folds_than_domains_is_refused_before_anything_trains(make_recipe, tmp_path):
    recipes = [make_recipe(use_peft=peft) for peft in (False, True)]  # the tiny data: one domain, its file's stem
    result = invoke("cv", "--complete-recipe", recipes[0], "--lora-recipe", recipes[1], "--results-dir",
                    tmp_path / "cv", "--folds", "2")
    assert_refused(result, "2 folds need 2 domains or more; the data has 1")
    assert not (tmp_path / "cv").exists()


def test_a_training_row_longer_than_the_models_context_is_named_by_file_and_line(make_recipe, tmp_path):
    data = tmp_path / "long.jsonl"  # the tiny model's context is 512 tokens
    rows = [TINY_RECORDS[0], {**TINY_RECORDS[1], "prompt": "Bob lives in Oslo. " * 200}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = make_recipe(jsontune={"data_files": [str(data)]})
    assert_refused(invoke("train", recipe), f"{data}:2", "longer than the model's context of 512 tokens")


@pytest.mark.parametrize("name, fragment", [
    ("recipe_not_utf8.yaml", "recipe_not_utf8.yaml:2: not UTF-8 (byte 61"),
    ("recipe_repeated_key.yaml", "recipe_repeated_key.yaml:4: 'learning_rate' is set twice (first at line 2)"),
    ("recipe_type_error.yaml", "recipe_type_error.yaml:3: argument --learning_rate"),
    ("recipe_yaml_error.yaml", "recipe_yaml_error.yaml:2: invalid YAML: could not find expected ':'"),
])
def test_a_broken_recipe_is_one_message_with_its_line(name, fragment):
    assert_refused(invoke("train", HOSTILE / name), fragment)


def test_a_recipe_path_that_is_a_folder_says_so(tmp_path):
    assert_refused(invoke("train", tmp_path), "is a folder, not a recipe file")


# 6. Silence where a word belongs.

@pytest.mark.parametrize("name", ["data_empty.jsonl", "data_blank_lines.jsonl"])
def test_data_check_fails_a_file_without_rows(name):
    result = invoke("data", "check", HOSTILE / name)
    assert result.exit_code == 1 and "holds no records" in result.output


# 7. Minor: push under HF_HUB_OFFLINE, and the model card of a metrics.json benchmark.

def test_push_under_hf_hub_offline_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run = tmp_path / "run"
    run.mkdir()
    assert_refused(invoke("push", run, "me/model"), "HF_HUB_OFFLINE is set", "--dry-run")


# Items of issue 47: a Hub that does not answer, a folder of finished work.
@pytest.fixture
def silent_hub(monkeypatch, silent_endpoint):
    """HF_ENDPOINT at a server that never answers, for the check jsontune makes (read when it asks)."""
    from jsontune.models import loading

    monkeypatch.setenv("HF_ENDPOINT", silent_endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(loading, "HUB_CHECK_TIMEOUT_S", 0.5)


def test_a_hub_id_without_a_hub_that_answers_is_refused_at_once_naming_the_offline_setting(
        no_model_load, silent_hub, data_file, tmp_path):
    result = invoke("eval", "--model", "someone/no-such-model", "--data", data_file, "--out", tmp_path / "out")
    assert_refused(result, "someone/no-such-model", "did not answer within 0.5 s", "HF_HUB_OFFLINE=1")


def test_training_from_a_hub_id_without_a_hub_that_answers_is_refused_at_once(make_recipe, silent_hub):
    result = invoke("train", make_recipe(model_name_or_path="someone/no-such-model"))
    assert_refused(result, "did not answer within 0.5 s", "HF_HUB_OFFLINE=1")


def test_training_into_a_finished_run_is_refused_naming_the_folder_and_the_flag(make_recipe, tmp_path, no_model_load):
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "jsontune_prompt.json").write_text("{}")
    result = invoke("train", make_recipe(output_dir=str(finished)))
    assert_refused(result, str(finished), "finished training", "--overwrite")
    assert (finished / "jsontune_prompt.json").read_text() == "{}"


def test_grpo_into_a_finished_run_or_into_its_own_start_is_refused(tiny_model_dir, tiny_data, tmp_path,
                                                                   no_model_load):
    import yaml

    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "jsontune_prompt.json").write_text("{}")

    def grpo_recipe(output_dir) -> Path:
        path = tmp_path / "grpo.yaml"
        path.write_text(yaml.safe_dump({"model_name_or_path": str(tiny_model_dir), "output_dir": str(output_dir),
                                        "jsontune": {"data_files": [str(tiny_data)]}}))
        return path

    assert_refused(invoke("grpo", grpo_recipe(finished)), str(finished), "--overwrite")
    assert_refused(invoke("grpo", grpo_recipe(tiny_model_dir)), "is the run being reinforced")


def test_data_commands_refuse_to_replace_files_unless_told(tmp_path):
    out = tmp_path / "synthetic"
    out.mkdir()
    (out / "records.jsonl").write_text("mine\n")
    assert_refused(invoke("data", "generate", "--out", out, "--per-domain", "1"),
                   str(out / "records.jsonl"), "--overwrite")
    assert (out / "records.jsonl").read_text() == "mine\n"
    assert invoke("data", "generate", "--out", out, "--per-domain", "1", "--overwrite").exit_code == 0
    assert (out / "records.jsonl").read_text() != "mine\n"

    snips = tmp_path / "snips"
    source = tmp_path / "train_PlayMusic.json"
    source.write_text(json.dumps({"PlayMusic": [{"data": [{"text": "play "}, {"text": "adele", "entity": "artist"}]}]}))
    assert invoke("data", "snips", source, "--out", snips).exit_code == 0
    assert_refused(invoke("data", "snips", source, "--out", snips), "PlayMusic.jsonl", "--overwrite")
    assert invoke("data", "snips", source, "--out", snips, "--overwrite").exit_code == 0


def test_a_command_given_a_hub_id_ends_in_seconds_where_the_hub_never_answers(tmp_path, data_file, silent_endpoint):
    """End to end, in a process of its own whose huggingface_hub reads HF_ENDPOINT as it starts: nothing waits
    on the endpoint (bitsandbytes' import included; before, the command was still waiting after 600 s), and the
    message names the offline setting."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_ENDPOINT": silent_endpoint}
    env.pop("HF_HUB_OFFLINE", None)
    done = subprocess.run([sys.executable, "-m", "jsontune.cli", "eval", "--model", "someone/no-such-model",
                           "--data", str(data_file), "--out", str(tmp_path / "out")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "did not answer within 3 s" in done.stderr and "HF_HUB_OFFLINE=1" in done.stderr

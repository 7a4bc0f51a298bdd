"""The SNIPS benchmark: its split, the span schema, the recipes, the report and a run end to end on the tiny model."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from jsontune.benchmarks.snips.report import PUBLISHED, CurvePoint, curve_table
from jsontune.benchmarks.snips.span_schema import query_spans, slots_by_intent, span_schema
from jsontune.benchmarks.snips.split import load_snips_split, parse_per_intent, split_snips
from jsontune.data.contract import normalise_prompt, read_jsonl
from jsontune.recipe import RecipeError, load_recipe
from tests import REPO

SNIPS_FILES = sorted(str(p) for p in (REPO / "data" / "snips").glob("*.jsonl"))
SHARED_README = REPO.parent / "shared" / "data" / "snips" / "README.md"


def _record(intent: str, index: int, text: str, slots: dict) -> dict:
    return {"id": f"{intent}-{index:03d}", "prompt": f"Query: '{text}'",
            "reference": {"intent": intent, "slots": slots},
            "meta": {"dataset": "snips", "intent": intent, "text": text}}


def _toy_intents(per_intent: int = 12) -> dict[str, list[dict]]:
    """Two intents; GetWeather's query 1 repeats query 0 apart from case and spaces."""
    weather = [_record("GetWeather", i, f"weather in City{i} tomorrow", {"city": f"City{i}", "timeRange": "tomorrow"})
               for i in range(per_intent)]
    weather[1] = _record("GetWeather", 1, "  WEATHER in city0   tomorrow", {"city": "city0", "timeRange": "tomorrow"})
    music = [_record("PlayMusic", i, f"play Song{i} by Artist{i}", {"track": f"Song{i}", "artist": f"Artist{i}"})
             for i in range(per_intent)]
    return {"GetWeather": weather, "PlayMusic": music}


# --------------------------------------------------------------------------- split

def test_split_is_seeded_nested_and_never_trains_on_a_test_or_dev_query():
    grouped = _toy_intents()
    split = split_snips(grouped, seed=3, test_per_intent=3, dev_per_intent=2)
    again = split_snips(_toy_intents(), seed=3, test_per_intent=3, dev_per_intent=2)
    assert [r["id"] for r in split.test] == [r["id"] for r in again.test]
    assert [r["id"] for r in split.test] != [r["id"] for r in split_snips(grouped, 4, 3, 2).test]
    for intent in grouped:
        assert sum(r["reference"]["intent"] == intent for r in split.test) == 3
        assert sum(r["reference"]["intent"] == intent for r in split.dev) == 2
    held = {normalise_prompt(r["meta"]["text"]) for r in split.test + split.dev}
    assert len(held) == 10  # distinct queries
    pool_texts = {normalise_prompt(r["meta"]["text"]) for rows in split.pool.values() for r in rows}
    assert not held & pool_texts
    # The duplicate pair of GetWeather is held out together or trained on together, never split across.
    ids = {r["id"] for r in split.test + split.dev}
    if "GetWeather-000" in ids or "GetWeather-001" in ids:
        assert not {"GetWeather-000", "GetWeather-001"} & {r["id"] for r in split.pool["GetWeather"]}
    small, large, everything = split.train(2), split.train(4), split.train(None)
    assert len(small) == 4 and len(large) == 8
    assert {r["id"] for r in small} < {r["id"] for r in large} < {r["id"] for r in everything}
    with pytest.raises(ValueError, match="pool holds only"):
        split.train(100)
    with pytest.raises(ValueError, match="fewer than"):
        split_snips(grouped, seed=3, test_per_intent=10, dev_per_intent=5)


@pytest.mark.parametrize("value, expected", [("70", 70), (10, 10), ("all", None), (" ALL ", None)])
def test_parse_per_intent(value, expected):
    assert parse_per_intent(value) == expected


@pytest.mark.parametrize("value", ["0", "-3", "seventy", "7.5"])
def test_parse_per_intent_refuses(value):
    with pytest.raises(ValueError, match="per intent"):
        parse_per_intent(value)


def test_shipped_split_has_100_test_and_20_dev_queries_per_intent():
    split, file_of = load_snips_split(SNIPS_FILES, seed=42)
    assert len(split.test) == 700 and len(split.dev) == 140
    assert all(len(rows) > 1800 for rows in split.pool.values())
    assert {Path(file_of[r["id"]]).stem for r in split.test} == set(split.pool)


# --------------------------------------------------------------------------- span schema

def test_query_spans_are_runs_of_whole_tokens():
    assert query_spans("add Bob's song") == sorted(
        {"add", "add Bob", "add Bob'", "add Bob's", "add Bob's song", "Bob", "Bob'", "Bob's", "Bob's song", "'",
         "'s", "'s song", "s", "s song", "song"})
    assert "R&B" in query_spans("play R&B now") and "la" not in query_spans("play R&B now")


def test_every_shipped_gold_value_is_a_span_of_its_query():
    values = 0
    for name in SNIPS_FILES:
        records, _ = read_jsonl(name)
        for record in records:
            spans = set(query_spans(record["meta"]["text"]))
            for value in record["reference"]["slots"].values():
                for item in value if isinstance(value, list) else [value]:
                    assert item in spans, (record["id"], item)
                    values += 1
    assert values > 33_470  # the training pool alone holds 33,470


CATALOGUE = {"GetWeather": ["city", "timeRange"], "PlayMusic": ["artist", "track"]}


def test_span_schema_accepts_the_gold_answer_and_rejects_invented_values_and_foreign_slots():
    schema = span_schema("play Song1 by Artist1", CATALOGUE)
    check = jsonschema.Draft202012Validator(schema)
    assert check.is_valid({"intent": "PlayMusic", "slots": {"track": "Song1", "artist": "Artist1"}})
    assert check.is_valid({"intent": "PlayMusic", "slots": {"artist": ["Song1", "Artist1"]}})
    assert check.is_valid({"intent": "GetWeather", "slots": {}})  # every intent is offered: nothing given away
    assert not check.is_valid({"intent": "PlayMusic", "slots": {"track": "Song2"}})  # not in the query
    assert not check.is_valid({"intent": "PlayMusic", "slots": {"city": "Song1"}})  # another intent's slot
    assert not check.is_valid({"intent": "Other", "slots": {}})
    assert slots_by_intent([{"reference": {"intent": "B", "slots": {"x": "1"}}},
                            {"reference": {"intent": "A", "slots": {}}, "schema": {"properties": {"slots": {
                                "properties": {"z": {}, "y": {}}}}}}]) == {"A": ["y", "z"], "B": ["x"]}


def test_span_grammar_takes_slots_in_any_order_and_only_spans(tokenizer):
    from jsontune.decoding.constrained.backends import backend_for
    from jsontune.decoding.constrained.bounds import Bounds
    from jsontune.decoding.constrained.grammars import GrammarCache

    schema = span_schema("add clem burke in my playlist Pre-Party R&B Jams",
                         {"AddToPlaylist": ["artist", "playlist", "playlist_owner"], "GetWeather": ["city"]})
    stop = tokenizer.eos_token_id
    backend = backend_for("llguidance", tokenizer, len(tokenizer), stop)
    grammar = GrammarCache(backend, Bounds()).for_schema(schema)
    assert grammar.error is None and grammar.unenforced == []

    def accepts(answer: str) -> bool:
        matcher = backend.matcher(grammar.compiled)
        return all(matcher.consume(t) for t in tokenizer(answer, add_special_tokens=False)["input_ids"] + [stop])

    in_query_order = {"artist": "clem burke", "playlist_owner": "my", "playlist": "Pre-Party R&B Jams"}
    assert accepts(json.dumps({"intent": "AddToPlaylist", "slots": in_query_order}, separators=(",", ":")))
    assert accepts(json.dumps({"intent": "AddToPlaylist", "slots": dict(sorted(in_query_order.items()))},
                              separators=(",", ":")))
    assert not accepts('{"intent":"AddToPlaylist","slots":{"artist":"clem burkes"}}')
    assert not accepts('{"intent":"AddToPlaylist","slots":{"city":"my"}}')


# --------------------------------------------------------------------------- recipes

@pytest.mark.parametrize("name", ["lora", "complete", "lora-all"])
def test_snips_recipes_parse_and_split_the_shipped_data(name, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = load_recipe(f"recipes/snips/{name}.yaml")
    assert recipe.model.use_peft == name.startswith("lora")
    splits = recipe.splits()
    assert len(splits.test) == 700
    split = recipe.jsontune.split
    assert split["name"] == "snips"
    per_intent = parse_per_intent(split["per_intent"])
    sampled = [r for r in splits.train if "augmented_from" not in (r.get("meta") or {})]
    assert len(sampled) == (7 * per_intent if per_intent else 12_898)
    assert len(sampled) <= len(splits.train) <= len(sampled) * (1 + split["augment"])
    assert not {r["id"] for r in splits.train} & {r["id"] for r in splits.test}
    assert sum(info["train"] for info in splits.files.values()) == len(splits.train)


def test_the_whole_pool_point_uses_the_curves_lora(monkeypatch):
    # lora-all.yaml is the curve's "all" point: a different LoRA there would make the curve two methods.
    monkeypatch.chdir(REPO)
    curve, whole_pool = load_recipe("recipes/snips/lora.yaml"), load_recipe("recipes/snips/lora-all.yaml")
    assert whole_pool.model == curve.model


def test_the_whole_pool_trains_its_own_recipe_and_a_method_without_one_trains_its_curve_recipe(monkeypatch,
                                                                                                tmp_path):
    from jsontune.benchmarks.snips.benchmark import plan_models, split_options
    from jsontune.benchmarks.snips.defaults import RECIPES, WHOLE_POOL_RECIPES

    monkeypatch.chdir(REPO)
    models = {m.label: m for m in plan_models(RECIPES, {"lora": ["70", "all"], "complete": ["all"]}, tmp_path, [],
                                              whole_pool_recipes=WHOLE_POOL_RECIPES)}
    assert list(models) == ["lora-70", "lora-all", "complete-all"]
    lora_all, lora_70, complete_all = models["lora-all"], models["lora-70"], models["complete-all"]
    assert Path(lora_all.recipe.path).name == "lora-all.yaml" and lora_all.recipe.training.num_train_epochs == 1
    assert split_options(lora_all.recipe).augment == 0 and split_options(lora_all.recipe).per_intent == "all"
    assert Path(lora_70.recipe.path).name == "lora.yaml" and split_options(lora_70.recipe).augment == 3
    assert Path(complete_all.recipe.path).name == "complete.yaml"
    assert [m.directory for m in models.values()] == [tmp_path / label for label in models]
    [curve_on_pool] = plan_models(RECIPES, {"lora": ["all"]}, tmp_path, [], whole_pool_recipes={})
    assert Path(curve_on_pool.recipe.path).name == "lora.yaml"


def test_snips_benchmark_runs_the_whole_comparison_unless_told_otherwise(monkeypatch):
    from typer.testing import CliRunner

    from jsontune.benchmarks.snips import benchmark
    from jsontune.cli import app

    calls = []
    monkeypatch.setattr(benchmark, "run_snips_benchmark", lambda *args: calls.append(args))
    assert CliRunner().invoke(app, ["snips-benchmark"]).exit_code == 0
    assert CliRunner().invoke(app, ["snips-benchmark", "--lora-sizes", "all", "--complete-sizes", "",
                                    "--complete-all-recipe", "mine.yaml"]).exit_code == 0
    assert CliRunner().invoke(app, ["snips-benchmark", "--lora-all-recipe", "my-lora.yaml"]).exit_code == 0
    whole, partial, own = calls
    assert (whole[2], whole[3]) == (["10", "20", "50", "70", "all"], ["10", "20", "50", "70"])
    assert {k: str(v) for k, v in whole[-1].items()} == {"lora": "recipes/snips/lora-all.yaml"}
    assert (partial[2], partial[3]) == (["all"], [])
    assert {k: str(v) for k, v in partial[-1].items()} == {"lora": "recipes/snips/lora-all.yaml",
                                                            "complete": "mine.yaml"}
    assert {k: str(v) for k, v in own[-1].items()} == {"lora": "my-lora.yaml"}


def test_a_model_saved_before_a_recipe_key_existed_is_reused_unless_the_key_is_set(monkeypatch):
    from jsontune.benchmarks.runs import same_training

    monkeypatch.chdir(REPO)
    asked = load_recipe("recipes/snips/lora.yaml").resolved()
    saved = yaml.safe_load(yaml.safe_dump(asked))
    del saved["jsontune"]["max_train_seconds"]  # as a recipe saved before the key was added
    del saved["jsontune"]["split"]["slot_catalogue"]  # and before the split option was
    assert same_training(saved, asked)
    assert not same_training(saved, load_recipe("recipes/snips/lora.yaml", ["--max_train_seconds", "60"]).resolved())
    assert same_training(saved, load_recipe("recipes/snips/lora.yaml", ["--eval_max_new_tokens", "7"]).resolved())
    assert not same_training(saved, load_recipe("recipes/snips/lora.yaml", ["--lora_r", "8"]).resolved())
    catalogue = load_recipe("recipes/snips/lora.yaml", _sized(70, augment=3, slot_catalogue="template"))
    assert not same_training(saved, catalogue.resolved())
    retired = yaml.safe_load(yaml.safe_dump(asked))
    retired["jsontune"]["split"]["an_option_since_removed"] = 1  # today's builder refuses it: retrain, not crash
    assert not same_training(retired, asked)


def _sized(per_intent, augment: int = 0, **options) -> list[str]:
    return ["--split", json.dumps({"name": "snips", "per_intent": per_intent, "augment": augment, **options})]


def test_a_split_override_on_the_command_line_resizes_the_training_sample(monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = load_recipe("recipes/snips/lora.yaml", _sized(10))
    assert len(recipe.splits().train) == 70
    assert recipe.jsontune.split == {"name": "snips", "per_intent": 10, "test_per_intent": 100, "dev_per_intent": 20,
                                     "augment": 0, "slot_catalogue": None}, "the saved recipe spells out every option"
    with pytest.raises(RecipeError, match=r"the command line: jsontune.split: split 'snips': .*at least 1"):
        load_recipe("recipes/snips/lora.yaml", _sized(0))
    with pytest.raises(RecipeError, match=r"split 'snips' has no option 'per_intnet' \(did you mean 'per_intent'"):
        load_recipe("recipes/snips/lora.yaml", ["--split", '{"name": "snips", "per_intnet": 10}'])


@pytest.mark.parametrize("key", ["snips_per_intent", "snips_test_per_intent", "snips_dev_per_intent", "snips_augment"])
def test_a_retired_snips_key_names_the_split_that_replaced_it(tmp_path, key):
    recipe = tmp_path / "old.yaml"
    recipe.write_text(f"model_name_or_path: smollm2-135m-instruct\njsontune:\n  {key}: 10\n")
    option = key.removeprefix("snips_")
    with pytest.raises(RecipeError, match=rf"old.yaml:3: '{key}' was replaced by a split option: write split: "
                                          rf"\{{name: snips, {option}: N\}}"):
        load_recipe(recipe)


def test_the_benchmark_refuses_a_recipe_without_the_snips_split(tmp_path, make_recipe):
    from jsontune.benchmarks.snips.benchmark import plan_models

    with pytest.raises(RecipeError, match="needs jsontune.split: {name: snips"):
        plan_models({"lora": make_recipe()}, {"lora": ["10"]}, tmp_path, [])


# --------------------------------------------------------------------------- report

def test_published_figures_are_the_data_readme_table():
    if not SHARED_README.is_file():  # fails (not skips): the figures cannot be checked against their source
        pytest.fail(f"shared SNIPS README not found at {SHARED_README} (CI provides it beside the repository)")
    table = re.findall(r"^\| (Snips NLU|api\.ai|Luis|Wit|Alexa) \| (~2,000 \(full\)|\d+) \| ([0-9.]+) \|$",
                       SHARED_README.read_text(), flags=re.MULTILINE)
    assert [(engine, 2000 if size.startswith("~") else int(size), float(f1)) for engine, size, f1 in table] \
        == list(PUBLISHED)


def test_curve_table_has_our_points_then_the_published_engines():
    rows = [{"reference": {"intent": i, "slots": {}}} for i in ("A", "B")]
    point = CurvePoint("lora", "all", "greedy", {"n": 2, "slot_f1": 0.9, "ci": {"slot_f1": [0.8, 0.95]},
                                                 "training": {"train_examples": 3000}}, rows)
    assert point.per_intent == 1500
    table = curve_table([point])
    assert table[0]["slot_f1"] == 0.9 and table[0]["slot_f1_low"] == 0.8 and table[0]["per_intent"] == "all"
    assert [(r["method"], r["slot_f1_published"]) for r in table[1:]] == [(e, f1) for e, _, f1 in PUBLISHED]


# --------------------------------------------------------------------------- end to end

@pytest.mark.slow
def test_benchmark_end_to_end_on_the_tiny_model_then_resumes(tmp_path, tiny_model_dir, monkeypatch, caplog):
    from jsontune.benchmarks.snips.benchmark import run_snips_benchmark
    from jsontune.data.contract import write_jsonl

    files = []
    for intent, records in _toy_intents(10).items():
        for record in records:
            names = dict.fromkeys(record["reference"]["slots"], {})
            record["schema"] = {"properties": {"slots": {"properties": names}}}
        files.append(str(tmp_path / f"{intent}.jsonl"))
        write_jsonl(files[-1], records)
    recipes = {}
    for method, use_peft in (("lora", True), ("complete", False)):
        recipe = {"model_name_or_path": str(tiny_model_dir), "use_peft": use_peft, "output_dir": "unused",
                  "per_device_train_batch_size": 2, "learning_rate": 1e-2, "max_steps": 2, "logging_steps": 1,
                  "save_strategy": "no", "report_to": "none", "seed": 0,
                  "jsontune": {"data_files": files,
                               "split": {"name": "snips", "per_intent": 4, "test_per_intent": 2, "dev_per_intent": 1},
                               "eval_max_new_tokens": 12, "eval_constrained_max_new_tokens": 16}}
        if use_peft:
            recipe["lora_target_modules"] = ["q_proj", "v_proj"]
        recipes[method] = tmp_path / f"{method}.yaml"
        recipes[method].write_text(yaml.safe_dump(recipe))
    out, models = tmp_path / "results", tmp_path / "models"

    points = run_snips_benchmark(recipes["lora"], recipes["complete"], ["2", "4"], ["4"], out_dir=out,
                                 models_dir=models)

    assert [(p.method, p.size, p.mode) for p in points] == [
        ("lora", "2", "greedy"), ("lora", "2", "constrained"), ("lora", "4", "greedy"), ("lora", "4", "constrained"),
        ("complete", "4", "greedy"), ("complete", "4", "constrained")]
    assert all(p.metrics["n"] == 4 and p.metrics["slot_f1"] is not None for p in points)
    assert json.loads((models / "lora-2" / "train_results.json").read_text())["train_examples"] == 4
    constrained = [row for p in points if p.mode == "constrained" for row in p.rows]
    assert all(row["schema_valid"] for row in constrained if row["finished"])  # the grammar held
    for name in ("learning_curve.csv", "per_intent.csv", "learning_curve.png", "metadata.json", "report.md"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = list(csv.DictReader((out / "learning_curve.csv").open()))
    assert len(table) == 6 + len(PUBLISHED)
    assert len(list(csv.DictReader((out / "per_intent.csv").open()))) == 6 * 2
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["records"] == 4 and {"train_lora-2_s", "eval_complete-4_constrained_s"} <= set(metadata["timings"])
    report = (out / "report.md").read_text()
    assert "| Snips NLU (published) |" in report and "## Protocol" in report

    # A second run reuses every model and evaluation; a changed setting retrains only what it changes.
    caplog.set_level("INFO")
    again = run_snips_benchmark(recipes["lora"], recipes["complete"], ["2"], [], modes=["constrained"], out_dir=out,
                                models_dir=models, overrides=["--eval_batch_size", "3"])  # not a training setting
    assert [p.metrics["slot_f1"] for p in again] == [points[1].metrics["slot_f1"]]
    assert "already trained" in caplog.text and "evaluated before, reused" in caplog.text
    metadata = json.loads((out / "metadata.json").read_text())
    assert set(metadata["timings"]) == {"total_s"}
    run_snips_benchmark(recipes["lora"], recipes["complete"], ["2"], [], modes=["greedy"], out_dir=out,
                        models_dir=models, overrides=["--learning_rate", "0.02"])
    assert "train_lora-2_s" in json.loads((out / "metadata.json").read_text())["timings"]


# --------------------------------------------------------------------------- slot catalogue

def test_the_slot_catalogue_names_every_shipped_slot_and_every_answer_with_string_values_follows_it():
    from jsontune.benchmarks.snips.slot_catalogue import catalogue_schema, catalogue_text

    split, _ = load_snips_split(SNIPS_FILES, seed=42)
    records = split.records()
    catalogue = slots_by_intent(records)
    schema = catalogue_schema(catalogue)
    for rendering in ("template", "outline"):
        text = catalogue_text(catalogue, rendering)
        assert all(f'"{intent}' in text or f"{intent}|" in text or f"|{intent}" in text for intent in catalogue)
        assert all(re.search(rf"\b{name}\b", text) for names in catalogue.values() for name in names), rendering
    assert "a performer or band (AddToPlaylist, PlayMusic)" in catalogue_text(catalogue, "outline")
    validator = jsonschema.Draft202012Validator(schema)
    plain = [r["reference"] for r in records if all(isinstance(v, str) for v in r["reference"]["slots"].values())]
    assert len(plain) > 0.95 * len(records)
    assert not [ref for ref in plain if not validator.is_valid(ref)]
    assert not validator.is_valid({"intent": "GetWeather", "slots": {"invented": "x"}})
    with pytest.raises(ValueError, match="slots without a description in the catalogue: invented"):
        catalogue_schema({"GetWeather": ["city", "invented"]})


def test_with_a_slot_catalogue_training_and_evaluation_prompts_end_with_the_same_catalogue(monkeypatch, tmp_path):
    from jsontune.benchmarks.snips.benchmark import plan_models, prompted

    monkeypatch.chdir(REPO)
    options = _sized(10, slot_catalogue="template")
    splits = load_recipe("recipes/snips/lora.yaml", options).splits()
    bare = load_recipe("recipes/snips/lora.yaml", _sized(10)).splits()
    catalogue = splits.train[0]["prompt"].removeprefix(bare.train[0]["prompt"])
    assert catalogue.startswith("\nAnswer with the intent and the slots") and '"playlist_owner":"string"' in catalogue
    assert all(r["prompt"] == b["prompt"] + catalogue for r, b in zip(splits.train + splits.test,
                                                                      bare.train + bare.test, strict=True))
    # As `snips-benchmark --slot-catalogue template` plans it: the option added to the recipe's split.
    [model] = plan_models({"lora": "recipes/snips/lora.yaml"}, {"lora": ["10"]}, tmp_path, _sized(10),
                          {"slot_catalogue": "template"})
    split, _ = load_snips_split(SNIPS_FILES, seed=42)
    evaluated = prompted(split.test, model, split)
    assert [r["prompt"] for r in evaluated] == [r["prompt"] for r in splits.test]
    assert split.test[0]["prompt"] == bare.test[0]["prompt"], "the split's own records are left as they were"
    with pytest.raises(RecipeError, match="slot_catalogue must be one of template, outline or null, not 'yaml'"):
        load_recipe("recipes/snips/lora.yaml", _sized(10, slot_catalogue="yaml"))


def test_a_model_trained_with_another_slot_catalogue_text_is_trained_again(monkeypatch, tmp_path):
    from jsontune import run_dir
    from jsontune.benchmarks import runs
    from jsontune.benchmarks.snips import benchmark

    monkeypatch.chdir(REPO)
    [model] = benchmark.plan_models({"lora": "recipes/snips/lora.yaml"}, {"lora": ["10"]}, tmp_path / "models", [],
                                    {"slot_catalogue": "template"})

    def finished_training(label, recipe, out_dir):  # what a training leaves in its folder, without the training
        model.directory.mkdir(parents=True)
        (model.directory / run_dir.TRAIN_RESULTS_FILE).write_text("{}")
        run_dir.recipe_path(model.directory).write_text(yaml.safe_dump(recipe.resolved()))

    monkeypatch.setattr(runs, "train_in_subprocess", finished_training)  # what train_afresh calls
    split, _ = load_snips_split(SNIPS_FILES, seed=42)
    text = benchmark.model_catalogue(model, split)
    benchmark.train(model, None, tmp_path)
    assert not benchmark._is_trained(model, text), "a catalogue model without its recorded text"
    benchmark.train(model, text, tmp_path)
    assert benchmark._is_trained(model, text)
    assert not benchmark._is_trained(model, text.replace("playlist", "list"))  # a description changed since


def test_snips_benchmark_passes_its_slot_catalogue_to_every_recipe_and_refuses_a_wrong_one(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from jsontune.cli import app

    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, ["snips-benchmark", "--lora-sizes", "10", "--complete-sizes", "", "--out",
                                      str(tmp_path), "--models-dir", str(tmp_path), "--slot-catalogue", "yaml"])
    assert result.exit_code == 2 and "slot_catalogue must be one of template, outline or null" in result.output
    assert not list(tmp_path.iterdir()), "nothing trained or written"


def test_a_slot_catalogue_with_the_schema_in_the_prompt_is_refused_before_training(monkeypatch, tmp_path):
    from jsontune.benchmarks.snips.benchmark import run_snips_benchmark

    monkeypatch.chdir(REPO)
    with pytest.raises(ValueError, match="schema_in_prompt with a slot_catalogue would also write each record's own"):
        run_snips_benchmark(lora_sizes=["10"], complete_sizes=[], out_dir=tmp_path, models_dir=tmp_path,
                            overrides=["--schema_in_prompt", "true"], slot_catalogue="template")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- augmentation

def test_slot_augment_swaps_values_of_the_same_slot_from_the_sample_only():
    from jsontune.benchmarks.snips.augment import augment_slots

    records = [_record("PlayMusic", i, f"play {song} by {artist} now", {"track": song, "artist": artist})
               for i, (song, artist) in enumerate([("Hey Jude", "the Beatles"), ("Hello", "Adele"),
                                                   ("Roar", "Katy Perry")])]
    records.append(_record("PlayMusic", 3, "play my my song", {"playlist_owner": "my"}))  # "my" twice: kept as is
    records.append(_record("PlayMusic", 4, "play a and b", {"album": ["a", "b"]}))  # a repeated slot: kept as is
    out = augment_slots(records, copies=2, seed=0)
    assert out[:5] == records and len(out) == 5 + 3 * 2
    assert out == augment_slots(records, copies=2, seed=0) and augment_slots(records, 0, 0) == records
    songs, artists = {"Hey Jude", "Hello", "Roar"}, {"the Beatles", "Adele", "Katy Perry"}
    for variant in out[5:]:
        slots = variant["reference"]["slots"]
        assert variant["reference"]["intent"] == "PlayMusic" and list(slots) == ["track", "artist"]
        assert slots["track"] in songs and slots["artist"] in artists
        assert variant["meta"]["text"] == f"play {slots['track']} by {slots['artist']} now"
        assert variant["prompt"] == f"Query: '{variant['meta']['text']}'"
        assert variant["id"].startswith(variant["meta"]["augmented_from"] + "~aug")
    assert len({r["id"] for r in out}) == len(out)
    with pytest.raises(ValueError, match="0 or more"):
        augment_slots(records, -1, 0)


def test_snips_augment_multiplies_the_training_rows_only(monkeypatch):
    monkeypatch.chdir(REPO)
    plain = load_recipe("recipes/snips/lora.yaml", _sized(10, augment=0)).splits()
    more = load_recipe("recipes/snips/lora.yaml", _sized(10, augment=2)).splits()
    assert [r["id"] for r in more.test] == [r["id"] for r in plain.test]
    assert more.train[:70] == plain.train and 70 < len(more.train) <= 70 * 3
    assert sum(info["train"] for info in more.files.values()) == len(more.train)

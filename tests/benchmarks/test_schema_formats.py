"""bench-schema-formats: one model per schema rendering, same recipe and split, scored per label on dev."""

from __future__ import annotations

import json

import pytest

from jsontune.benchmarks.schema_formats import compare_schema_formats, format_table, requests_table


@pytest.mark.slow
def test_each_rendering_trains_its_own_model_and_is_scored_per_label(make_recipe, tmp_path):
    data = tmp_path / "data" / "people.jsonl"
    data.parent.mkdir()
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
              "required": ["name", "city"]}
    people = [("Bob", "Oslo"), ("Ann", "Rome"), ("Eva", "Kyiv")]
    rows = [{"id": f"{d}-{i}", "prompt": f"{n} lives in {c}.", "reference": {"name": n, "city": c}, "schema": schema,
             "meta": {"domain": d}} for d in ("a", "b", "c") for i, (n, c) in enumerate(people)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    split = {"name": "domains", "dev_domains": ["c"], "test_fraction": 0.34, "evaluate_on": "dev"}
    recipe = make_recipe(max_steps=1, jsontune={"data_files": [str(data)], "split": split, "eval_max_new_tokens": 8})
    requests = [{"id": "call", "prompt": "Ann lives in Rome. Call save_person.", "reference": {"name": "Ann"},
                 "schema": {"type": "object", "properties": {"name": {"type": "string", "description": "Full name"},
                                                             "city": {"type": "string"}}, "required": ["name"]},
                 "meta": {"task": "function_call"}},
                {"id": "free", "prompt": "Eva lives in Kyiv.", "reference": {"name": "Eva", "city": "Kyiv"},
                 "meta": {"task": "schema_free"}}]
    results = compare_schema_formats(recipe, ["none", "template"], tmp_path / "out", [], requests)
    assert [r.schema_format for r in results] == ["none", "template"]
    assert results[1].prompt_tokens > results[0].prompt_tokens  # the template is in the prompt
    assert set(results[0].by_label) == {"people", "people (held-out domains)"}
    assert results[0].by_label["people (held-out domains)"]["n"] == 3
    saved = json.loads((tmp_path / "out" / "models" / "template" / "jsontune_prompt.json").read_text())
    assert saved["schema_in_prompt"] and saved["schema_format"] == "template"
    assert "| template |" in format_table(results)
    # The requests: scored per task and over the rows with a schema, recounted from the predictions.
    predictions = [json.loads(line) for line in (tmp_path / "out" / "requests" / "template" / "predictions.jsonl")
                   .read_text().splitlines()]
    call = next(row for row in predictions if row["id"] == "call")
    assert results[1].requests["function_call"]["exact_match"] == float(call["exact_match"])
    assert results[1].requests["with schema"]["n"] == 1 and results[1].requests["schema_free"]["n"] == 1
    assert results[1].requests_tokens > results[0].requests_tokens
    assert "| template |" in requests_table(results)

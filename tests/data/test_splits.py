"""Splits: the per-file split is reproducible, and a recipe's named split builder is found, checked and run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from jsontune.data.contract import write_jsonl
from jsontune.data.splits import (
    SplitBuilder,
    SplitError,
    Splits,
    build_splits,
    load_splits,
    normalised_split,
    prompt_overlap,
    register_split_builder,
    retired_key_hints,
    split_builders,
    split_records,
)
from jsontune.recipe import RecipeError, load_recipe


def test_split_is_seeded_and_disjoint():
    records = [{"id": f"r{i}", "prompt": f"p{i}", "reference": {}} for i in range(50)]
    train, test = split_records(records, 0.2, seed=3)
    assert len(test) == 10 and len(train) == 40
    assert {r["id"] for r in train}.isdisjoint(r["id"] for r in test)
    assert split_records(list(reversed(records)), 0.2, seed=3) == (train, test)  # input order does not matter
    assert split_records(records, 0.2, seed=4)[1] != test


def test_load_splits_limits_per_file_and_reports_overlap(tmp_path, caplog):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, [{"id": f"a{i}", "prompt": f"A {i}", "reference": {}} for i in range(20)])
    write_jsonl(b, [{"id": f"b{i}", "prompt": "same prompt", "reference": {}} for i in range(10)])
    splits = load_splits([str(a), str(b)], 0.5, seed=0, max_train_rows_per_file=[3, 2], max_test_rows_per_file=[1])
    assert [len(splits.train), len(splits.test)] == [5, 2]
    assert splits.files[str(a)]["train"] == 3 and splits.files[str(b)]["test"] == 1
    assert "also occur in train" in caplog.text
    smaller = load_splits([str(a)], 0.5, seed=0, max_train_rows_per_file=[2])
    assert smaller.train == splits.train[:2]  # a smaller limit keeps a prefix of a larger one


def test_prompt_overlap_ignores_case_and_spaces():
    train = [{"id": "t", "prompt": "Hello   World"}]
    test = [{"id": "x", "prompt": "hello world"}, {"id": "y", "prompt": "other"}]
    assert prompt_overlap(train, test) == ["x"]


@dataclass(frozen=True)
class _FirstRowsOptions:
    test_rows: int = 1

    def __post_init__(self):
        if self.test_rows < 0:
            raise ValueError(f"test_rows must be 0 or more, not {self.test_rows}")


def _first_rows(files: list[str], seed: int, options: _FirstRowsOptions) -> Splits:
    from jsontune.data.contract import read_jsonl

    records = [record for name in files for record in read_jsonl(name)[0]]
    return Splits(train=records[options.test_rows:], test=records[:options.test_rows])


FIRST_ROWS = SplitBuilder("first-rows", _FirstRowsOptions, _first_rows, retired_keys={"old_test_rows": "split: {...}"})


@pytest.fixture
def first_rows_builder():
    from jsontune.data import splits

    register_split_builder(FIRST_ROWS)
    yield FIRST_ROWS
    splits._REGISTERED.pop(FIRST_ROWS.name)


def test_a_registered_builder_splits_by_its_own_options(tmp_path, first_rows_builder):
    data = tmp_path / "d.jsonl"
    write_jsonl(data, [{"id": f"r{i}", "prompt": f"p{i}", "reference": {}} for i in range(5)])
    splits = build_splits({"name": "first-rows", "test_rows": 2}, [str(data)], seed=0)
    assert [r["id"] for r in splits.test] == ["r0", "r1"] and len(splits.train) == 3
    assert normalised_split({"name": "first-rows"}) == {"name": "first-rows", "test_rows": 1}, "defaults spelled out"
    assert retired_key_hints()["old_test_rows"] == "split: {...}"


def test_a_builder_refuses_an_unknown_option_and_a_bad_value(first_rows_builder):
    with pytest.raises(SplitError, match=r"split 'first-rows' has no option 'test_row' \(did you mean 'test_rows'"):
        normalised_split({"name": "first-rows", "test_row": 2})
    with pytest.raises(SplitError, match="split 'first-rows': test_rows must be 0 or more, not -1"):
        normalised_split({"name": "first-rows", "test_rows": -1})


def test_an_unknown_builder_name_lists_the_known_ones():
    with pytest.raises(SplitError, match=r"no split builder named 'nope' \(known: .*snips"):
        normalised_split({"name": "nope"})
    with pytest.raises(SplitError, match="a mapping with a 'name'"):
        normalised_split({"per_intent": 3})


def test_the_benchmarks_builders_are_found_through_their_entry_points():
    # Nothing in jsontune.data imports a benchmark: the snips builder is found through pyproject.toml.
    assert "snips" in split_builders()


def test_a_recipe_split_mistake_names_the_recipe_line(tmp_path, tiny_data):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"model_name_or_path: smollm2-135m-instruct\njsontune:\n  data_files: [{tiny_data}]\n"
                      "  split: {name: nope}\n")
    with pytest.raises(RecipeError, match=r"r.yaml:4: jsontune.split: no split builder named 'nope'"):
        load_recipe(recipe)
    recipe.write_text("model_name_or_path: smollm2-135m-instruct\njsontune:\n  split: snips\n")
    with pytest.raises(RecipeError, match=r"r.yaml:3: jsontune.split must be a mapping"):
        load_recipe(recipe)
    with pytest.raises(RecipeError, match="the command line: --split takes a JSON object"):
        load_recipe(recipe, ["--split", "{name: snips}"])

"""Data sources: JSON/CSV/Parquet files, saved datasets and TRL's row formats become the same records, and every
bad row is named by its source, its row and the reason."""

from __future__ import annotations

import json
import re

import pytest

from jsontune.data.contract import DataError
from jsontune.data.prompting import PromptConfig, render_prompt
from jsontune.data.sources import DataSource, SourceError, data_source, parse_columns, read_source
from jsontune.data.splits import load_splits

ROWS = [("Bob lives in Oslo.", {"name": "Bob", "city": "Oslo"}),
        ("Ann lives in Rome.", {"name": "Ann", "city": "Rome"}),
        ("Kim lives in Lima.", {"name": "Kim", "city": "Lima"})]


def write_sources(folder) -> dict[str, DataSource]:
    """The same three rows in every source and row format jsontune reads."""
    import datasets
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"text": p, "json": json.dumps(r)} for p, r in ROWS]).to_parquet(folder / "rows.parquet")
    pd.DataFrame([{"prompt": p, "reference": json.dumps(r)} for p, r in ROWS]).to_csv(folder / "rows.csv", index=False)
    (folder / "messages.jsonl").write_text("".join(json.dumps({"messages": [
        {"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": p},
        {"role": "assistant", "content": json.dumps(r)}]}) + "\n" for p, r in ROWS))
    (folder / "completions.jsonl").write_text("".join(json.dumps({
        "prompt": [{"role": "user", "content": p}], "completion": [{"role": "assistant", "content": json.dumps(r)}]})
        + "\n" for p, r in ROWS))
    datasets.Dataset.from_list([{"prompt": p, "completion": json.dumps(r)} for p, r in ROWS]).save_to_disk(
        str(folder / "saved"))
    return {"parquet": DataSource(str(folder / "rows.parquet"), columns={"prompt": "text", "reference": "json"}),
            "csv": DataSource(str(folder / "rows.csv")),
            "messages": DataSource(str(folder / "messages.jsonl")),
            "prompt_completion": DataSource(str(folder / "completions.jsonl")),
            "saved_to_disk": DataSource(str(folder / "saved"))}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return write_sources(tmp_path_factory.mktemp("sources"))


@pytest.mark.parametrize("kind", ["parquet", "csv", "messages", "prompt_completion", "saved_to_disk"])
def test_every_source_and_row_format_gives_the_same_records(sources, kind):
    records, report = read_source(sources[kind])
    assert [(r["prompt"], r["reference"]) for r in records] == ROWS and report.rows == 3
    assert len({r["id"] for r in records}) == 3


def test_a_messages_rows_system_message_becomes_its_system_prompt(sources, tokenizer):
    record = read_source(sources["messages"])[0][0]
    assert record["system"] == "Answer with JSON."
    text = render_prompt(tokenizer, record, PromptConfig("chat", system_prompt="The recipe's."))
    assert "Answer with JSON." in text and "The recipe's." not in text


def test_a_bad_parquet_row_is_named_by_source_split_and_row(tmp_path):
    import pandas as pd

    path = tmp_path / "bad.parquet"
    pd.DataFrame([{"text": "ok", "json": "{}"}, {"text": "broken", "json": "{\"a\": "},
                  {"text": "", "json": "{}"}]).to_parquet(path)
    with pytest.raises(DataError) as caught:
        read_source(DataSource(str(path), columns={"prompt": "text", "reference": "json"}))
    message = str(caught.value)
    assert f"{path}[train]#1: 'reference' is text that is not JSON" in message
    assert f"{path}[train]#2: missing or empty 'prompt'" in message


@pytest.mark.parametrize("messages, reason", [
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "got the roles ['user', 'user']"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "not json"}], "is text that is not JSON"),
    ([{"role": "user", "content": "a"}], "the assistant's JSON"),
    ("hello", "must be a list of messages"),
])
def test_a_bad_messages_row_is_named_by_file_line_and_reason(tmp_path, messages, reason):
    path = tmp_path / "chat.jsonl"
    good = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "{}"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"messages": messages}) + "\n")
    with pytest.raises(DataError, match=rf"chat\.jsonl:2: .*{re.escape(reason)}"):
        read_source(DataSource(str(path)))


def test_skipped_bad_rows_are_counted_per_source_and_weights_and_limits_apply(sources, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "p", "reference": {}}) + "\n" + json.dumps({"prompt": "p"}) + "\n")
    csv = sources["csv"]
    splits = load_splits([str(bad), {"path": csv.path, "limit": 2}, {"path": sources["messages"].path,
                                                                      "weight": 0.5}], 0.0, 0, on_bad_rows="skip")
    assert splits.files[str(bad)]["bad_rows"] == 1 and splits.files[str(bad)]["train"] == 1
    assert splits.files[csv.path]["rows"] == 2
    assert splits.files[sources["messages"].path]["train"] == 2  # half of 3, rounded


def test_a_source_mapping_is_checked_and_columns_parse_from_the_command_line():
    assert parse_columns("prompt=text, reference=json") == {"prompt": "text", "reference": "json"}
    for bad, words in (({"path": "x", "wieght": 1}, "unknown key"), ({"path": "x", "weight": 2}, "weight"),
                       ({"path": "x", "columns": {"answer": "y"}}, "'answer' is not a field"), ({}, "path")):
        with pytest.raises(SourceError, match=words):
            data_source(bad, "recipe.yaml:3")
    with pytest.raises(SourceError, match="FIELD=COLUMN"):
        parse_columns("prompt")


def test_data_check_reads_any_source_with_its_columns_from_the_command_line(sources):
    import subprocess
    import sys

    command = [sys.executable, "-m", "jsontune.cli", "data", "check", sources["parquet"].path]
    unmapped = subprocess.run(command, capture_output=True, text=True, timeout=120)
    mapped = subprocess.run([*command, "--columns", "prompt=text,reference=json"], capture_output=True, text=True,
                            timeout=120)
    assert unmapped.returncode == 1 and "[train]#0: missing or empty 'prompt'" in unmapped.stderr
    assert mapped.returncode == 0 and "3 good, 0 bad" in mapped.stdout, mapped.stderr


def test_table_rows_lose_their_empty_cells_and_keep_numeric_ids_as_text(tmp_path):
    import pandas as pd

    path = tmp_path / "ids.csv"
    pd.DataFrame([{"id": 7, "prompt": "a", "reference": "{}", "system": None},
                  {"id": 8, "prompt": "b", "reference": "{}", "system": "Be brief."}]).to_csv(path, index=False)
    records, _ = read_source(DataSource(str(path)))
    assert [r["id"] for r in records] == ["7", "8"]
    assert "system" not in records[0] and records[1]["system"] == "Be brief."


def test_a_reference_held_as_nested_columns_is_refused_rather_than_filled_with_nulls(tmp_path):
    import pandas as pd

    path = tmp_path / "nested.parquet"
    pd.DataFrame([{"prompt": "a", "reference": {"x": 1}}, {"prompt": "b", "reference": {"y": 2}}]).to_parquet(path)
    with pytest.raises(SourceError, match="store it as JSON text"):
        read_source(DataSource(str(path)))


def test_a_json_array_file_keeps_each_rows_own_keys_and_names_a_bad_row_by_its_index(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"prompt": "a", "reference": {"x": 1}}, {"prompt": "b", "reference": {"y": None}}]))
    records, _ = read_source(DataSource(str(path)))
    assert [r["reference"] for r in records] == [{"x": 1}, {"y": None}]
    path.write_text(json.dumps([{"prompt": "a", "reference": {}}, {"prompt": ""}]))
    with pytest.raises(DataError, match=r"rows\.json#1: missing or empty 'prompt'"):
        read_source(DataSource(str(path)))


def test_a_jsonl_sources_limit_stops_reading_before_a_later_bad_row(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"prompt": "a", "reference": {}}) + "\n" + "not json\n")
    records, report = read_source(DataSource(str(path), limit=1))
    assert len(records) == 1 and report.rows == 1


def test_eval_and_data_check_take_a_whole_source_mapping_as_json(sources):
    import subprocess
    import sys

    spec = json.dumps({"path": sources["parquet"].path, "limit": 2})
    done = subprocess.run([sys.executable, "-m", "jsontune.cli", "data", "check", spec, "--columns",
                           "prompt=text,reference=json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "2 good, 0 bad" in done.stdout, done.stderr


def test_a_folder_of_files_is_read_file_by_file_and_names_a_bad_jsonl_row_by_its_line(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"prompt": "a", "reference": {"x": 1}}) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({"prompt": "b", "reference": {"y": 2}}) + "\n" + "{oops\n")
    records, report = read_source(DataSource(str(folder)), on_bad_rows="skip")
    assert [r["reference"] for r in records] == [{"x": 1}, {"y": 2}] and report.rows == 3
    assert [str(row).split(": ")[0] for row in report.bad_rows] == [f"{folder / 'b.jsonl'}:2"]
    assert len(read_source(DataSource(str(folder), limit=2), on_bad_rows="skip")[0]) == 2

"""The data contract: every kind of bad row is named by file:line and reason; splits are reproducible."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from jsontune.data import DataError, load_splits, prompt_overlap, read_jsonl, split_records, write_jsonl

GOOD = {"id": "a", "prompt": "Make JSON: x", "reference": {"x": 1}}
SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def _write_lines(path, lines: list[bytes]) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")


def _dump(obj) -> bytes:
    return json.dumps(obj).encode()


BAD_ROWS = [
    (b'{"prompt": "x", "reference": {', "not JSON"),
    (_dump(["a", "list"]), "must be a JSON object, got list"),
    (_dump({"reference": {"x": 1}}), "missing or empty 'prompt'"),
    (_dump({"prompt": "   ", "reference": {"x": 1}}), "missing or empty 'prompt'"),
    (_dump({"prompt": "p"}), "missing 'reference'"),
    (_dump({"prompt": "p", "reference": "text"}), "'reference' must be a JSON object or array, got str"),
    (_dump({"prompt": "p", "reference": {"x": "one"}, "schema": SCHEMA}),
     "'reference' fails its own schema at x: 'one' is not of type 'integer'"),
    (_dump({"prompt": "p", "reference": {"x": 1}, "schema": {"type": "nonsense"}}), "not a valid JSON Schema"),
    ('{"prompt": "caf\u00e9", "reference": {}}'.encode("latin-1"), "not UTF-8"),
    (_dump({"id": 7, "prompt": "p", "reference": {}}), "'id' must be a string"),
]


@pytest.mark.parametrize("line,reason", BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_each_bad_row_is_named_with_file_line_and_reason(tmp_path, line, reason):
    path = tmp_path / "rows.jsonl"
    _write_lines(path, [_dump(GOOD), line])
    with pytest.raises(DataError) as caught:
        read_jsonl(path)
    assert len(caught.value.bad_rows) == 1
    message = str(caught.value)
    assert f"{path}:2: " in message and reason in message


def test_skip_mode_skips_and_counts(tmp_path):
    path = tmp_path / "rows.jsonl"
    _write_lines(path, [_dump(GOOD), b"not json", _dump({**GOOD, "id": "b"}), b"", _dump({"prompt": "p"})])
    records, report = read_jsonl(path, on_bad_rows="skip")
    assert [r["id"] for r in records] == ["a", "b"]
    assert [row.line for row in report.bad_rows] == [2, 5]
    assert report.rows == 4  # the blank line is not a row


def test_missing_ids_get_file_and_line_and_duplicates_are_reported(tmp_path):
    path = tmp_path / "rows.jsonl"
    _write_lines(path, [_dump(GOOD), _dump(GOOD), _dump({"prompt": "p", "reference": []})])
    records, report = read_jsonl(path)
    assert records[2]["id"] == "rows-3"
    assert report.duplicate_ids == ["a"]


def test_write_jsonl_roundtrip_keeps_unicode(tmp_path):
    records = [{**GOOD, "prompt": "Zoë ordered 🍕"}]
    write_jsonl(tmp_path / "out.jsonl", records)
    assert read_jsonl(tmp_path / "out.jsonl")[0] == records
    assert "Zoë" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


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


def test_data_check_cli_exit_codes(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    write_jsonl(good, [GOOD])
    _write_lines(bad, [_dump(GOOD), b"{oops"])
    ok = subprocess.run([sys.executable, "-m", "jsontune.cli", "data", "check", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([sys.executable, "-m", "jsontune.cli", "data", "check", str(good), str(bad)],
                            capture_output=True, text=True)
    assert failed.returncode == 1
    assert f"{bad}:2: not JSON" in failed.stderr
    assert "1 good, 1 bad" in failed.stdout

"""The data contract: every kind of bad row is named by file:line and reason; writing keeps every character."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from jsontune.data.contract import DataError, read_jsonl, write_jsonl

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
    (_dump({"prompt": "p", "reference": "text"}), "'reference' is text that is not JSON"),
    (_dump({"prompt": "p", "reference": "5"}), "'reference' must be a JSON object or array, got int"),
    (_dump({"prompt": "p", "reference": {}, "system": ""}), "'system' (the row's system prompt) must be a non-empty"),
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

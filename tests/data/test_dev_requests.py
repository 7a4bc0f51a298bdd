"""The hand-written dev set: contract-valid, every answer valid against its schema, its datasheet current."""

from __future__ import annotations

import hashlib
from collections import Counter

from jsontune.data.contract import read_jsonl
from tests import REPO

DEV = REPO / "data" / "dev"


def test_the_dev_requests_pass_the_contract_and_their_datasheet_is_current() -> None:
    records, report = read_jsonl(DEV / "requests.jsonl")  # raises on a bad row, an answer off its schema included
    assert report.duplicate_ids == []
    tasks = Counter(record["meta"]["task"] for record in records)
    assert tasks == {"function_call": 60, "extraction": 55, "form": 30, "schema_free": 15}
    assert all(("schema" in record) == (record["meta"]["task"] != "schema_free") for record in records)
    datasheet = (DEV / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256((DEV / "requests.jsonl").read_bytes()).hexdigest() in datasheet


def test_no_recipe_trains_on_the_dev_requests() -> None:
    for recipe in (REPO / "recipes").rglob("*.yaml"):
        assert "data/dev/" not in recipe.read_text(encoding="utf-8"), recipe

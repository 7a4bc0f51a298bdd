"""SNIPS converter: hand-written files in every encoding it handles, and the shipped data/snips."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

from jsontune.benchmarks.snips.convert import PROMPT_TEMPLATE, SkippedRow, convert, slot_schema, write_converted
from jsontune.data.contract import read_jsonl
from tests import REPO

SHIPPED = REPO / "data" / "snips"
SHARED_SNIPS = REPO.parent / "shared" / "data" / "snips"
EXPECTED_COUNTS = {
    "AddToPlaylist": 1942,
    "BookRestaurant": 1973,
    "GetWeather": 2000,
    "PlayMusic": 2000,
    "RateBook": 1956,
    "SearchCreativeWork": 1954,
    "SearchScreeningEvent": 1959,
}
MAX_FILE_BYTES = 5_000_000


def write_snips(path: Path, intent: str, rows: list[list[dict]], encoding: str = "utf-8") -> Path:
    """A SNIPS-format file holding one query per list of segments."""
    content = {intent: [{"data": segments} for segments in rows]}
    path.write_bytes(json.dumps(content, ensure_ascii=False).encode(encoding))
    return path


def test_slot_schema_shape():
    value = {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2},
        ]
    }
    assert slot_schema("GetWeather", ["timeRange", "city", "city"]) == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "intent": {"const": "GetWeather"},
            "slots": {
                "type": "object",
                # Each slot says in a line what it holds, so a model can tell neighbours (state, country) apart.
                "properties": {"city": {"$ref": "#/$defs/slot_value", "description": "a city"},
                               "timeRange": {"$ref": "#/$defs/slot_value", "description": "a time or date"}},
                "additionalProperties": False,
            },
        },
        "required": ["intent", "slots"],
        "additionalProperties": False,
        "$defs": {"slot_value": value},
    }


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ({"intent": "GetWeather", "slots": {}}, True),
        ({"intent": "GetWeather", "slots": {"city": "Paris"}}, True),
        ({"intent": "GetWeather", "slots": {"city": ["Paris", "Lyon"]}}, True),
        ({"intent": "GetWeather", "slots": {"city": ["Paris"]}}, False),  # one value is a string
        ({"intent": "GetWeather", "slots": {"city": ""}}, False),
        ({"intent": "GetWeather", "slots": {"track": "x"}}, False),  # not a GetWeather slot
        ({"intent": "PlayMusic", "slots": {}}, False),
        ({"intent": "GetWeather"}, False),
    ],
)
def test_slot_schema_accepts_exactly_the_reference_shape(reference, valid):
    validator = jsonschema.Draft202012Validator(slot_schema("GetWeather", ["city"]))
    assert validator.is_valid(reference) is valid


def test_convert_hand_written_file(tmp_path):
    path = write_snips(
        tmp_path / "train_GetWeather.json",
        "GetWeather",
        [
            [
                {"text": "  will it rain "},
                {"text": " tomorrow ", "entity": "timeRange"},
                {"text": "  in\t"},
                {"text": "Paris", "entity": "city"},
                {"text": " or"},
                {"text": " Lyon", "entity": "city"},
                {"text": "? "},
            ],
            [{"text": "is it cold outside"}],
        ],
    )
    records, report = convert([path])

    schema = slot_schema("GetWeather", ["city", "timeRange"])
    assert records == {
        "GetWeather": [
            {
                "id": "snips-train_GetWeather-0000",
                "prompt": PROMPT_TEMPLATE.format(query="will it rain tomorrow in Paris or Lyon?"),
                "reference": {"intent": "GetWeather", "slots": {"timeRange": "tomorrow", "city": ["Paris", "Lyon"]}},
                "schema": schema,
                "meta": {
                    "dataset": "snips",
                    "intent": "GetWeather",
                    "text": "will it rain tomorrow in Paris or Lyon?",
                    "source_file": "train_GetWeather.json",
                    "source_index": 0,
                },
            },
            {
                "id": "snips-train_GetWeather-0001",
                "prompt": PROMPT_TEMPLATE.format(query="is it cold outside"),
                "reference": {"intent": "GetWeather", "slots": {}},
                "schema": schema,
                "meta": {
                    "dataset": "snips",
                    "intent": "GetWeather",
                    "text": "is it cold outside",
                    "source_file": "train_GetWeather.json",
                    "source_index": 1,
                },
            },
        ]
    }
    # Slots keep the order of first occurrence, not the schema's sorted order.
    assert list(records["GetWeather"][0]["reference"]["slots"]) == ["timeRange", "city"]
    assert report.files == [str(path)]
    assert report.rows_per_intent == {"GetWeather": 2}
    assert report.encoding_fixes == {}
    assert report.skipped == []


def test_prompt_template_is_one_line_with_the_query():
    assert "\n" not in PROMPT_TEMPLATE
    assert PROMPT_TEMPLATE.count("{query}") == 1


def test_latin1_file_keeps_its_accents_and_is_reported(tmp_path):
    path = write_snips(
        tmp_path / "train_BookRestaurant.json",
        "BookRestaurant",
        [[{"text": "book a table at "}, {"text": "Café Rouge", "entity": "restaurant_name"},
          {"text": " in "}, {"text": "Zürich", "entity": "city"}]],
        encoding="latin-1",
    )
    records, report = convert([path])

    (record,) = records["BookRestaurant"]
    assert record["meta"]["text"] == "book a table at Café Rouge in Zürich"
    assert record["reference"]["slots"] == {"restaurant_name": "Café Rouge", "city": "Zürich"}
    offset = path.read_bytes().index(b"\xe9")
    assert report.encoding_fixes == {
        "train_BookRestaurant.json": f"not UTF-8 (byte 0xE9 at offset {offset}): decoded as Latin-1"
    }


def test_latin1_fallback_repairs_the_utf8_strings_in_it(tmp_path):
    # A file mixing Latin-1 and UTF-8 strings: read as Latin-1, the UTF-8 ones are mojibake to undo.
    content = (
        b'{"PlayMusic": [{"data": [{"text": "play "}, {"text": "M\xc3\xbcller", "entity": "artist"},'
        b' {"text": " in "}, {"text": "Z\xfcrich", "entity": "city"}]}]}'
    )
    path = tmp_path / "train_PlayMusic.json"
    path.write_bytes(content)
    records, report = convert([path])

    assert records["PlayMusic"][0]["reference"]["slots"] == {"artist": "Müller", "city": "Zürich"}
    note = report.encoding_fixes["train_PlayMusic.json"]
    assert "decoded as Latin-1" in note
    assert "1 string(s) of UTF-8 read as Latin-1" in note


def test_double_encoded_utf8_is_repaired_and_reported(tmp_path):
    path = write_snips(tmp_path / "train_PlayMusic.json", "PlayMusic",
                       [[{"text": "play "}, {"text": "CafÃ© del Mar", "entity": "playlist"}]])
    records, report = convert([path])

    assert records["PlayMusic"][0]["reference"]["slots"] == {"playlist": "Café del Mar"}
    assert report.encoding_fixes == {
        "train_PlayMusic.json": "1 string(s) of UTF-8 read as Latin-1 (mojibake such as 'Ã©') repaired"
    }


def test_cesu8_surrogate_pair_becomes_one_character(tmp_path):
    # The bytes train_PlayMusic_full.json holds for U+1F355: UTF-8 of the surrogates D83C and DF55.
    content = (b'{"PlayMusic": [{"data": [{"text": "play "},'
               b' {"text": "Pizza \xed\xa0\xbc\xed\xbd\x95", "entity": "playlist"}]}]}')
    path = tmp_path / "train_PlayMusic.json"
    path.write_bytes(content)
    records, report = convert([path])

    assert records["PlayMusic"][0]["reference"]["slots"] == {"playlist": "Pizza \U0001F355"}
    note = report.encoding_fixes["train_PlayMusic.json"]
    first_bad = content.index(b"\xed")
    assert f"offset {first_bad}" in note
    assert "1 CESU-8 surrogate pair(s)" in note and "U+1F355" in note


def test_folder_input_reads_every_json_file_sorted_and_ids_keep_file_and_position(tmp_path):
    write_snips(tmp_path / "validate_RateBook.json", "RateBook",
                [[{"text": "rate "}, {"text": "it", "entity": "object_select"}]])
    write_snips(tmp_path / "train_RateBook.json", "RateBook",
                [[{"text": "give it five"}], [{"text": "rate this book"}]])
    write_snips(tmp_path / "train_GetWeather.json", "GetWeather", [[{"text": "weather"}]])
    (tmp_path / "notes.txt").write_text("not a SNIPS file")
    records, report = convert([tmp_path])

    assert [Path(name).name for name in report.files] == [
        "train_GetWeather.json", "train_RateBook.json", "validate_RateBook.json"]
    assert list(records) == ["GetWeather", "RateBook"]
    assert [r["id"] for r in records["RateBook"]] == [
        "snips-train_RateBook-0000", "snips-train_RateBook-0001", "snips-validate_RateBook-0000"]
    assert [(r["meta"]["source_file"], r["meta"]["source_index"]) for r in records["RateBook"]] == [
        ("train_RateBook.json", 0), ("train_RateBook.json", 1), ("validate_RateBook.json", 0)]
    # The schema covers the slots of every file of the intent.
    assert records["RateBook"][0]["schema"] == slot_schema("RateBook", ["object_select"])
    assert report.rows_per_intent == {"GetWeather": 1, "RateBook": 3}


def test_bad_rows_are_skipped_and_reported_and_keep_positions(tmp_path):
    content = {"GetWeather": [
        {"data": [{"text": "  "}, {"text": "\t"}]},
        {"data": [{"text": "weather in "}, {"text": " ", "entity": "city"}]},
        {"no_data": []},
        {"data": [{"entity": "city"}]},
        {"data": [{"text": "weather in "}, {"text": "Oslo", "entity": ""}]},
        {"data": [{"text": "weather in "}, {"text": "Oslo", "entity": "city"}]},
        {"data": [{"text": "lone \ud83c"}]},
    ]}
    path = tmp_path / "train_GetWeather.json"
    path.write_text(json.dumps(content))
    records, report = convert([path])

    assert [r["id"] for r in records["GetWeather"]] == ["snips-train_GetWeather-0005"]
    assert report.rows_per_intent == {"GetWeather": 1}
    name = "train_GetWeather.json"
    assert report.skipped == [
        SkippedRow(name, 0, "query has no text"),
        SkippedRow(name, 1, "slot 'city' (segment 1) has no text"),
        SkippedRow(name, 2, "no 'data' list of segments"),
        SkippedRow(name, 3, "segment 0 has no 'text' string"),
        SkippedRow(name, 4, "segment 1 has an empty or non-string 'entity'"),
        SkippedRow(name, 6, "query holds an unpaired UTF-16 surrogate"),
    ]
    assert "skipped 6 row(s)" in report.summary()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"A": [], "B": []}', "exactly one intent"),
        (b'[{"data": []}]', "exactly one intent"),
        (b'{"A": {"data": []}}', "must be a list of queries"),
        (b'{"../A": []}', "letters, digits and underscores"),
        (b'{"A": [', "not JSON"),
    ],
)
def test_files_that_are_not_snips_raise(tmp_path, content, message):
    path = tmp_path / "train_A.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        convert([path])


def test_the_same_file_twice_raises(tmp_path):
    path = write_snips(tmp_path / "train_A.json", "A", [[{"text": "hi"}]])
    with pytest.raises(ValueError, match="duplicate record id 'snips-train_A-0000'"):
        convert([path, tmp_path])


def test_missing_source_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        convert([tmp_path / "absent.json"])
    with pytest.raises(FileNotFoundError, match="no \\*.json file"):
        convert([tmp_path])


def test_write_converted_round_trips_through_read_jsonl(tmp_path):
    source = write_snips(tmp_path / "train_GetWeather.json", "GetWeather",
                         [[{"text": "rain in "}, {"text": "Paris", "entity": "city"}, {"text": " and "},
                           {"text": "Lyon", "entity": "city"}], [{"text": "is it cold"}]])
    records, _ = convert([source])
    counts = write_converted(records, tmp_path / "out")

    assert counts == {"GetWeather": 2}
    loaded, load_report = read_jsonl(tmp_path / "out" / "GetWeather.jsonl")
    assert loaded == records["GetWeather"]
    assert load_report.bad_rows == [] and load_report.duplicate_ids == []


# --- the shipped data/snips ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_conversion():
    """convert() on the shared SNIPS training files; fails (not skips) when they are missing."""
    if not SHARED_SNIPS.is_dir():
        pytest.fail(f"shared SNIPS data not found at {SHARED_SNIPS}: the shipped data/snips cannot be "
                    "checked against its source (CI provides it beside the repository)")
    return convert([SHARED_SNIPS])


@pytest.fixture
def schema_checked_once_per_schema(monkeypatch):
    """Check each distinct schema against the metaschema once instead of once per row.

    read_jsonl checks every row's schema (about 6 ms a row, 90 s for data/snips); the rows of a
    shipped file all carry the same schema, so one check per distinct schema checks them all.
    """
    original = jsonschema.Draft202012Validator.check_schema
    checked: set[str] = set()

    def check_once(schema, *args, **kwargs):
        key = json.dumps(schema, sort_keys=True)
        if key not in checked:
            original(schema, *args, **kwargs)
            checked.add(key)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema", staticmethod(check_once))


def test_shipped_files_are_exactly_what_convert_writes(shared_conversion, tmp_path):
    records, _ = shared_conversion
    write_converted(records, tmp_path)
    shipped = sorted(path.name for path in SHIPPED.glob("*.jsonl"))
    assert shipped == sorted(f"{intent}.jsonl" for intent in records)
    for name in shipped:
        assert (SHIPPED / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"data/snips/{name} is stale: regenerate it with "
            "jsontune data snips ../shared/data/snips -o data/snips")


def test_shared_conversion_counts_and_report(shared_conversion):
    _, report = shared_conversion
    assert report.rows_per_intent == EXPECTED_COUNTS
    assert sum(report.rows_per_intent.values()) == 13_784
    assert report.skipped == []
    assert list(report.encoding_fixes) == ["train_PlayMusic_full.json"]
    assert "1 CESU-8 surrogate pair(s)" in report.encoding_fixes["train_PlayMusic_full.json"]


def test_shipped_files_pass_read_jsonl(schema_checked_once_per_schema):
    for intent, count in EXPECTED_COUNTS.items():
        path = SHIPPED / f"{intent}.jsonl"
        assert path.stat().st_size < MAX_FILE_BYTES, f"{path} is over 5 MB"
        records, report = read_jsonl(path)
        assert len(records) == count
        assert report.duplicate_ids == []
        assert {json.dumps(r["schema"]) for r in records} == {json.dumps(records[0]["schema"])}
        assert all(r["reference"]["intent"] == intent for r in records)


def test_shipped_emoji_row_is_repaired():
    with (SHIPPED / "PlayMusic.jsonl").open(encoding="utf-8") as handle:
        record = next(json.loads(line) for line in handle if '"snips-train_PlayMusic_full-0461"' in line)
    assert record["reference"]["slots"] == {"playlist": "Pop Punk Perfection \U0001F355", "service": "Deezer"}


def test_datasheet_lists_each_file_with_its_count_and_hash():
    datasheet = (SHIPPED / "README.md").read_text(encoding="utf-8")
    rows = dict(
        (name, (int(count.replace(",", "")), sha))
        for name, count, sha in re.findall(r"^\| `(\w+)\.jsonl` \| ([\d,]+) \| [^|]+ \| `([0-9a-f]{64})` \|$",
                                           datasheet, flags=re.MULTILINE)
    )
    assert rows == {
        intent: (count, hashlib.sha256((SHIPPED / f"{intent}.jsonl").read_bytes()).hexdigest())
        for intent, count in EXPECTED_COUNTS.items()
    }
    assert (SHIPPED / "LICENSE").read_text(encoding="utf-8").startswith("CC0 1.0 Universal")

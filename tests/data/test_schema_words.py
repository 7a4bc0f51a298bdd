"""Schema words: the answer follows what the schema says in words, worked out by hand for each rule."""

from __future__ import annotations

import dataclasses
import json
import random

import jsonschema

from jsontune.data.synthetic import Augmentation, generate_records
from jsontune.data.synthetic.schema_words import describe

DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
SCHEMA = {
    "type": "object",
    "properties": {
        "guest": {"type": "string", "minLength": 1},
        "city": {"type": "string", "minLength": 1},
        "check_in": DATE,
        "arrival": TIME,
        "extras": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "rate": {"type": "number", "minimum": 0},
        "duration_min": {"type": "number"},
        "breakfast": {"type": "boolean"},
        "phone": {"type": "string", "minLength": 1},
        "room": {"type": "string", "enum": ["single", "double", "suite"]},
    },
    "required": ["guest", "city", "check_in", "arrival", "extras", "rate", "duration_min", "breakfast", "phone"],
    "additionalProperties": False,
}
REFERENCE = {"guest": "Carla Lopez", "city": "Boston", "check_in": "2024-03-02", "arrival": "14:30",
             "extras": ["parking", "late checkout"], "rate": 22.49, "duration_min": 90, "breakfast": True,
             "phone": "201-555-0134"}

# What each description asks for, written out by hand for REFERENCE's values.
DATES = {"MM/DD/YYYY": "03/02/2024", "DD/MM/YYYY": "02/03/2024", "DD.MM.YYYY": "02.03.2024",
         "YYYY-MM-DD": "2024-03-02", "month name": "March 2, 2024"}
NAMES = {"Last name only": "Lopez", "First name only": "Carla", "last name first": "Lopez, Carla",
         "as 'Carla Lopez'": "Carla Lopez"}
CITIES = {"its country, e.g.": "Boston, United States", "country code": "Boston, US", "city name only": "Boston",
          "city and state": "Boston, MA"}
PHONES = {"digits only": "2015550134", "E.164": "+12015550134", "(201)": "(201) 555-0134"}
DURATIONS = {"seconds": 5400, "minutes": 90}


def _which(description: str, table: dict) -> object:
    (value,) = [value for words, value in table.items() if words in description]
    return value


def _many():
    for seed in range(300):
        schema, reference, applied = describe(SCHEMA, REFERENCE, random.Random(seed))
        yield schema, reference, applied


def test_every_rewrite_follows_its_description_and_keeps_the_schema_valid() -> None:
    seen: dict[str, set] = {}
    for schema, reference, applied in _many():
        jsonschema.Draft202012Validator(schema).validate(reference)
        properties = schema["properties"]
        for rule in applied:
            seen.setdefault(rule, set())
        if "date_format" in applied:
            expected = _which(properties["check_in"]["description"], DATES)
            assert reference["check_in"] == expected
            seen["date_format"].add(expected)
        if "person_name" in applied:
            seen["person_name"].add(reference["guest"])
            assert reference["guest"] == _which(properties["guest"]["description"], NAMES)
        if "city_region" in applied:
            seen["city_region"].add(reference["city"])
            assert reference["city"] == _which(properties["city"]["description"], CITIES)
        if "phone_format" in applied:
            seen["phone_format"].add(reference["phone"])
            assert reference["phone"] == _which(properties["phone"]["description"], PHONES)
        if "time_format" in applied:
            seen["time_format"].add(reference["arrival"])
            twelve = "12-hour" in properties["arrival"]["description"]
            assert reference["arrival"] == ("2:30 PM" if twelve else "14:30")
        if "comma_list" in applied:
            assert reference["extras"] == "parking, late checkout"
            assert "comma" in properties["extras"]["description"].lower()
        if "cents" in applied:
            assert reference["rate"] == 2249 and "cents" in properties["rate"]["description"]
        if "unit" in applied:
            # The unit moves from the key into the description.
            assert "duration_min" not in reference and "duration" in schema["required"]
            assert reference["duration"] == _which(properties["duration"]["description"], DURATIONS)
            seen["unit"].add(reference["duration"])
        if "yes_no" in applied:
            assert reference["breakfast"] == "yes" and properties["breakfast"]["enum"] == ["yes", "no"]
    assert len(seen["date_format"]) == len(DATES)
    assert seen["person_name"] == set(NAMES.values())
    assert seen["city_region"] == set(CITIES.values())
    assert seen["phone_format"] == set(PHONES.values())
    assert seen["time_format"] == {"2:30 PM", "14:30"}
    assert seen["unit"] == {5400, 90}
    assert {"comma_list", "cents", "yes_no", "default", "described"} <= set(seen)


def test_a_default_is_never_written_and_an_optional_key_stays_out() -> None:
    defaults = 0
    for schema, reference, applied in _many():
        room = schema["properties"]["room"]
        assert "room" not in reference  # the text never gave it
        if "default" in room:
            defaults += 1
            assert room["default"] in room["enum"] and "default" in applied
    assert defaults > 0


def test_the_inputs_are_left_as_they_were() -> None:
    schema, reference = json.loads(json.dumps(SCHEMA)), json.loads(json.dumps(REFERENCE))
    for _ in _many():
        pass
    assert (schema, reference) == (SCHEMA, REFERENCE)


def test_the_same_sentence_under_other_words_gets_another_answer() -> None:
    only = dataclasses.replace(Augmentation.none(), schema_words=True)
    worded, plain = generate_records(30, augmentation=only), generate_records(30, augmentation=Augmentation.none())
    changed = 0
    value_rules = {"date_format", "time_format", "comma_list", "cents", "unit", "yes_no", "city_region",
                   "phone_format"}
    for with_words, without in zip(worded, plain):
        assert with_words["prompt"] == without["prompt"]
        if not with_words["meta"]["schema_words"]:
            assert with_words == without
            continue
        assert with_words["schema"] != without["schema"]
        if set(with_words["meta"]["schema_words"]) & value_rules:
            changed += with_words["reference"] != without["reference"]
    assert changed > 50


def test_a_record_without_a_schema_states_every_fact_as_its_text_does() -> None:
    only = dataclasses.replace(Augmentation.none(), schema_free=True)
    records = [r for r in generate_records(60, augmentation=only) if r["meta"]["task"] == "schema_free"]
    assert len(records) > 50
    for record in records:
        assert "schema" not in record
        if record["meta"]["keys_named"]:
            assert all(f"'{key}'" in record["prompt"] for key in record["reference"])
    orders = [r for r in records if r["meta"]["shape"] == "order_items"]
    # The shape's schema leaves the store out; without a schema nothing says to.
    assert orders and all(r["reference"]["store"] in r["prompt"] for r in orders)
    written_dates = [v for r in records for v in r["reference"].values()
                     if isinstance(v, str) and any(m in v for m in ("January", "March", "October", "December"))]
    assert written_dates  # dates as the text writes them, not ISO

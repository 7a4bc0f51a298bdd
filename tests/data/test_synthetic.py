"""The embedded synthetic dataset: contract-valid, deterministic, learnable, and the shipped file in sync."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jsontune.data.contract import read_jsonl, write_jsonl
from jsontune.data.synthetic import (
    DATASET_FILENAME,
    DEFAULT_PER_DOMAIN,
    DEFAULT_SEED,
    DOMAINS,
    INSTRUCTIONS,
    ORDER_ITEMS,
    Augmentation,
    everyday_domains,
    generate_records,
    work_domains,
    write_dataset,
)
from jsontune.data.synthetic.declarative import Count, Domain, F, Items, Noun, Pick, Shape
from tests import REPO

REPO_ROOT = REPO
SHIPPED_DIR = REPO_ROOT / "data" / "synthetic"
SWITCHES = [f.name for f in dataclasses.fields(Augmentation)]

# Written out here rather than imported so the test does not trust the code under test.
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")(?:-(" + "|".join(NUMBER_WORDS) + r"))?\b", re.I)
DECLARED = everyday_domains.DOMAINS + work_domains.DOMAINS
# Every (singular, plural) pair a sentence may write: the reference holds the singular.
PLURALS = dict(ORDER_ITEMS) | {
    singular: plural for domain in DECLARED for spec in domain.fields.values()
    for kind in [spec.kind, *getattr(spec.kind, "fields", {}).values()] if isinstance(kind, Noun)
    for singular, plural in kind.pairs
}
STYLE_WORDS = {"camelCase": "camelCase", "PascalCase": "PascalCase", "labels": "form's"}


@pytest.fixture(scope="module")
def default_records() -> list[dict]:
    return generate_records(DEFAULT_PER_DOMAIN, DEFAULT_SEED)


@pytest.fixture(scope="module")
def schema_records(default_records: list[dict]) -> list[dict]:
    """The records that carry a schema (all but the schema-free ones)."""
    return [record for record in default_records if "schema" in record]


def walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair of a JSON value, the root as (None, value)."""
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        key, node = stack.pop()
        yield key, node
        if isinstance(node, dict):
            stack.extend(node.items())
        elif isinstance(node, list):
            stack.extend((None, item) for item in node)


def keys_of(value: Any) -> list[str]:
    return [key for key, _ in walk(value) if key is not None]


def schema_keys(schema: dict) -> set[str]:
    return {name for key, node in walk(schema) if key == "properties" and isinstance(node, dict) for name in node}


def digits_for_words(text: str) -> str:
    def number(match: re.Match) -> str:
        tens, ones = match.group(1).lower(), match.group(2)
        return str(NUMBER_WORDS[tens] + (NUMBER_WORDS[ones.lower()] if ones else 0))

    return NUMBER_WORD_RE.sub(number, text)


def test_records_pass_the_data_contract(tmp_path: Path) -> None:
    records = generate_records(20, seed=5)
    path = tmp_path / "records.jsonl"
    write_jsonl(path, records)
    loaded, report = read_jsonl(path)  # raises DataError on any bad row, a reference failing its schema included
    assert loaded == records
    assert report.duplicate_ids == []
    assert {r["meta"]["key_style"] for r in loaded} == {"snake_case", "camelCase", "PascalCase", "labels"}


def test_every_default_record_satisfies_its_schema(schema_records: list[dict]) -> None:
    # read_jsonl re-checks each schema per row (seconds for the full set); cache one validator per schema.
    validators: dict[str, jsonschema.Draft202012Validator] = {}
    for record in schema_records:
        schema = record["schema"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        text = json.dumps(schema, sort_keys=True)
        if text not in validators:
            jsonschema.Draft202012Validator.check_schema(schema)
            validators[text] = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
        validators[text].validate(record["reference"])
        for _, node in walk(schema):
            if isinstance(node, dict) and node.get("type") == "object":
                # A function's parameters leave it unset, as real function schemas do; every other object is closed.
                if node is schema and record["meta"]["task"] == "function_call":
                    assert "additionalProperties" not in node
                else:
                    assert node["additionalProperties"] is False
                assert set(node["required"]) <= set(node["properties"])


def test_reference_keys_follow_schema_order(schema_records: list[dict]) -> None:
    # A stable key order gives one canonical target per record.
    def check(value: Any, schema: dict) -> None:
        if isinstance(value, dict):
            schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "object"), schema)
            order = list(schema["properties"])
            assert list(value) == [key for key in order if key in value]
            for key, item in value.items():
                check(item, schema["properties"][key])
        elif isinstance(value, list):
            for item in value:
                check(item, schema["items"])

    for record in schema_records:
        check(record["reference"], record["schema"])


def test_generation_is_deterministic_and_seeded() -> None:
    first = generate_records(15, seed=7)
    assert json.dumps(first) == json.dumps(generate_records(15, seed=7))
    assert generate_records(15, seed=8) != first
    # Record i does not depend on how many are generated.
    shorter = generate_records(5, seed=7)
    assert shorter == [r for r in first if int(r["id"].rsplit("-", 1)[1]) <= 5]


def test_domains_counts_and_ids(tmp_path: Path) -> None:
    assert len(DOMAINS) >= 40
    assert len(set(DOMAINS)) == len(DOMAINS)
    counts = write_dataset(tmp_path, per_domain=3, seed=1)
    assert counts == {domain: 3 for domain in DOMAINS}
    records, _ = read_jsonl(tmp_path / DATASET_FILENAME)
    assert [r["id"] for r in records[:3]] == ["orders-0001", "orders-0002", "orders-0003"]
    assert all(re.fullmatch(rf"{r['meta']['domain']}-\d{{4}}", r["id"]) for r in records)


def test_ids_are_unique(default_records: list[dict]) -> None:
    ids = [r["id"] for r in default_records]
    assert len(ids) == len(set(ids)) == DEFAULT_PER_DOMAIN * len(DOMAINS)


def test_shapes_cover_the_json_features(default_records: list[dict], schema_records: list[dict]) -> None:
    values = [node for r in default_records for _, node in walk(r["reference"])]
    assert any(isinstance(v, list) and v and all(isinstance(item, dict) for item in v) for v in values)
    assert any(v is None for v in values)
    assert any(isinstance(v, bool) for v in values)
    assert any(isinstance(v, int) and not isinstance(v, bool) for v in values)
    assert any(isinstance(v, float) and not v.is_integer() for v in values)
    assert any(isinstance(v, dict) and any(isinstance(item, dict) for item in v.values()) for v in values[1:])
    assert any("enum" in node for r in schema_records for _, node in walk(r["schema"]) if isinstance(node, dict))

    # Some optional property is present in some records of its shape and absent in others.
    seen: dict[tuple[str, str], set[bool]] = {}
    for record in schema_records:
        schema, value = record["schema"], record["reference"]
        if len(schema["properties"]) == 1 and isinstance(next(iter(value.values())), dict):
            (key, schema), = schema["properties"].items()
            value = value[key]
        for name in set(schema["properties"]) - set(schema["required"]):
            seen.setdefault((record["meta"]["shape"], name), set()).add(name in value)
    assert any(flags == {True, False} for flags in seen.values())
    shapes = {r["meta"]["shape"] for r in default_records}
    assert len(shapes) >= 150
    assert {r["meta"]["task"] for r in default_records} == {"extraction", "function_call", "form", "schema_free"}


def test_string_values_are_readable_from_the_prompt(default_records: list[dict]) -> None:
    # No hidden information: free-text values appear in the prompt (item types may be plural there).
    # Enum values, ISO dates and 24-hour times are normalised forms the text states differently; a value that a
    # schema's words reformat ("Lopez, Carla", "Lyon, France") is checked by tests/data/test_schema_words.py.
    for record in default_records:
        if record["meta"]["schema_words"]:
            continue
        enums = {v for _, node in walk(record.get("schema", {})) if isinstance(node, dict)
                 for v in node.get("enum", [])}
        for _, value in walk(record["reference"]):
            if not isinstance(value, str) or value in enums or re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", value):
                continue
            prompt, forms = record["prompt"], [value, PLURALS.get(value, value)]
            if "schema" not in record:  # an enum value without its schema: "midsize" for "mid-size", "suv" for "SUV"
                prompt, *forms = (re.sub(r"[^a-z0-9]", "", text.lower()) for text in (prompt, *forms))
            assert any(form in prompt for form in forms), (record["id"], value)


def test_augmentation_defaults_and_none() -> None:
    assert all(getattr(Augmentation(), name) for name in SWITCHES)
    assert not any(getattr(Augmentation.none(), name) for name in SWITCHES)


def test_no_augmentation_is_plain() -> None:
    records = generate_records(30, augmentation=Augmentation.none())
    prefix = INSTRUCTIONS[0].split("{text}")[0]
    for record in records:
        if record["meta"]["task"] == "extraction":
            assert record["prompt"].startswith(prefix) and record["prompt"].endswith("'")
        assert not any(style in record["prompt"] for style in STYLE_WORDS.values())
        assert record["meta"]["schema_variants"] == []
        assert NUMBER_WORD_RE.search(record["prompt"]) is None
        assert record["meta"]["augmentations"] == []
        assert record["meta"]["key_style"] == "snake_case"
        assert all(key == key.lower() for key in keys_of(record["reference"]))


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_alone_changes_the_output(switch: str) -> None:
    plain = generate_records(20, augmentation=Augmentation.none())
    only = generate_records(20, augmentation=dataclasses.replace(Augmentation.none(), **{switch: True}))
    assert only != plain
    assert all(r["meta"]["augmentations"] in ([], [switch]) for r in only)
    assert any(r["meta"]["augmentations"] == [switch] for r in only)
    # Untouched records come out exactly as without the switch.
    for with_switch, without in zip(only, plain):
        if not with_switch["meta"]["augmentations"]:
            assert with_switch == without
    # Turning the switch off in the full set changes it too.
    everything_but = dataclasses.replace(Augmentation(), **{switch: False})
    assert generate_records(20, augmentation=everything_but) != generate_records(20)


def test_every_key_style_is_announced_in_the_prompt(default_records: list[dict]) -> None:
    styled = [r for r in default_records if r["meta"]["key_style"] != "snake_case"]
    assert styled and len(styled) < len(default_records)
    for record in default_records:
        style = record["meta"]["key_style"]
        if style != "snake_case":
            assert STYLE_WORDS[style] in record["prompt"]
            assert "key_styles" in record["meta"]["augmentations"]
            assert not any("_" in key for key in keys_of(record["reference"]))
        else:
            assert not any(word in record["prompt"] for word in ("camelCase", "PascalCase"))
            assert all(key == key.lower() and " " not in key for key in keys_of(record["reference"]))
    keys = {style: "".join(keys_of(r["reference"])) for r in styled for style in [r["meta"]["key_style"]]}
    assert re.search(r"[a-z][A-Z]", keys["camelCase"]) and keys["PascalCase"][0].isupper() and " " in keys["labels"]


def test_a_schema_variant_changes_the_answer_but_not_the_sentence() -> None:
    only = dataclasses.replace(Augmentation.none(), schema_variants=True)
    varied, plain = generate_records(40, augmentation=only), generate_records(40, augmentation=Augmentation.none())
    seen: set[str] = set()
    for with_variant, without in zip(varied, plain):
        variants = with_variant["meta"]["schema_variants"]
        assert with_variant["prompt"] == without["prompt"]
        if not variants:
            assert with_variant == without
            continue
        seen |= set(variants)
        assert with_variant["schema"] != without["schema"]
        leaves = sorted(json.dumps(v) for _, v in walk(with_variant["reference"]) if not isinstance(v, (dict, list)))
        plain_leaves = sorted(json.dumps(v) for _, v in walk(without["reference"]) if not isinstance(v, (dict, list)))
        if "enum_style" in variants:  # enum values restyled: compared by the key-style tests' rules instead
            pass
        elif "subset" in variants:  # one field (a value, or an object or list of them) left out
            assert set(leaves) <= set(plain_leaves) and len(leaves) < len(plain_leaves)
        else:  # renamed, unwrapped or flattened: the same values, other keys
            assert leaves == plain_leaves
        if "synonyms" in variants:
            assert schema_keys(with_variant["schema"]) - schema_keys(without["schema"])
    assert seen == {"subset", "unwrapped", "flattened", "synonyms", "enum_style"}


def test_a_function_call_names_its_function_and_leaves_its_parameters_unclosed(default_records: list[dict]) -> None:
    calls = [r for r in default_records if r["meta"]["task"] == "function_call"]
    assert len({r["meta"]["shape"] for r in calls}) >= 20
    for record in calls:
        assert record["meta"]["shape"] in record["prompt"]
        assert "additionalProperties" not in record["schema"]


def test_a_shape_that_names_a_field_its_domain_lacks_is_refused() -> None:
    fields = {"name": F(Pick(("a", "b")), "named {v}")}
    with pytest.raises(ValueError, match="shape broken: no field 'colour'"):
        Domain("toys", fields, (Shape("broken", "name colour?"),), intros=("Toy",))


def test_an_item_of_one_is_written_in_the_singular() -> None:
    import random

    from jsontune.data.synthetic.text import Numbers

    kind = Items({"name": Noun((("loaf of bread", "loaves of bread"),)), "quantity": Count(1, 2)}, "{quantity} {name}")
    for seed in range(20):
        drawn = kind.draw(random.Random(seed), Numbers(as_words=False))
        for item, text in zip(drawn.value, drawn.text.replace(" and ", ", ").split(", ")):
            assert text == ("1 loaf of bread" if item["quantity"] == 1 else "2 loaves of bread")


def test_numbers_as_words_still_give_integers() -> None:
    words_only = dataclasses.replace(Augmentation.none(), numbers_as_words=True)
    worded = generate_records(40, augmentation=words_only)
    plain = generate_records(40, augmentation=Augmentation.none())
    used = [(w, p) for w, p in zip(worded, plain) if w["meta"]["augmentations"] == ["numbers_as_words"]]
    assert used
    for with_words, with_digits in used:
        assert NUMBER_WORD_RE.search(with_words["prompt"])
        # Only the way numbers are written differs; the reference is the same, integers included.
        assert with_words["reference"] == with_digits["reference"]
        assert digits_for_words(with_words["prompt"]) == with_digits["prompt"]

    # One concrete case: an order whose quantities are words in the prompt and integers in the reference.
    order = next(w for w, _ in used if w["meta"]["shape"] == "order_items")
    for item in order["reference"]["order"]["items"]:
        quantity = item["quantity"]
        assert type(quantity) is int
        word = next(name for name, n in NUMBER_WORDS.items() if n == quantity)
        noun = item["type"] if quantity == 1 else PLURALS[item["type"]]
        assert re.search(rf"\b{word} {noun}\b", order["prompt"], re.I), (order["prompt"], quantity)


def test_number_words_match_meta(default_records: list[dict]) -> None:
    for record in default_records:
        has_words = NUMBER_WORD_RE.search(record["prompt"]) is not None
        assert has_words == ("numbers_as_words" in record["meta"]["augmentations"]), record["id"]


def test_shipped_file_matches_the_generator(tmp_path: Path, default_records: list[dict]) -> None:
    shipped = SHIPPED_DIR / DATASET_FILENAME
    regenerated = tmp_path / DATASET_FILENAME
    write_jsonl(regenerated, default_records)
    assert shipped.read_bytes() == regenerated.read_bytes(), (
        "data/synthetic/records.jsonl is stale: regenerate it with: jsontune data generate -o data/synthetic --overwrite"
    )
    assert shipped.stat().st_size < 4 * 1024 * 1024


def test_datasheet_states_the_shipped_hash_and_counts() -> None:
    datasheet = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((SHIPPED_DIR / DATASET_FILENAME).read_bytes()).hexdigest()
    assert digest in datasheet
    for domain in DOMAINS:
        assert re.search(rf"\|\s*`?{domain}`?\s*\|[^\n]*\b{DEFAULT_PER_DOMAIN}\b", datasheet), domain


def test_addresses_and_messages_keep_their_commas_and_punctuation_in_the_answer(default_records: list[dict]) -> None:
    # A value with a town and postcode after a comma, or a sentence with its capitals and full stop, is copied whole:
    # data that never held one taught a model to cut "410 Maple Avenue, Palo Alto, CA 94301" at its first comma.
    copied = {value for record in default_records for _, value in walk(record["reference"])
              if isinstance(value, str) and (", " in value or value[-1:] in ".!?") and value in record["prompt"]}
    assert {"22 Oak Road, Leeds LS6 2AB", "Union Station, Denver", "Running 15 minutes late, start without me."} <= copied

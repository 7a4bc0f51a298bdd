"""Every metric pinned on hand-made cases; the arithmetic is in the comments (and in docs/metrics.md)."""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
import pytest

from jsontune.evaluation.metrics import (
    METRIC_NAMES,
    QUALITY_WEIGHTS,
    aggregate,
    bootstrap_ci,
    cluster_bootstrap_ci,
    duplicate_keys,
    exact_match,
    fact_f1,
    field_scores,
    flatten,
    implied_schema,
    row_metrics,
    schema_valid,
    semantic_similarity,
    structure_similarity,
    tree_similarity,
)
from jsontune.evaluation.slot_metrics import SLOT_METRIC_NAMES, is_slot_record, published_slot_counts, slot_counts

approx = pytest.approx
UNPARSEABLE = "I am sorry, I cannot do that."


def test_names_and_weights():
    assert METRIC_NAMES == ("strict_parse_rate", "parse_rate", "schema_adherence", "structure_similarity",
                            "exact_match", "field_precision", "field_recall", "field_f1", "tree_similarity",
                            "semantic_similarity", "quality_score", "fact_f1")
    assert SLOT_METRIC_NAMES == ("slot_precision", "slot_recall", "slot_f1", "slot_precision_published",
                                 "slot_recall_published", "slot_f1_published", "intent_accuracy")
    assert math.isclose(sum(QUALITY_WEIGHTS.values()), 1.0)
    assert set(QUALITY_WEIGHTS) == {"parse_ok", "schema_valid", "structure_similarity", "field_f1", "tree_similarity",
                                    "semantic_similarity"}


# --------------------------------------------------------------------------- facts and duplicate keys

def test_fact_f1_counts_the_values_captured_wherever_the_answer_put_them():
    reference = {"customer": "Carla", "store": "supply store",
                 "items": [{"type": "notebook", "quantity": 5}, {"type": "pen", "quantity": 10}]}
    # Keys of the model's own choosing: 5 of the 6 reference values (all but "supply store"), 5 of the 6 predicted
    # ("Supply" is not "supply store"): F1 = 2*5 / (6 + 6). Strings compare case-folded, numbers as floats.
    prediction = {"buyer": "carla", "shop": "Supply", "notebooks": 5.0, "pens": 10, "notebook": "Notebook",
                  "what": "pen"}
    assert fact_f1(prediction, reference) == approx(2 * 5 / (6 + 6))
    assert fact_f1({"buyer": "carla", "shop": "Supply", "notebooks": 5, "pens": 10, "item": "pen"},
                   reference) == approx(2 * 4 / (5 + 6))
    assert fact_f1({}, reference) == 0.0
    row = row_metrics(json.dumps(prediction), reference)
    assert row["fact_f1"] == approx(10 / 12) and row["field_f1"] < row["fact_f1"]


def test_a_key_written_twice_in_one_object_is_counted_though_the_parser_keeps_one():
    assert duplicate_keys('{"a": 1, "a": 2, "b": {"c": 1, "c": 1, "c": 3}}') == 3
    assert duplicate_keys('Here it is: [{"a": 1}, {"a": 2}] done') == 0  # one key per object
    assert duplicate_keys("no JSON at all") == 0
    repeated = row_metrics('{"name": "Ann", "name": "Ann", "age": 3}', {"name": "Ann", "age": 3})
    clean = row_metrics('{"name": "Ann", "age": 3}', {"name": "Ann", "age": 3})
    # The parsed value is the same: only the count tells them apart.
    assert repeated["parsed"] == clean["parsed"] and repeated["duplicate_keys"] == 1 and clean["duplicate_keys"] == 0
    unparsed = row_metrics(UNPARSEABLE, {"a": 1})
    assert aggregate([repeated, clean, unparsed], n_resamples=0)["duplicate_key_rate"] == 0.5  # of parsed answers


# --------------------------------------------------------------------------- field scores

def test_flatten_paths_and_normalised_leaves():
    assert flatten({"a": {"b": [1, " X  y "]}, "c": {}, "d": []}) == [
        ("a.b[0]", ("float", 1.0)), ("a.b[1]", ("str", "x y")), ("c", "<empty>{}"), ("d", "<empty>[]")]


def test_field_scores_docstring_example():
    # leaves {a:1, b[0]:x, b[1]:y} vs {a:1, b[0]:x, c:2}: 2 shared of 3 on each side -> P = R = F1 = 2/3
    scores = field_scores({"a": 1, "b": ["x"], "c": 2}, {"a": 1, "b": ["x", "y"]})
    assert scores == approx({"field_precision": 2 / 3, "field_recall": 2 / 3, "field_f1": 2 / 3})


def test_field_scores_partial_credit_missing_key():
    # prediction has 1 of the 3 reference leaves and nothing else: P = 1/1, R = 1/3, F1 = 2*1*(1/3)/(4/3) = 0.5
    scores = field_scores({"a": 1}, {"a": 1, "b": 2, "c": 3})
    assert scores == approx({"field_precision": 1.0, "field_recall": 1 / 3, "field_f1": 0.5})


def test_field_scores_nested_lists_type_mismatch_and_order():
    # m[0][0], m[0][1] shared; m[1][0] 3 vs 4 differs -> 2/3 everywhere
    assert field_scores({"m": [[1, 2], [4]]}, {"m": [[1, 2], [3]]})["field_f1"] == approx(2 / 3)
    assert field_scores({"a": 5}, {"a": "5"})["field_f1"] == 0.0  # number vs string
    assert field_scores({"a": True}, {"a": 1})["field_f1"] == 0.0  # bool vs number
    assert field_scores({"a": 5.0}, {"a": 5})["field_f1"] == 1.0
    assert field_scores({"l": ["b", "a"]}, {"l": ["a", "b"]})["field_f1"] == 0.0  # list order matters
    assert field_scores({"b": 2, "a": 1}, {"a": 1, "b": 2})["field_f1"] == 1.0  # key order does not
    assert field_scores({}, {})["field_f1"] == 1.0
    assert field_scores({}, {"a": 1}) == {"field_precision": 0.0, "field_recall": 0.0, "field_f1": 0.0}


# --------------------------------------------------------------------------- structure

def test_structure_similarity():
    # prediction {a:object, a.b:array, a.b[]:number, a.b[]:string} vs reference {a:object, a.b:array, a.b[]:number}
    # -> 3 shared / 4 in the union
    assert structure_similarity({"a": {"b": [1, "2"]}}, {"a": {"b": [1, 2]}}) == 0.75
    assert structure_similarity({"a": {"b": [7, 8, 9]}}, {"a": {"b": [1, 2]}}) == 1.0  # values ignored
    assert structure_similarity({"b": 1, "a": 2}, {"a": 1, "b": 2}) == 1.0
    assert structure_similarity({"a": 1, "b": 2}, {"a": 1}) == 0.5  # {a, b} vs {a}
    assert structure_similarity({"x": 5}, {"x": "5"}) == 0.0  # x:number vs x:string
    assert structure_similarity({"x": True}, {"x": 1}) == 0.0  # x:boolean vs x:number
    assert structure_similarity(5, 7) == 1.0  # no paths, same root type
    assert structure_similarity(5, "5") == 0.0
    assert structure_similarity({}, {}) == 1.0
    assert structure_similarity({}, []) == 0.0
    # {} vs {"a": 1}: {} vs {a:number} -> 0 / 1
    assert structure_similarity({}, {"a": 1}) == 0.0


def test_exact_match():
    assert exact_match({"a": 5.0, "b": [1, 2]}, {"b": [1, 2], "a": 5})  # key order, 5.0 == 5
    assert not exact_match([2, 1], [1, 2])
    assert not exact_match({"a": True}, {"a": 1})
    assert not exact_match({"a": 1.5}, {"a": 1})
    assert not exact_match({"a": "X"}, {"a": "x"})  # strings as written
    assert not exact_match(5, "5")
    assert exact_match({}, {}) and not exact_match({}, [])


# --------------------------------------------------------------------------- tree and semantic similarity

def test_tree_similarity():
    ref = {"a": 1, "b": "x"}  # tree {} -> key:a -> 1, key:b -> "x": 5 nodes
    assert tree_similarity(ref, ref) == 1.0
    assert tree_similarity({"b": "x", "a": 1.0}, ref) == 1.0  # keys sorted, 1.0 labelled 1
    assert tree_similarity({"a": 1, "b": "y"}, ref) == approx(0.8)  # 1 rename / 5 nodes
    assert tree_similarity({"a": 1}, ref) == approx(0.6)  # delete key:b and its leaf: 2 / 5
    assert tree_similarity({"a": 1, "b": "  X "}, ref) == 1.0  # leaf strings normalised
    assert tree_similarity({"x": True}, {"x": 1}) == approx(2 / 3)  # 1 rename ("true" vs "1") / 3 nodes
    assert tree_similarity({"x": "5"}, {"x": 5}) == approx(2 / 3)
    # {} key:m [] [] 1 2 [] 3: 8 nodes, one leaf renamed
    assert tree_similarity({"m": [[1, 2], [4]]}, {"m": [[1, 2], [3]]}) == approx(7 / 8)
    # {} key:l [] "a" "b": swapping the items costs 2 renames / 5 nodes
    assert tree_similarity({"l": ["b", "a"]}, {"l": ["a", "b"]}) == approx(0.6)
    assert tree_similarity({}, []) == 0.0 and tree_similarity({}, {}) == 1.0


def test_semantic_similarity():
    # name: ratio("karla", "carla") = 1 - 2/10 = 0.8 (Indel distance 2 over 10 characters); qty: 5.0 == 5 -> 1
    assert semantic_similarity({"name": "Karla", "qty": 5.0}, {"name": "Carla", "qty": 5}) == approx(0.9)
    assert semantic_similarity({"a": "x"}, {"a": "x", "b": "y"}) == 0.5  # b missing -> 0
    assert semantic_similarity({"a": "x", "c": "z"}, {"a": "x"}) == 0.5  # c extra -> 0
    assert semantic_similarity({"a": 5}, {"a": "5"}) == 0.0
    assert semantic_similarity({"a": 6}, {"a": 5}) == 0.0
    assert semantic_similarity({"a": True}, {"a": 1}) == 0.0
    assert semantic_similarity({"a": " HELLO  world"}, {"a": "hello world"}) == 1.0
    assert semantic_similarity({}, {}) == 1.0
    assert semantic_similarity({"l": ["b", "a"]}, {"l": ["a", "b"]}) == 0.0  # positions compared


# --------------------------------------------------------------------------- schema

PERSON = {"name": "Bob", "age": 30, "tags": [], "address": {"city": "Oslo"}}


def test_implied_schema_shape():
    assert implied_schema({"a": 1, "b": [1.5], "c": {}}) == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "array", "items": {"type": "number"}},
            "c": {"type": "object", "properties": {}, "additionalProperties": False},
        },
        "required": ["a", "b", "c"],
        "additionalProperties": False,
    }


def test_implied_schema_accepts_reference_and_rejects_deviations():
    assert schema_valid(PERSON, None, PERSON)
    assert schema_valid({**PERSON, "age": 30.0}, None, PERSON)  # integers and floats are both numbers
    assert schema_valid({**PERSON, "age": 31.5, "tags": ["x", 1]}, None, PERSON)  # empty list: any array
    assert not schema_valid({**PERSON, "extra": 1}, None, PERSON)  # extra key
    assert not schema_valid({**PERSON, "address": {"city": "Oslo", "zip": "0150"}}, None, PERSON)  # nested extra
    assert not schema_valid({k: v for k, v in PERSON.items() if k != "age"}, None, PERSON)  # missing key
    assert not schema_valid({**PERSON, "age": "30"}, None, PERSON)  # wrong type
    assert not schema_valid({**PERSON, "age": True}, None, PERSON)  # a boolean is not a number
    assert not schema_valid([PERSON], None, PERSON)
    # items of a list require the keys they all share and allow the union
    ref = {"items": [{"x": 1}, {"x": 2, "y": "s"}]}
    assert schema_valid(ref, None, ref)
    assert schema_valid({"items": [{"x": 3}]}, None, ref)
    assert not schema_valid({"items": [{"y": "s"}]}, None, ref)
    assert not schema_valid({"items": [{"x": 1, "z": 0}]}, None, ref)


@pytest.mark.parametrize("reference", [
    PERSON, {"a": [1, 2.5, "x", None, True]}, {"a": [[1], ["x", {"b": {}}]]}, [], [{}], 5, "s", None,
    {"l": [{"x": [1]}, {"x": [], "y": None}]},
])
def test_a_reference_satisfies_its_implied_schema(reference):
    assert schema_valid(reference, None, reference)


def test_record_schema_with_format_and_dialect():
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}, "required": ["d"]}
    assert schema_valid({"d": "2024-02-29"}, schema, None)
    assert not schema_valid({"d": "2024-02-30"}, schema, None)  # format asserted: no such date
    assert not schema_valid({"d": "tomorrow"}, schema, None)
    # the record's schema wins over the implied one: an extra key is fine here
    assert schema_valid({"d": "2024-01-01", "extra": 1}, schema, {"d": "2024-01-01"})
    # $schema honoured: draft-07 tuple "items" (invalid in 2020-12)
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
              "items": [{"type": "integer"}, {"type": "string"}]}
    assert schema_valid([1, "a"], draft7, None)
    assert not schema_valid([1, 2], draft7, None)


# --------------------------------------------------------------------------- rows

def test_row_metrics_worked_example():
    ref = {"name": "Carla", "qty": 5}
    row = row_metrics('{"name": "Karla", "qty": 5}', ref)
    # parse 1, schema 1, structure 1, field F1 1/2, tree 0.8 (1 rename / 5 nodes), semantic 0.9
    # quality = 0.10 + 0.15 + 0.10 + 0.30*0.5 + 0.15*0.8 + 0.20*0.9 = 0.80
    assert row["parsed"] == {"name": "Karla", "qty": 5}
    assert row["strict_parse"] and row["parse_ok"] and row["repair_reason"] is None
    assert row["schema_valid"] is True and row["exact_match"] is False
    assert row["structure_similarity"] == 1.0
    assert row["field_f1"] == approx(0.5)
    assert row["tree_similarity"] == approx(0.8)
    assert row["semantic_similarity"] == approx(0.9)
    assert row["quality_score"] == approx(0.80)
    assert "slot_counts" not in row
    json.dumps(row)


def test_row_metrics_perfect_and_unparseable():
    ref = {"a": [1, {"b": "x"}]}
    perfect = row_metrics(json.dumps(ref), ref)
    assert perfect["exact_match"] is True and perfect["quality_score"] == approx(1.0)
    bad = row_metrics(UNPARSEABLE, ref)
    assert bad["parsed"] is None and bad["parse_ok"] is False and bad["strict_parse"] is False
    assert isinstance(bad["repair_reason"], str)
    assert bad["schema_valid"] is False and bad["exact_match"] is False
    for key in ("structure_similarity", "field_precision", "field_recall", "field_f1", "tree_similarity",
                "semantic_similarity", "quality_score"):
        assert bad[key] == 0.0, key
    json.dumps(bad)


def test_row_metrics_fenced_output_is_repaired_not_strict():
    ref = {"a": 1}
    row = row_metrics('```json\n{"a": 1}\n```', ref)
    assert row["strict_parse"] is False and row["parse_ok"] is True
    assert row["parsed"] == ref and row["exact_match"] is True and row["quality_score"] == approx(1.0)
    assert row["repair_reason"] is None  # a reason is given only when nothing could be recovered


def test_row_metrics_uses_record_schema():
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    assert row_metrics('{"d": "2024-13-01"}', {"d": "2024-12-01"}, schema)["schema_valid"] is False
    assert row_metrics('{"d": "2024-11-01"}', {"d": "2024-12-01"}, schema)["schema_valid"] is True


# --------------------------------------------------------------------------- slot records

def test_is_slot_record():
    assert is_slot_record({"intent": "PlayMusic", "slots": {"artist": "Adele", "x": ["a", "b"]}})
    assert is_slot_record({"intent": "PlayMusic", "slots": {}})
    assert not is_slot_record({"intent": "PlayMusic", "slots": {}, "text": "x"})
    assert not is_slot_record({"intent": 1, "slots": {}})
    assert not is_slot_record({"intent": "X", "slots": {"n": 5}})
    assert not is_slot_record({"intent": "X", "slots": {"n": ["a", 5]}})
    assert not is_slot_record({"intent": "X", "slots": []})
    assert not is_slot_record(["intent", "slots"])


def test_slot_counts():
    ref = {"intent": "PlayMusic", "slots": {"artist": ["Simon", "Garfunkel"], "service": "Spotify"}}
    pred = {"intent": "PlayMusic", "slots": {"artist": "  SIMON ", "service": "Deezer", "album": None}}
    # artist: simon matched, garfunkel missed; service: deezer wrong, spotify missed; album: null is a wrong prediction
    assert slot_counts(pred, ref) == {"album": [0, 1, 0], "artist": [1, 0, 1], "service": [0, 1, 1]}
    # multisets: one "a" predicted, two expected
    assert slot_counts({"slots": {"s": ["a"]}}, {"intent": "X", "slots": {"s": ["a", "a"]}}) == {"s": [1, 0, 1]}
    assert slot_counts({"slots": {"s": ["a", "a", 3]}}, {"intent": "X", "slots": {"s": "a"}}) == {"s": [1, 2, 0]}
    # nothing usable predicted: every reference pair is a false negative
    assert slot_counts(None, ref) == {"artist": [0, 0, 2], "service": [0, 0, 1]}
    assert slot_counts({"slots": ["Simon"]}, ref) == {"artist": [0, 0, 2], "service": [0, 0, 1]}


def test_the_published_counts_skip_a_misclassified_query_and_match_values_as_written():
    ref = {"intent": "PlayMusic", "slots": {"artist": ["Simon", "Garfunkel"], "service": "Spotify"}}
    right = {"intent": "PlayMusic", "slots": {"artist": "  SIMON ", "service": "Spotify", "album": None}}
    # "  SIMON " is not "Simon" as written: a false positive, and both artists are missed; null is a false positive
    assert published_slot_counts(right, ref) == {"album": [0, 1, 0], "artist": [0, 1, 2], "service": [1, 0, 0]}
    # a wrong intent, an answer without one, or no answer: the query is not scored at all
    assert published_slot_counts({**right, "intent": "AddToPlaylist"}, ref) == {}
    assert published_slot_counts({"slots": right["slots"]}, ref) == {}
    assert published_slot_counts(None, ref) == {}
    # matched by existence, not as multisets (ours counts these [1, 0, 1] and [1, 2, 0])
    assert published_slot_counts({"intent": "X", "slots": {"s": "a"}}, {"intent": "X", "slots": {"s": ["a", "a"]}}) \
        == {"s": [2, 0, 0]}
    assert published_slot_counts({"intent": "X", "slots": {"s": ["a", "a", 3]}}, {"intent": "X", "slots": {"s": "a"}}) \
        == {"s": [1, 1, 0]}
    # the right intent but no slots object: every reference value is missed
    no_slots = {"intent": "X", "slots": ["a"]}
    assert published_slot_counts(no_slots, {"intent": "X", "slots": {"s": "a"}}) == {"s": [0, 0, 1]}


# A corpus of 2 intents. Per row: (output, reference slots, predicted intent is right?)
SLOT_CORPUS = [
    # PlayMusic 1: artist tp (case-folded); service Deezer fp, Spotify fn -> row micro F1 2*1/(2+1+1) = 0.5
    ("PlayMusic", {"artist": "Adele", "service": "Spotify"},
     '{"intent": "PlayMusic", "slots": {"artist": "adele", "service": "Deezer"}}'),
    # PlayMusic 2: artist tp; album fp (a slot no PlayMusic reference has: weight 0) -> 2/(2+1) = 2/3
    ("PlayMusic", {"artist": "Queen"},
     '{"intent": "PlayMusic", "slots": {"artist": "Queen", "album": "Jazz"}}'),
    # PlayMusic 3, wrong intent (slots still count): artist 1 tp + 1 fn; service tp -> 4/(4+1) = 0.8
    ("PlayMusic", {"artist": ["Simon", "Garfunkel"], "service": "Spotify"},
     '{"intent": "AddToPlaylist", "slots": {"artist": "Simon", "service": "spotify"}}'),
    # GetWeather 1, unparseable: city fn -> row slot F1 0
    ("GetWeather", {"city": "Paris"}, UNPARSEABLE),
    # GetWeather 2: city tp; timeRange 3 is not a string: fp, and "tomorrow" fn -> 2/(2+1+1) = 0.5
    ("GetWeather", {"city": "Oslo", "timeRange": "tomorrow"},
     '{"intent": "GetWeather", "slots": {"city": "Oslo", "timeRange": 3}}'),
]


def _slot_rows():
    return [row_metrics(output, {"intent": intent, "slots": slots}) for intent, slots, output in SLOT_CORPUS]


def test_slot_rows():
    rows = _slot_rows()
    assert [r["slot_f1"] for r in rows] == approx([0.5, 2 / 3, 0.8, 0.0, 0.5])
    assert [r["intent_correct"] for r in rows] == [True, True, False, False, True]
    assert rows[1]["slot_counts"] == {"album": [0, 1, 0], "artist": [1, 0, 0]}
    assert rows[3]["slot_counts"] == {"city": [0, 0, 1]}
    assert rows[0]["reference_intent"] == "PlayMusic"
    empty = row_metrics('{"intent": "X", "slots": {}}', {"intent": "X", "slots": {}})
    assert empty["slot_f1"] == 1.0 and empty["slot_counts"] == {}  # nothing to find, nothing predicted


def test_slot_protocol_by_hand():
    result = aggregate(_slot_rows())
    # PlayMusic totals: artist tp 3 fp 0 fn 1 (P 1, R 3/4, F1 6/7, weight 4); service tp 1 fp 1 fn 1 (P R F1 1/2,
    # weight 2); album tp 0 fp 1 fn 0 (weight 0).
    #   P = (4*1 + 2*1/2)/6 = 5/6; R = (4*3/4 + 2*1/2)/6 = 2/3; F1 = (4*6/7 + 2*1/2)/6 = 31/42
    # GetWeather totals: city tp 1 fp 0 fn 1 (P 1, R 1/2, F1 2/3, weight 2); timeRange tp 0 fp 1 fn 1 (all 0, weight 1)
    #   P = 2/3; R = (2*1/2)/3 = 1/3; F1 = (2*2/3)/3 = 4/9
    # Mean over the 2 intents: P = (5/6 + 2/3)/2 = 3/4; R = (2/3 + 1/3)/2 = 1/2; F1 = (31/42 + 4/9)/2 = 149/252
    assert result["n_slot_rows"] == 5
    assert result["slot_precision"] == approx(0.75)
    assert result["slot_recall"] == approx(0.5)
    assert result["slot_f1"] == approx(149 / 252)
    assert result["intent_accuracy"] == approx(3 / 5)
    for name in ("slot_precision", "slot_recall", "slot_f1", "intent_accuracy"):
        low, high = result["ci"][name]
        assert low <= result[name] + 1e-12 and result[name] <= high + 1e-12, name
    json.dumps(result)


def test_the_published_protocol_by_hand_leaves_out_misclassified_queries():
    rows = _slot_rows()
    result = aggregate(rows)
    # PlayMusic 1: "adele" is not "Adele": artist fp 1 fn 1; service fp 1 fn 1. PlayMusic 2: artist tp; album fp.
    # PlayMusic 3 (wrong intent) and GetWeather 1 (unparseable): not scored. GetWeather 2: city tp; timeRange fp fn.
    # PlayMusic: artist tp 1 fp 1 fn 1 (P R F1 1/2, weight 2); service 0 (weight 1) -> P = R = F1 = (2*1/2)/3 = 1/3
    # GetWeather: city 1 (weight 1); timeRange 0 (weight 1) -> 1/2. Mean over the intents: (1/3 + 1/2)/2 = 5/12
    for figure in ("slot_precision", "slot_recall", "slot_f1"):
        assert result[f"{figure}_published"] == approx(5 / 12), figure
    # Some resamples draw only the two unscored queries, where the figure is undefined: no interval.
    assert result["ci"]["slot_f1_published"] is None
    # rows scored before the protocol existed hold their answer and reference instead: the same figures
    old = [{k: v for k, v in row.items() if k != "published_slot_counts"}
           | {"reference": {"intent": intent, "slots": slots}} for row, (intent, slots, _) in zip(rows, SLOT_CORPUS)]
    assert aggregate(old)["slot_f1_published"] == approx(5 / 12)
    assert aggregate(old)["slot_f1"] == approx(149 / 252)


def test_slot_protocol_edge_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = aggregate([_slot_rows()[0]])
        # no reference slot anywhere: the protocol has nothing to weight -> undefined (None), interval None
        empty = aggregate([row_metrics('{"intent": "X", "slots": {"a": "b"}}', {"intent": "X", "slots": {}})] * 2)
        # defined on the rows, undefined on resamples that draw only the slot-free row -> interval None
        partly = aggregate([_slot_rows()[1], row_metrics('{"intent": "X", "slots": {}}', {"intent": "X", "slots": {}})])
    # one PlayMusic row: artist P R F1 1 (weight 1), service P R F1 0 (weight 1) -> 1/2 each
    assert single["slot_f1"] == 0.5 and single["ci"]["slot_f1"] == [0.5, 0.5]
    assert empty["slot_f1"] is None and empty["ci"]["slot_f1"] is None
    assert empty["intent_accuracy"] == 1.0 and empty["n_slot_rows"] == 2
    assert partly["slot_f1"] == 1.0 and partly["ci"]["slot_f1"] is None  # artist tp 1; album has weight 0
    json.dumps(empty)


def test_slot_metrics_only_over_slot_rows():
    rows = _slot_rows() + [row_metrics('{"a": 1}', {"a": 1})]
    result = aggregate(rows)
    assert result["n"] == 6 and result["n_slot_rows"] == 5
    assert result["slot_f1"] == approx(149 / 252)
    assert "slot_f1" not in aggregate([row_metrics('{"a": 1}', {"a": 1})])


# --------------------------------------------------------------------------- aggregate

def test_aggregate_means_and_cis():
    ref = {"name": "Carla", "qty": 5}
    rows = [row_metrics('{"name": "Karla", "qty": 5}', ref), row_metrics(json.dumps(ref), ref),
            row_metrics('```json\n{"name": "Carla", "qty": 5}\n```', ref), row_metrics(UNPARSEABLE, ref)]
    result = aggregate(rows)
    assert result["n"] == 4
    assert result["strict_parse_rate"] == 0.5  # 2 of 4
    assert result["parse_rate"] == 0.75
    assert result["schema_adherence"] == 0.75
    assert result["exact_match"] == 0.5
    assert result["field_f1"] == approx((0.5 + 1 + 1 + 0) / 4)
    assert result["quality_score"] == approx((0.8 + 1 + 1 + 0) / 4)
    assert set(result["ci"]) == set(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert isinstance(result[name], float)
        low, high = result["ci"][name]
        assert isinstance(low, float) and isinstance(high, float)
        assert low <= result[name] <= high, name
    assert aggregate(rows) == result  # same seed, same intervals
    json.dumps(result)


def test_aggregate_constant_sample_and_single_row():
    ref = {"a": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = aggregate([row_metrics('{"a": 1}', ref)])
        same = aggregate([row_metrics('{"a": 2}', ref)] * 3)
    assert one["n"] == 1 and one["ci"]["quality_score"] == [one["quality_score"]] * 2
    assert same["ci"]["field_f1"] == [0.0, 0.0]
    assert same["ci"]["quality_score"] == [same["quality_score"]] * 2


def test_aggregate_without_intervals():
    rows = _slot_rows()
    quick = aggregate(rows, n_resamples=0)
    assert quick["ci"] == {}
    full = aggregate(rows)
    assert {k: v for k, v in quick.items() if k != "ci"} == {k: v for k, v in full.items() if k != "ci"}


def test_aggregate_empty():
    assert aggregate([]) == {"n": 0, **dict.fromkeys(METRIC_NAMES), "invented_key_rate": None, "ci": {}}


def test_bootstrap_ci():
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    low, high = bootstrap_ci(values)
    assert 0.0 <= low <= np.mean(values) <= high <= 1.0
    assert bootstrap_ci(values, seed=0) == [low, high]
    assert bootstrap_ci(values, statistic=np.median) == bootstrap_ci(values, statistic=np.median)
    # paired comparison: the interval of the per-row differences between two models
    a, b = np.array([0.9, 0.8, 1.0, 0.7, 0.9]), np.array([0.5, 0.6, 0.9, 0.7, 0.4])
    low, high = bootstrap_ci(a - b)
    assert 0.0 <= low <= np.mean(a - b) <= high
    assert bootstrap_ci([0.3]) == [0.3, 0.3]
    assert bootstrap_ci([0.1, 0.1, 0.1]) == [float(np.mean([0.1, 0.1, 0.1]))] * 2
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([0.0, 1.0], n_resamples=0)


def test_aggregate_500_rows_is_fast():
    rng = np.random.default_rng(1)
    rows = []
    for i in range(500):
        if i % 2:
            ref = {"order": {"customer": "Carla", "items": [{"type": "pen", "quantity": int(rng.integers(1, 9))}]}}
            rows.append(row_metrics(json.dumps(ref) if rng.random() < 0.7 else '{"order": {"customer": "Karl"}}', ref))
        else:
            intent = ["PlayMusic", "GetWeather", "RateBook"][i % 3]
            ref = {"intent": intent, "slots": {f"s{int(rng.integers(5))}": "v", f"t{int(rng.integers(5))}": "w"}}
            out = {"intent": intent, "slots": {f"s{int(rng.integers(5))}": "v", "t1": "w"}}
            rows.append(row_metrics(json.dumps(out), ref))
    start = time.perf_counter()
    result = aggregate(rows)
    elapsed = time.perf_counter() - start
    assert result["n_slot_rows"] == 250 and 0.0 < result["slot_f1"] < 1.0
    assert elapsed < 5.0, elapsed


ITEM = {"type": "object", "properties": {"x": {"type": "integer"}}}
NESTED = {"type": "object",
          "properties": {"a": {"type": "object", "properties": {"b": {}}},
                         "list": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                         "map": {"type": "object", "additionalProperties": {"type": "integer"}},
                         "free": {"type": "object"},
                         "either": {"anyOf": [{"properties": {"p": {}}}, {"properties": {"p": {}, "q": {}}}]}},
          "$defs": {"item": ITEM}}


@pytest.mark.parametrize("answer, expected", [
    ({"a": {"b": 1}}, 0),
    ({"a": {"b": 1, "c": 2}, "d": 3}, 2),  # a.c and d
    ({"list": [{"x": 1}, {"x": 2, "y": 3}, {"z": 4}]}, 2),  # through the $ref, per item
    ({"map": {"any": 1, "key": 2}, "free": {"whatever": {"deep": 1}}}, 0),  # a typed map and a free object
    ({"either": {"p": 1, "q": 2}}, 0),  # the anyOf branch that declares most
    ({"either": {"p": 1, "r": 2}}, 1),
])
def test_invented_keys_counts_the_keys_a_schema_does_not_declare_at_any_depth(answer, expected):
    from jsontune.evaluation.metrics import invented_keys

    assert invented_keys(answer, NESTED) == expected
    assert invented_keys(answer, None) is None


def test_the_invented_key_rate_is_the_share_of_answers_with_a_schema_that_hold_one():
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    rows = [row_metrics(text, {"city": "Oslo"}, schema) for text in
            ('{"city": "Oslo"}', '{"city": "Oslo", "country": "Norway"}', "not json")]
    rows.append(row_metrics('{"city": "Oslo", "x": 1}', {"city": "Oslo"}))  # no schema: not counted
    assert [row["invented_keys"] for row in rows] == [0, 1, 0, None]
    result = aggregate(rows)
    assert result["invented_key_rate"] == pytest.approx(1 / 3)
    assert result["ci"]["invented_key_rate"][0] <= 1 / 3 <= result["ci"]["invented_key_rate"][1]


def test_an_interval_over_domains_is_wider_than_one_over_rows_when_rows_of_a_domain_agree():
    values = [0.0] * 10 + [1.0] * 10  # two domains, each all wrong or all right
    domains = ["a"] * 10 + ["b"] * 10
    assert cluster_bootstrap_ci(values, domains) == [0.0, 1.0]  # a resample holds a, b, or both
    low, high = bootstrap_ci(values)
    assert 0.2 < low < high < 0.8
    with pytest.raises(ValueError, match="one cluster per value"):
        cluster_bootstrap_ci([1.0, 0.0], ["a"])

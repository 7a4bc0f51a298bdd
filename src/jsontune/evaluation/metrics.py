"""Scores of generated JSON against a reference: one implementation for the CLI, `evaluate`, training and reports.

Every figure is defined (with a worked example) in docs/metrics.md. In short, per row:
parse rates (strict and after repair), schema adherence, structure similarity (typed key paths),
exact match, field precision/recall/F1, tree similarity (normalised tree edit distance), semantic
similarity (fuzzy leaf-by-leaf), a weighted quality score, and for slot-filling records intent
accuracy and slot F1 following the published protocol (`jsontune.evaluation.slot_metrics`). `aggregate`
averages rows and adds bootstrap confidence intervals.

Fact F1 compares the multisets of leaf values alone, wherever they sit: it scores an answer whose keys are the
model's choice (a record without a schema) on the facts it captured. Duplicate keys (one key twice in one
object, which a JSON parser resolves silently by keeping the last) are counted per answer as a defect.

Field precision/recall/F1 compare the multisets of (path, value) leaves of the prediction and the
reference. Paths name object keys and list positions (`order.items[1].quantity`); values are
normalised (strings case-folded with whitespace collapsed, numbers compared as floats, so 5 == 5.0).
Example: reference {"a": 1, "b": ["x", "y"]} -> leaves {a: 1, b[0]: "x", b[1]: "y"}; prediction
{"a": 1, "b": ["x"], "c": 2} -> leaves {a: 1, b[0]: "x", c: 2}; 2 shared leaves, so precision 2/3,
recall 2/3, F1 2/3. Two empty containers match with F1 1; a prediction that does not parse scores 0.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from apted import APTED
from apted.helpers import Tree
from genson import SchemaBuilder
from rapidfuzz import fuzz
from scipy.stats import DegenerateDataWarning, bootstrap

from jsontune.data.schemas import DRAFT_2020_12, resolve_ref, validator
from jsontune.decoding.repair import Recovery, recover_json
from jsontune.evaluation.normalise import normalise_leaf
from jsontune.evaluation.slot_metrics import (
    PUBLISHED_SUFFIX,
    SLOT_FIGURES,
    SlotProtocol,
    is_slot_record,
    micro_f1,
    published_slot_counts,
    slot_counts,
)

# Weights of quality_score. Field F1 (are the values right?) carries the most; semantic similarity
# gives partial credit for near-miss strings; parsing, schema and shape are necessary but cheap to
# get right after fine-tuning, so they weigh less. Sum to 1, so the score lies in [0, 1].
QUALITY_WEIGHTS: dict[str, float] = {
    "parse_ok": 0.10,
    "schema_valid": 0.15,
    "structure_similarity": 0.10,
    "field_f1": 0.30,
    "tree_similarity": 0.15,
    "semantic_similarity": 0.20,
}

METRIC_NAMES: tuple[str, ...] = (
    "strict_parse_rate", "parse_rate", "schema_adherence", "structure_similarity", "exact_match",
    "field_precision", "field_recall", "field_f1", "tree_similarity", "semantic_similarity", "quality_score",
    "fact_f1",
)

# The share of answers holding a key their schema does not declare (over rows with a schema; `invented_keys`).
INVENTED_KEY_RATE = "invented_key_rate"
# The share of parsed answers holding one key twice in one object (`duplicate_keys`).
DUPLICATE_KEY_RATE = "duplicate_key_rate"

# Aggregate name -> per-row key, where they differ.
_ROW_KEY = {"strict_parse_rate": "strict_parse", "parse_rate": "parse_ok", "schema_adherence": "schema_valid"}
_ROW_QUALITY_KEYS = ("schema_valid", "structure_similarity", "exact_match", "field_precision", "field_recall",
                     "field_f1", "tree_similarity", "semantic_similarity", "quality_score", "fact_f1")

# A leaf-free container still counts as one leaf, so {} vs {"a": 1} is not a free match.
_EMPTY = "<empty>"


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def _canonical(value: Any, normalise_strings: bool = False) -> Any:
    """The value with integral floats as ints (5.0 -> 5); bools stay bools; strings optionally normalised."""
    if isinstance(value, dict):
        return {key: _canonical(item, normalise_strings) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item, normalise_strings) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if normalise_strings and isinstance(value, str):
        return normalise_leaf(value)
    return value


def _canonical_json(value: Any, normalise_strings: bool = False) -> str:
    return json.dumps(_canonical(value, normalise_strings), sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------- leaves and field scores

def flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, normalised leaf) pairs of a JSON value."""
    if isinstance(value, dict):
        if not value:
            return [(path, _EMPTY + "{}")]
        return [leaf for key, item in value.items() for leaf in flatten(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        if not value:
            return [(path, _EMPTY + "[]")]
        return [leaf for i, item in enumerate(value) for leaf in flatten(item, f"{path}[{i}]")]
    return [(path, (type(normalise_leaf(value)).__name__, normalise_leaf(value)))]


def field_scores(prediction: Any, reference: Any) -> dict[str, float]:
    """Field precision, recall and F1 of a parsed prediction against the reference.

    Reference {"a": 1, "b": ["x", "y"]}, prediction {"a": 1, "b": ["x"], "c": 2}: 2 of 3 leaves shared
    on each side, so precision = recall = F1 = 2/3.
    """
    predicted, expected = Counter(flatten(prediction)), Counter(flatten(reference))
    shared = sum((predicted & expected).values())
    precision = shared / sum(predicted.values())
    recall = shared / sum(expected.values())
    f1 = 0.0 if shared == 0 else 2 * precision * recall / (precision + recall)
    return {"field_precision": precision, "field_recall": recall, "field_f1": f1}


def fact_f1(prediction: Any, reference: Any) -> float:
    """F1 of the multisets of normalised leaf values, paths ignored: the facts an answer captured whatever keys
    it chose. Reference {"customer": "Carla", "items": [{"type": "pen", "quantity": 10}]}, prediction
    {"buyer": "Carla", "pens": 10}: 2 of 3 reference values ("Carla", 10) and 2 of 2 predicted, F1 0.8."""
    predicted = Counter(leaf for _, leaf in flatten(prediction))
    expected = Counter(leaf for _, leaf in flatten(reference))
    shared = sum((predicted & expected).values())
    return 0.0 if shared == 0 else 2 * shared / (sum(predicted.values()) + sum(expected.values()))


def duplicate_keys(output: str) -> int:
    """How many keys of the answer's objects repeat a key of the same object (0 when the text holds no JSON
    object a plain parser reads from its first brace or bracket)."""
    start = min((i for i in (output.find("{"), output.find("[")) if i >= 0), default=-1)
    if start < 0:
        return 0
    repeats = 0

    def pairs(items: list[tuple[str, Any]]) -> dict:
        nonlocal repeats
        repeats += len(items) - len({key for key, _ in items})
        return dict(items)

    try:
        json.JSONDecoder(object_pairs_hook=pairs).raw_decode(output, start)
    except (ValueError, RecursionError):
        return 0
    return repeats


# --------------------------------------------------------------------------- schema adherence

def _fix_inferred(schema: Any) -> Any:
    """genson's schema made strict: closed objects, "integer" widened to "number" (5.0 matches 5)."""
    if isinstance(schema, list):
        return [_fix_inferred(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed = {key: _fix_inferred(item) for key, item in schema.items()}
    kind = fixed.get("type")
    if kind == "integer":
        fixed["type"] = "number"
    elif isinstance(kind, list):
        kinds = sorted({"number" if k == "integer" else k for k in kind})
        fixed["type"] = kinds[0] if len(kinds) == 1 else kinds
    if fixed.get("type") == "object":
        # genson already requires every key of an object seen once; for items of a list it requires the
        # keys every item has, so the reference always satisfies its own implied schema.
        fixed.setdefault("properties", {})
        fixed["additionalProperties"] = False
    return fixed


def implied_schema(reference: Any) -> dict:
    """The JSON Schema (2020-12) a reference implies: same keys, all required and no others, same types.

    Inferred with genson, then closed: every object gets `additionalProperties: false`; integers and
    floats are both "number"; an empty list accepts any array; items of a list get the keys that all
    its items share as required, and the union as allowed.
    """
    builder = SchemaBuilder(schema_uri=None)
    builder.add_object(reference)
    schema = _fix_inferred(builder.to_schema())
    schema.pop("$schema", None)
    return {"$schema": DRAFT_2020_12, **schema}


def schema_valid(value: Any, schema: dict | None, reference: Any) -> bool:
    """Whether value satisfies the record's schema, or, without one, the schema the reference implies.

    The record's schema is read in the dialect its `$schema` names (2020-12 when absent), with format
    assertions on (a "date" must be a date). An invalid schema raises `jsonschema.SchemaError`.
    """
    if schema is None:
        schema = implied_schema(reference)
    return bool(validator(schema).is_valid(value))


# --------------------------------------------------------------------------- shape and similarity

def invented_keys(value: Any, schema: dict | None) -> int | None:
    """How many keys of a parsed answer its schema does not declare, at any depth; None without a schema.

    A key is declared by its object's `properties`, a matching `patternProperties`, or an
    `additionalProperties` subschema (a map of any keys); local `$ref`s are followed, `allOf` branches
    pooled, and of `anyOf`/`oneOf` branches the one that declares most is taken. An object whose schema lists
    no properties at all declares whatever it holds. It counts what a grammar left open lets a model pad an
    answer with: keys the user never asked for.
    """
    if schema is None:
        return None
    return _invented(value, schema, schema, 0)


def _invented(value: Any, node: Any, root: dict, depth: int) -> int:
    node, _ = resolve_ref(node, root, depth, max_refs=8)
    if depth > 32 or not node:
        return 0
    branches = [b for key in ("anyOf", "oneOf") for b in node.get(key) or []]
    if branches:
        return min(_invented(value, {**{k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}, **b}, root,
                             depth + 1) for b in branches)
    for branch in node.get("allOf") or []:  # pool the branches' properties into one node
        branch, _ = resolve_ref(branch, root, depth, max_refs=8)
        node = {**node, **branch, "properties": {**(node.get("properties") or {}), **(branch.get("properties") or {})}}
    if isinstance(value, list):
        items, prefix = node.get("items"), node.get("prefixItems") or []
        return sum(_invented(item, prefix[i] if i < len(prefix) else items, root, depth + 1)
                   for i, item in enumerate(value))
    if not isinstance(value, dict):
        return 0
    properties = node.get("properties") or {}
    patterns = node.get("patternProperties") or {}
    extra = node.get("additionalProperties")
    count = 0
    for key, item in value.items():
        if key in properties:
            count += _invented(item, properties[key], root, depth + 1)
            continue
        matching = [schema for pattern, schema in patterns.items() if _matches(pattern, key)]
        if matching:
            count += _invented(item, matching[0], root, depth + 1)
        elif isinstance(extra, dict):
            count += _invented(item, extra, root, depth + 1)
        elif properties or patterns:
            count += 1  # the object names its keys, and this is not one of them
    return count


def _matches(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False


def _typed_paths(value: Any, path: str, out: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            out.add((child, _json_type(item)))
            _typed_paths(item, child, out)
    elif isinstance(value, list):
        child = f"{path}[]"
        for item in value:
            out.add((child, _json_type(item)))
            _typed_paths(item, child, out)
    return out


def structure_similarity(prediction: Any, reference: Any) -> float:
    """Jaccard index of the typed key paths ({"a": {"b": [1]}} -> a:object, a.b:array, a.b[]:number).

    With no paths on either side (scalars, empty containers): 1.0 when the root types agree, else 0.0.
    """
    predicted, expected = _typed_paths(prediction, "", set()), _typed_paths(reference, "", set())
    if not predicted and not expected:
        return 1.0 if _json_type(prediction) == _json_type(reference) else 0.0
    return len(predicted & expected) / len(predicted | expected)


def exact_match(prediction: Any, reference: Any) -> bool:
    """Equal as canonical JSON: key order ignored, 5.0 == 5, true != 1, strings compared as written."""
    return _canonical_json(prediction) == _canonical_json(reference)


def _tree(value: Any) -> Tree:
    if isinstance(value, dict):
        return Tree("{}", *(Tree(f"key:{key}", _tree(value[key])) for key in sorted(value)))
    if isinstance(value, list):
        return Tree("[]", *(_tree(item) for item in value))
    return Tree(_canonical_json(value, normalise_strings=True))


def _tree_size(tree: Tree) -> int:
    return 1 + sum(_tree_size(child) for child in tree.children)


def tree_similarity(prediction: Any, reference: Any) -> float:
    """1 - tree edit distance (APTED, unit costs) / the larger tree's node count.

    Objects are "{}" nodes over "key:<k>" nodes (sorted by key) each holding its value; arrays are "[]"
    nodes over their items in order; leaves are labelled by normalised canonical JSON.
    """
    if _canonical_json(prediction, normalise_strings=True) == _canonical_json(reference, normalise_strings=True):
        return 1.0  # identical trees; skips APTED, the costliest step of a row
    left, right = _tree(prediction), _tree(reference)
    distance = APTED(left, right).compute_edit_distance()
    return 1.0 - distance / max(_tree_size(left), _tree_size(right))


def _leaf_similarity(a: Any, b: Any) -> float:
    if isinstance(a, tuple) and isinstance(b, tuple):
        if a[0] == b[0] == "str":
            return fuzz.ratio(a[1], b[1]) / 100.0
        if a[0] == b[0] == "float":
            return 1.0 if a[1] == b[1] else 0.0
    return 1.0 if a == b else 0.0


def semantic_similarity(prediction: Any, reference: Any) -> float:
    """Mean over the union of leaf paths of a per-leaf similarity (fuzzy for two strings, else equality)."""
    predicted, expected = dict(flatten(prediction)), dict(flatten(reference))
    paths = predicted.keys() | expected.keys()
    if not paths:
        return 1.0
    total = sum(_leaf_similarity(predicted[p], expected[p]) for p in paths if p in predicted and p in expected)
    return total / len(paths)


# --------------------------------------------------------------------------- per row

def row_metrics(output: str, reference: Any, schema: dict | None = None,
                recovery: Recovery | None = None) -> dict[str, Any]:
    """The per-row figures of one generated answer (JSON-serialisable).

    Keys: parsed, strict_parse, parse_ok, repair_reason, schema_valid, structure_similarity, exact_match,
    field_precision, field_recall, field_f1, tree_similarity, semantic_similarity, quality_score,
    invented_keys (keys the record's schema does not declare; None without a schema), fact_f1, duplicate_keys
    (keys repeated within one object of the answer's text); for slot
    records also reference_intent, intent_correct, slot_f1, slot_counts, published_slot_counts. Every
    quality figure is 0 (False) when the output cannot be parsed even after repair. `recovery` replaces the
    usual `recover_json(output)` (a constrained answer cut off by the token budget is rejected, not repaired).
    """
    rec = recovery if recovery is not None else recover_json(output)
    parsed = rec.value if rec.ok else None
    row: dict[str, Any] = {"parsed": parsed, "strict_parse": bool(rec.strict), "parse_ok": bool(rec.ok),
                           "repair_reason": rec.reason or None}
    if rec.ok:
        row.update({
            "schema_valid": schema_valid(parsed, schema, reference),
            "structure_similarity": structure_similarity(parsed, reference),
            "exact_match": exact_match(parsed, reference),
            **field_scores(parsed, reference),
            "tree_similarity": tree_similarity(parsed, reference),
            "semantic_similarity": semantic_similarity(parsed, reference),
            "invented_keys": invented_keys(parsed, schema),
            "fact_f1": fact_f1(parsed, reference),
            "duplicate_keys": duplicate_keys(output),
        })
    else:
        row.update(dict.fromkeys(_ROW_QUALITY_KEYS, 0.0), schema_valid=False, exact_match=False,
                   invented_keys=None if schema is None else 0, duplicate_keys=0)
    row["quality_score"] = sum(weight * float(row[key]) for key, weight in QUALITY_WEIGHTS.items())
    if is_slot_record(reference):
        counts = slot_counts(parsed if rec.ok else None, reference)
        row.update({
            "reference_intent": reference["intent"],
            "intent_correct": bool(rec.ok and isinstance(parsed, dict) and parsed.get("intent") == reference["intent"]),
            "slot_f1": micro_f1(counts) if rec.ok else 0.0,
            "slot_counts": counts,
            "published_slot_counts": published_slot_counts(parsed if rec.ok else None, reference),
        })
    return row


# --------------------------------------------------------------------------- aggregation

def _intervals(data: np.ndarray, statistic: Callable, confidence: float, n_resamples: int,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    point = np.asarray(statistic(data, axis=-1), dtype=float)
    if data.size == 1 or np.all(data == data[0]):
        # Every resample of a constant sample is the sample itself.
        return point, point
    with warnings.catch_warnings():
        # An interval with NaN (a statistic undefined on some resample) is reported as None by the caller.
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap((data,), statistic, n_resamples=n_resamples, vectorized=True, axis=-1,
                           confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
    return np.asarray(result.confidence_interval.low, dtype=float), np.asarray(result.confidence_interval.high,
                                                                             dtype=float)


def bootstrap_ci(values: Sequence[float] | np.ndarray, statistic: Callable | None = None, confidence: float = 0.95,
                 n_resamples: int = 1000, seed: int = 0) -> list[float]:
    """Percentile bootstrap interval [low, high] of `statistic` (default: the mean) over a 1-D sample.

    `statistic(sample, axis=-1)` must be vectorised like numpy's reductions. The resamples come from
    `numpy.random.default_rng(seed)`, so the same inputs give the same interval. A constant sample (n == 1
    included) gives [v, v]. For a paired comparison of two models, pass the per-row differences.
    Raises ValueError on an empty sample.
    """
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0:
        raise ValueError("bootstrap_ci needs a non-empty 1-D sample")
    if n_resamples < 1:
        raise ValueError("bootstrap_ci needs n_resamples >= 1")
    low, high = _intervals(data, statistic or np.mean, confidence, n_resamples, seed)
    return [float(low), float(high)]


def cluster_bootstrap_ci(values: Sequence[float], clusters: Sequence[str], confidence: float = 0.95,
                         n_resamples: int = 1000, seed: int = 0) -> list[float]:
    """Percentile bootstrap interval [low, high] of the mean over rows, resampling whole clusters (domains), not rows.

    Rows of one cluster are not independent (one domain's rows share its schema and its phrasing), so resampling
    rows would give an interval too narrow for the question "on other domains like these"; each resample draws as
    many clusters as there are, with replacement, and takes the mean over all the rows they hold. For a paired
    comparison pass the per-row differences. Raises ValueError on an empty sample or mismatched lengths.
    """
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0 or len(clusters) != data.size:
        raise ValueError("cluster_bootstrap_ci needs a non-empty 1-D sample and one cluster per value")
    _, index = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    sums, counts = np.bincount(index, weights=data), np.bincount(index)
    picks = np.random.default_rng(seed).integers(0, len(sums), size=(n_resamples, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return [float(low), float(high)]


def _interval_or_none(low: float, high: float) -> list[float] | None:
    return None if np.isnan(low) or np.isnan(high) else [float(low), float(high)]


def _row_intent(row: dict) -> str:
    if "reference_intent" in row:
        return row["reference_intent"]
    return row["reference"]["intent"]


def _published_counts(row: dict) -> dict[str, list[int]]:
    """A row's counts by the published protocol; rows scored before that protocol was added carry their answer
    and reference, from which they are counted the same way."""
    if "published_slot_counts" in row:
        return row["published_slot_counts"]
    return published_slot_counts(row.get("parsed") if row.get("parse_ok") else None, row["reference"])


def row_value(row: dict, name: str) -> float:
    """A row's figure for an aggregate name; fact F1 recounted from the answer for rows scored before it existed."""
    key = _ROW_KEY.get(name, name)
    if key == "fact_f1" and key not in row:
        return fact_f1(row.get("parsed"), row.get("reference")) if row.get("parse_ok") else 0.0
    return float(row[key])


def aggregate(rows: list[dict], confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Means over rows of the per-row figures, with bootstrap confidence intervals.

    Returns {"n", each of METRIC_NAMES, "invented_key_rate" (None when no row has a schema),
    "duplicate_key_rate" (of parsed answers; None when none parsed), "ci": {name:
    [low, high]}} and, when some rows are slot records,
    the SLOT_METRIC_NAMES over those rows (slot precision/recall/F1 by our protocol, and with the suffix
    `_published` by the published one: `jsontune.evaluation.slot_metrics`) and
    "n_slot_rows". With no rows every metric is None and "ci" is empty; n_resamples=0 skips the intervals
    ("ci" empty), for cheap figures during training.
    """
    n = len(rows)
    if n == 0:
        return {"n": 0, **dict.fromkeys(METRIC_NAMES), INVENTED_KEY_RATE: None, "ci": {}}
    result: dict[str, Any] = {"n": n}
    ci: dict[str, list[float] | None] = {}
    with_ci = n_resamples > 0
    for name in METRIC_NAMES:
        values = np.array([row_value(row, name) for row in rows])
        result[name] = float(np.mean(values))
        if with_ci:
            ci[name] = bootstrap_ci(values, confidence=confidence, n_resamples=n_resamples, seed=seed)
    with_schema = [row["invented_keys"] for row in rows if row.get("invented_keys") is not None]
    # The share of answers (of rows with a schema) holding at least one key the schema does not declare (a row that
    # pools several seeds holds that share already: `seed_pooling`).
    invented = [min(float(count), 1.0) for count in with_schema]
    result[INVENTED_KEY_RATE] = float(np.mean(invented)) if with_schema else None
    if with_ci and with_schema:
        ci[INVENTED_KEY_RATE] = bootstrap_ci(invented, confidence=confidence, n_resamples=n_resamples, seed=seed)
    parsed_rows = [row for row in rows if row.get("parse_ok")]
    # Rows scored before duplicate keys were counted carry no count: the rate covers the rows that do.
    counted = [min(float(row["duplicate_keys"]), 1.0) for row in parsed_rows if row.get("duplicate_keys") is not None]
    result[DUPLICATE_KEY_RATE] = float(np.mean(counted)) if counted else None
    slot_rows = [row for row in rows if row.get("slot_counts") is not None]
    if slot_rows:
        intents_of_rows = [_row_intent(row) for row in slot_rows]
        for suffix, counts in (("", [row["slot_counts"] for row in slot_rows]),
                               (PUBLISHED_SUFFIX, [_published_counts(row) for row in slot_rows])):
            protocol = SlotProtocol(intents_of_rows, counts)
            index = np.arange(len(slot_rows))
            point = protocol(index)
            defined = not np.isnan(point).any()  # all three are NaN together: no reference slot occurrence at all
            bounds = _intervals(index, protocol, confidence, n_resamples, seed) if defined and with_ci else None
            for i, figure in enumerate(SLOT_FIGURES):
                name = figure + suffix
                result[name] = float(point[i]) if defined else None
                if with_ci:
                    ci[name] = _interval_or_none(bounds[0][i], bounds[1][i]) if bounds else None
        intents = np.array([float(row["intent_correct"]) for row in slot_rows])
        result["intent_accuracy"] = float(np.mean(intents))
        if with_ci:
            ci["intent_accuracy"] = bootstrap_ci(intents, confidence=confidence, n_resamples=n_resamples, seed=seed)
        result["n_slot_rows"] = len(slot_rows)
    result["ci"] = ci
    return result


def rows_by_task(rows: list[dict]) -> dict[str, list[dict]]:
    """The rows grouped by `meta.task` (function calls, forms, extraction, rows without a schema), in task order,
    when they carry two tasks or more (else {})."""
    tasks: dict[str, list[dict]] = {}
    for row in rows:
        meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
        tasks.setdefault(str(meta.get("task") or "unknown"), []).append(row)
    return dict(sorted(tasks.items())) if len(tasks) > 1 else {}


def by_task(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """`aggregate` per `meta.task`, when the rows carry two tasks or more (else {})."""
    return {task: aggregate(subset) for task, subset in rows_by_task(rows).items()}

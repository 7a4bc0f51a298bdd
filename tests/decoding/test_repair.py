"""recover_json on noisy model output: a hand-written corpus, the strict/cleaned flags and the safety bounds.

Every expected value below is the answer a careful reader would give for the output, not a pasted result.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import pytest

from jsontune.decoding import repair
from jsontune.decoding.repair import MAX_DEPTH, MAX_OUTPUT_CHARS, Recovery, parse_strict, recover_json

# json_repair must not warn (or log) its way into every evaluation run.
pytestmark = pytest.mark.filterwarnings("error")


def _same(actual: object, expected: object) -> bool:
    """Equal as JSON, so True is not 1 and 1 is not 1.0 (Python's == says they are)."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


# Outputs that hold a JSON object/array behind fences, chatter or defects a small LM typically makes.
RECOVERED = [
    pytest.param('```json\n{"name": "Carla", "age": 31}\n```', {"name": "Carla", "age": 31}, id="fenced_json"),
    pytest.param("```\n[1, 2, 3]\n```", [1, 2, 3], id="fenced_no_language"),
    pytest.param(
        'Here is the JSON you asked for:\n\n```json\n{"city": "Paris"}\n```\n\nLet me know if you need anything else!',
        {"city": "Paris"},
        id="fenced_with_chatter",
    ),
    pytest.param('```json\n```json\n{"a": 1}\n```\n```', {"a": 1}, id="nested_fences"),
    pytest.param(
        '```json\n{"a": 1}\n```\nNote: use {"a": 2} for the other case.', {"a": 1}, id="fence_then_prose_with_json"
    ),
    pytest.param('Here is your JSON: ```json {"a": 1} ```', {"a": 1}, id="inline_fence"),
    pytest.param('```json\r\n{"a": 1}\r\n```\r\n', {"a": 1}, id="crlf_fence"),
    pytest.param('Sure! Here it is: {"a": 1} Hope this helps', {"a": 1}, id="chatter_both_sides"),
    pytest.param('{"a":1}{"b":2}', {"a": 1}, id="two_objects_back_to_back"),
    pytest.param('{"id": 1}\n{"id": 2}\n', {"id": 1}, id="two_objects_on_lines"),
    pytest.param('{"a":1}\n\nExplanation: the key a holds the count.', {"a": 1}, id="explanation_after"),
    pytest.param('{"a": "x}y"} and that is all', {"a": "x}y"}, id="brace_in_string_then_chatter"),
    pytest.param('{"msg": "he said \\"}\\" loudly"} done', {"msg": 'he said "}" loudly'}, id="escaped_quote_and_brace"),
    pytest.param('{"a": 1, "b": 2,}', {"a": 1, "b": 2}, id="trailing_comma_object"),
    pytest.param('{"items": ["pen", "ink",]}', {"items": ["pen", "ink"]}, id="trailing_comma_array"),
    pytest.param("{'name': 'Carla', 'items': ['pen']}", {"name": "Carla", "items": ["pen"]}, id="single_quotes"),
    pytest.param("{'a': 'x}y'} ok?", {"a": "x}y"}, id="single_quoted_brace_then_chatter"),
    pytest.param("{'note': \"it's late\"}", {"note": "it's late"}, id="apostrophe_in_double_quotes"),
    pytest.param('{name: "Bob", qty: 2}', {"name": "Bob", "qty": 2}, id="unquoted_keys"),
    pytest.param(
        "{'ok': True, 'missing': None, 'flags': [False]}",
        {"ok": True, "missing": None, "flags": [False]},
        id="python_literals",
    ),
    pytest.param('{"a": [1, 2', {"a": [1, 2]}, id="truncated_mid_array"),
    pytest.param('{"customer": "Car', {"customer": "Car"}, id="truncated_mid_string"),
    pytest.param('{"a": 1, ', {"a": 1}, id="truncated_after_comma"),
    pytest.param('{"a": 1, "b', {"a": 1}, id="truncated_mid_key"),
    pytest.param(
        '{"order": {"items": [{"type": "pen", "quantity": 5}',
        {"order": {"items": [{"type": "pen", "quantity": 5}]}},
        id="truncated_nested",
    ),
    # The closing fence bounds the truncated value: the chatter after it is not an array element.
    pytest.param('```json\n{"a": [1, 2\n```\nHope this helps', {"a": [1, 2]}, id="truncated_inside_fence"),
    pytest.param("[[1, 2], [3", [[1, 2], [3]], id="truncated_array_of_arrays"),
    pytest.param('{"a": [1, 2} Hope this helps', {"a": [1, 2]}, id="mismatched_closer_then_chatter"),
    pytest.param('{"a": 1 "b": 2}', {"a": 1, "b": 2}, id="missing_comma"),
    pytest.param('{\n  "a": 1, // the count\n  "b": 2 /* done */\n}', {"a": 1, "b": 2}, id="comments"),
    pytest.param('{"text": "line one\nline two"}', {"text": "line one\nline two"}, id="raw_newline_in_string"),
    pytest.param(
        'Voilà : {"ville": "Zürich", "emoji": "🙂"} ✓', {"ville": "Zürich", "emoji": "🙂"}, id="unicode_chatter"
    ),
    pytest.param('Result: {"name": "Jos\\u00e9"}.', {"name": "José"}, id="unicode_escape"),
    pytest.param('\ufeff{"a": 1}', {"a": 1}, id="byte_order_mark"),
    pytest.param("The list is [1, 2, 3].", [1, 2, 3], id="array_in_sentence"),
    pytest.param('<pre><code>{"a": 1}</code></pre>', {"a": 1}, id="html_wrapped"),
    pytest.param('Output [see below]:\n{"a": 1}', {"a": 1}, id="bracketed_prose_before"),
    pytest.param('{placeholder} Here you go: {"a": 1}', {"a": 1}, id="braced_prose_before"),
    pytest.param("Nothing to extract: {}", {}, id="empty_object_after_chatter"),
    pytest.param('json\n{"a": 1}', {"a": 1}, id="language_word_line"),
    pytest.param(
        'assistant: {"intent": "PlayMusic", "slots": {"artist": "Queen"}}<|im_end|>',
        {"intent": "PlayMusic", "slots": {"artist": "Queen"}},
        id="role_prefix_and_special_token",
    ),
    pytest.param('Here:\n```json\n{\n  "a": [1, 2,],\n}\n```', {"a": [1, 2]}, id="trailing_commas_in_fence"),
    pytest.param("{'status': 'NaN', 'note': 'inf',}", {"status": "NaN", "note": "inf"}, id="quoted_nan_is_a_string"),
    pytest.param('{info: "x",}', {"info": "x"}, id="key_starting_with_inf"),
    # The rule is "first complete value", so an echoed schema wins over the answer after it.
    pytest.param('Schema: {"type": "object"} Answer: {"a": 1}', {"type": "object"}, id="first_object_wins"),
]

# Outputs with nothing honest to recover: (text, fragment of the reason).
REJECTED = [
    pytest.param("I cannot help with that", "no JSON object or array", id="prose_only"),
    pytest.param("hello", "no JSON object or array", id="bare_word"),
    pytest.param("", "empty output", id="empty"),
    pytest.param("  \n\t ", "empty output", id="whitespace_only"),
    pytest.param("The answer is 42", "no JSON object or array", id="lone_number_after_chatter"),
    pytest.param("<html><body><p>Error</p></body></html>", "no JSON object or array", id="html_junk"),
    pytest.param('{"a": NaN}', "NaN", id="nan_value"),
    pytest.param('{"score": -Infinity}', "Infinity", id="infinity_value"),
    pytest.param('{"a": 1e999}', "out of range", id="overflowing_number"),
    # json_repair would make strings of these ("NaN", and "Infinity" even for -Infinity).
    pytest.param("{'loss': nan, 'acc': 0.5}", "NaN", id="python_nan_repr"),
    pytest.param('{"score": NaN,}', "NaN", id="nan_with_trailing_comma"),
    pytest.param("Values: [NaN, 1]", "NaN", id="nan_in_array_after_chatter"),
    pytest.param("{", "repair", id="lone_open_brace"),
    pytest.param("```json\n```", "no JSON object or array", id="empty_fence"),
    pytest.param("Sorry, [no data]", "no JSON object or array", id="bracketed_prose_only"),
    pytest.param("{Sorry, I cannot do that}", "repair", id="braced_prose_only"),
    pytest.param('{"na', "repair", id="truncated_first_key"),
    pytest.param("True", "no JSON object or array", id="python_true_alone"),
    pytest.param("NaN", "no JSON object or array", id="nan_alone"),
    pytest.param("{{name}} is {{age}}", "repair", id="template_placeholders"),
    pytest.param("...", "no JSON object or array", id="ellipsis"),
    pytest.param("- item one\n- item two", "no JSON object or array", id="markdown_list"),
]


def test_corpus_is_large_enough() -> None:
    assert len(RECOVERED) + len(REJECTED) >= 40


@pytest.mark.parametrize(("text", "expected"), RECOVERED)
def test_recovers_after_cleaning(text: str, expected: object) -> None:
    result = recover_json(text)
    assert result == Recovery(value=result.value, ok=True, strict=False, cleaned=True, reason=None)
    assert _same(result.value, expected)
    json.dumps(result.value, allow_nan=False)  # plain JSON, always


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_rejects(text: str, reason: str) -> None:
    result = recover_json(text)
    assert (result.ok, result.strict, result.cleaned, result.value) == (False, False, False, None)
    assert result.reason is not None and reason in result.reason


def test_clean_json_is_strict() -> None:
    result = recover_json('\n  {"a": [1, "two", null]}  \n')
    assert result == Recovery(value={"a": [1, "two", None]}, ok=True, strict=True, cleaned=False, reason=None)


def test_fenced_json_is_cleaned_not_strict() -> None:
    result = recover_json('```json\n{"a": 1}\n```')
    assert (result.ok, result.strict, result.cleaned) == (True, False, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("42", 42, id="int"),
        pytest.param("-0.5", -0.5, id="float"),
        pytest.param('"hi"', "hi", id="string"),
        pytest.param("true", True, id="true"),
        pytest.param(" [1] \n", [1], id="array_with_whitespace"),
        pytest.param("[]", [], id="empty_array"),
    ],
)
def test_any_strict_value_counts(text: str, expected: object) -> None:
    result = recover_json(text)
    assert (result.ok, result.strict, result.cleaned, result.reason) == (True, True, False, None)
    assert _same(result.value, expected)


def test_strict_null_is_ok_with_value_none() -> None:
    assert recover_json("null") == Recovery(value=None, ok=True, strict=True, cleaned=False, reason=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('{"a": 1}', (True, {"a": 1}), id="object"),
        pytest.param(" null ", (True, None), id="null"),
        pytest.param('```json\n{"a": 1}\n```', (False, None), id="fenced"),
        pytest.param('{"a": 1,}', (False, None), id="trailing_comma"),
        pytest.param("NaN", (False, None), id="nan"),
        pytest.param("[1, Infinity]", (False, None), id="infinity"),
        pytest.param("1e999", (False, None), id="overflow"),
        pytest.param("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), (False, None), id="too_deep"),
        pytest.param(" " * MAX_OUTPUT_CHARS + "1", (False, None), id="too_long"),
    ],
)
def test_parse_strict(text: str, expected: tuple[bool, object]) -> None:
    assert parse_strict(text) == expected


def test_nan_is_rejected_in_strict_mode() -> None:
    for text in ("NaN", "[NaN]", '{"a": Infinity}'):
        assert parse_strict(text) == (False, None)
        assert not recover_json(text).strict
        assert not recover_json(text).ok


def test_oversized_text_is_rejected_without_parsing() -> None:
    text = "[" + "1," * 100_000 + "1]"  # valid JSON, but over the limit
    started = time.perf_counter()
    result = recover_json(text)
    assert time.perf_counter() - started < 1.0  # a loose bound, not a benchmark
    assert not result.ok
    assert result.reason == f"too long: {len(text)} chars > {MAX_OUTPUT_CHARS}"
    assert not recover_json("x" * 200_000).ok


def test_text_of_exactly_the_limit_is_parsed() -> None:
    text = '"' + "a" * (MAX_OUTPUT_CHARS - 2) + '"'
    assert recover_json(text).strict


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="open_brackets"),
        pytest.param('{"a":' * 20_000, id="open_objects"),
        pytest.param("Here: " + "[" * 50_000 + "]" * 49_000, id="after_chatter"),
    ],
)
def test_deep_nesting_is_rejected_fast(text: str) -> None:
    started = time.perf_counter()
    result = recover_json(text)  # must not raise RecursionError
    assert time.perf_counter() - started < 1.0  # a loose bound, not a benchmark
    assert not result.ok
    assert result.reason == f"nested deeper than {MAX_DEPTH}"
    assert parse_strict(text) == (False, None)


def test_depth_exactly_max_is_accepted() -> None:
    expected: list = []
    for _ in range(MAX_DEPTH - 1):
        expected = [expected]
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert recover_json(text) == Recovery(value=expected, ok=True, strict=True, cleaned=False, reason=None)
    assert recover_json("Here: " + text).cleaned
    assert recover_json('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH).strict
    assert not recover_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).ok


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    inner = "{[" * 100 + '\\"]}' * 100  # an escaped quote must not end the string either
    text = '{"a": "' + inner + '"}'
    assert recover_json(text).value == {"a": "{[" * 100 + '"]}' * 100}
    assert recover_json("Note: " + text + " bye").value == {"a": "{[" * 100 + '"]}' * 100}


def test_stray_quote_in_chatter_cannot_hide_depth() -> None:
    # The opening quote makes the whole-text scan read the brackets as a string; the candidate is rescanned.
    text = 'He said " here: ' + "[" * (MAX_DEPTH + 6) + "]" * (MAX_DEPTH + 6)
    assert recover_json(text).reason == f"nested deeper than {MAX_DEPTH}"


def test_repair_budget_bounds_json_repair_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    # json_repair's time grows with length x depth (64 `{` then 99,000 letters took 30 s), so such a
    # candidate is refused before json_repair sees it.
    calls: list[str] = []
    monkeypatch.setattr(repair.json_repair, "loads", lambda text, **_: calls.append(text))
    text = "[{" * (MAX_DEPTH // 2) + "x" * 99_000
    started = time.perf_counter()
    result = recover_json(text)
    assert time.perf_counter() - started < 1.0  # a loose bound, not a benchmark
    assert calls == []
    assert not result.ok and result.reason is not None and "repair budget" in result.reason


def test_long_realistic_repair_fits_the_budget() -> None:
    text = "```json\n[" + '"item", ' * 1_500  # truncated in the middle of a long list
    assert recover_json(text).value == ["item"] * 1_500


def test_a_failing_repair_library_means_not_recovered(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, **_: object) -> object:
        raise IndexError("bug in a heuristic parser")

    monkeypatch.setattr(repair.json_repair, "loads", broken)
    result = recover_json('{"a": 1,}')
    assert (result.ok, result.reason) == (False, "repair failed")


def test_quiet_and_deterministic(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    texts = ["{'a': True,", "I cannot help", '{"a": NaN}', "```json\n[1, 2,]\n```"]
    assert [recover_json(t) for t in texts] == [recover_json(t) for t in texts]
    assert capsys.readouterr() == ("", "")
    assert caplog.records == []


def test_recovery_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        recover_json("{}").ok = False  # type: ignore[misc]


def test_nothing_is_evaluated_as_code() -> None:
    source = Path(repair.__file__).read_text(encoding="utf-8")
    assert "eval(" not in source and "exec(" not in source
    assert recover_json('__import__("os").system("echo hi")').ok is False


@pytest.mark.parametrize("text", [
    '{"n": 5, "x": 2.5, "big": 12345678901234567890, "ok": true, "none": null, "tags": ["a", 1],}',
    'Here: {"n": 5, "x": 2.5, "big": 12345678901234567890, "ok": true, "none": null, "tags": ["a", 1]} done',
    "{'n': 5, 'x': 2.5, 'big': 12345678901234567890, 'ok': True, 'none': None, 'tags': ['a', 1]}",
])
def test_a_recovered_value_keeps_its_json_types(text: str) -> None:
    value = recover_json(text).value
    assert value == {"n": 5, "x": 2.5, "big": 12345678901234567890, "ok": True, "none": None, "tags": ["a", 1]}
    assert [type(value[k]) for k in ("n", "x", "big", "ok")] == [int, float, int, bool]
    assert type(value["tags"][1]) is int


_PAST_PYTHONS_LIMIT = "9" * (sys.get_int_max_str_digits() + 700)


@pytest.mark.parametrize("text", [
    '{"a": %s}' % _PAST_PYTHONS_LIMIT,
    '{"a": -%s, "b": 1,}' % _PAST_PYTHONS_LIMIT,
    '{"a": 1,, "b": %s}' % _PAST_PYTHONS_LIMIT,  # a defect before it sends the span to json_repair
    'The answer: {"a": [%s]} done' % _PAST_PYTHONS_LIMIT,
])
def test_an_integer_python_cannot_read_is_refused_not_turned_into_a_string(text: str) -> None:
    # json.loads refuses integers past sys.get_int_max_str_digits(); json_repair would return it as a string.
    recovery = recover_json(text)
    assert (recovery.ok, recovery.value) == (False, None)
    assert "integer" in recovery.reason or "out of range" in recovery.reason


def test_the_same_digits_inside_a_string_stay_a_string() -> None:
    assert recover_json('{"a": "%s"}' % _PAST_PYTHONS_LIMIT).value == {"a": _PAST_PYTHONS_LIMIT}

"""Recover a JSON value from noisy model output, and say honestly how it was recovered.

Rules, in order:

1. Bounds before any parser runs. Text longer than `MAX_OUTPUT_CHARS`, with brackets/braces nested
   deeper than `MAX_DEPTH` outside JSON strings (one linear scan that respects quotes and escapes), or
   that cannot be encoded as UTF-8, is rejected. Nothing is ever evaluated as code.
2. Strict: the text, less surrounding whitespace, is exactly one JSON value (`json.loads`). Any value
   counts, scalars included. NaN/Infinity literals and numbers that overflow to infinity are not JSON.
3. Cleaning, only when strict parsing fails: take the first Markdown code fence's contents when it
   holds a candidate, drop chatter before the first `{`/`[` that starts a JSON value (a key, a value or
   its closer follows) and after the end of the first complete top-level object/array, parse that, and
   if it still fails let `json_repair` fix common defects (trailing commas, single quotes, unquoted
   keys, Python literals, comments, a truncated value's missing closers) within a work budget.
   After cleaning only an object or array counts, and it must round-trip through
   `json.dumps(..., allow_nan=False)`. A repaired one must also be non-empty (`{` alone repairs to {})
   and keep the type its opening bracket promised (json_repair turns `{prose}` into a list); bare
   NaN/Infinity/nan/inf are refused rather than repaired, since json_repair turns them into strings.
   So is an integer longer than Python's conversion limit (`sys.get_int_max_str_digits()`, 4,300 digits by
   default): `json.loads` cannot read it and json_repair would turn it into a string. A value keeps the
   types its text wrote, or it is refused with the reason.
4. Whatever the road, a recovered value holds only text that UTF-8 can write: `"\\ud800"` is a valid JSON
   escape that decodes to half of a surrogate pair, which would crash the writer of the predictions.

`strict` is reported apart from `ok` because cleaning must never hide a model's defects: a benchmark
scores JSON validity on `strict` and field accuracy on the recovered value, so a model that wraps its
JSON in chatter still loses validity points while its content is still scored.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import json_repair

from jsontune.data.contract import unwritable_reason, unwritable_text

MAX_OUTPUT_CHARS: int = 100_000  # longer text is rejected without parsing
MAX_DEPTH: int = 64  # nesting deeper than this is rejected

# json_repair's cost grows with length times nesting depth (measured: 64 `{` then 99,000 letters took
# 30 s), so repair work is capped per output as the sum of len(candidate) * depth over attempts.
_REPAIR_BUDGET = 250_000
# Each candidate costs a linear scan; a fixed cap keeps the whole search linear in the text.
_MAX_CANDIDATES = 16

_CLOSER_OF = {"}": "{", "]": "["}
_SPECIAL = re.compile(r"[\[\]{}\"'\\]")
# A `{` or `[` that plausibly starts a JSON value: `{` before a key (quoted or bare) or `}`; `[` before a
# value or `]` (NaN too, to reject it by name). Skips prose such as "[see below]" or "{{template}}"; end
# of text allows truncation.
_OPENER = re.compile(
    r"""\{(?=\s*(?:["'}]|[^\W\d]|\Z))"""
    r"""|\[(?=\s*(?:[\[{\]"'\d-]|(?:true|false|null|True|False|None|NaN|Infinity)\b|\Z))"""
)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*[\w.+-]*[ \t\r]*$", re.MULTILINE)
# NaN/Infinity (and Python's nan/inf) outside strings: json_repair would turn them into strings, even
# -Infinity into "Infinity", so a span holding one is refused instead of repaired.
# An integer literal longer than Python converts (0 means no limit) is refused the same way.
_MAX_INT_DIGITS = sys.get_int_max_str_digits()
_HUGE_INTEGER = rf"-?\d{{{_MAX_INT_DIGITS + 1},}}" if _MAX_INT_DIGITS else r"(?!)"
_CONSTANT_OR_QUOTE = re.compile(
    rf"""["'\\]|(?<![\w.])(?:-?(?:NaN|Infinity|nan|inf)|{_HUGE_INTEGER})(?![\w.])""")
_INVALID = "not valid JSON"
_NOT_PLAIN = "not plain JSON: NaN, Infinity or a number out of range"
_TOO_MANY_DIGITS = (f"not plain JSON: an integer of more than {_MAX_INT_DIGITS} digits, more than Python "
                    "reads (sys.get_int_max_str_digits())")
_NOT_UTF8_TEXT = "not UTF-8 text: it holds a lone surrogate"


@dataclass(frozen=True)
class Recovery:
    """What `recover_json` made of one output. `value` is None when not ok (and for a JSON `null`)."""

    value: Any
    ok: bool
    strict: bool
    cleaned: bool
    reason: str | None


def parse_strict(text: str) -> tuple[bool, Any]:
    """(True, value) when text.strip() is exactly one JSON value; else (False, None), also past the limits."""
    if _bounds_violation(text) is not None:
        return False, None
    ok, value, _ = _loads_plain(text.strip())
    return ok, value


def recover_json(text: str) -> Recovery:
    """Recover one JSON value from model output: strictly if possible, else by cleaning (see module docstring)."""
    violation = _bounds_violation(text)
    if violation is not None:
        return rejected(violation)
    ok, value, _ = _loads_plain(text.strip())
    if ok:
        return Recovery(value=value, ok=True, strict=True, cleaned=False, reason=None)
    return _recover_cleaned(text)


def rejected(reason: str) -> Recovery:
    """No JSON, for the given reason (e.g. a constrained answer cut off before it was complete)."""
    return Recovery(value=None, ok=False, strict=False, cleaned=False, reason=reason)


def _bounds_violation(text: str) -> str | None:
    """Why the text must not reach a parser, or None. Linear time."""
    if len(text) > MAX_OUTPUT_CHARS:
        return f"too long: {len(text)} chars > {MAX_OUTPUT_CHARS}"
    if not text.strip():
        return "empty output"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"{_NOT_UTF8_TEXT} at character {err.start}"
    # Only double quotes delimit JSON strings; an apostrophe in prose must not hide brackets.
    _, depth = _bracket_scan(text, 0, quotes='"', stop_when_closed=False)
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH}"
    return None


def _bracket_scan(text: str, start: int, quotes: str, stop_when_closed: bool) -> tuple[int | None, int]:
    """(end of the value opened at `start` or None, maximum bracket depth) outside quoted strings.

    A closer pops back to its matching opener, so `{"a": [1}` closes the object as json_repair would;
    a closer with no opener open is prose and is ignored. Jumps between special characters, and stops
    with depth MAX_DEPTH + 1 as soon as the nesting is too deep: every caller rejects that.
    """
    stack: list[str] = []
    open_count = {"{": 0, "[": 0}  # so "is this opener open?" is O(1), not a stack search
    max_depth = 0
    quote = ""
    escaped_at = -1
    for match in _SPECIAL.finditer(text, start):
        i, ch = match.start(), match.group()
        if quote:
            if i == escaped_at:
                continue
            if ch == "\\":
                escaped_at = i + 1
            elif ch == quote:
                quote = ""
        elif ch in quotes:
            quote = ch
        elif ch in "[{":
            stack.append(ch)
            open_count[ch] += 1
            if len(stack) > MAX_DEPTH:
                return None, len(stack)
            max_depth = max(max_depth, len(stack))
        elif ch in "]}" and open_count[_CLOSER_OF[ch]]:
            while (top := stack.pop()) != _CLOSER_OF[ch]:
                open_count[top] -= 1
            open_count[top] -= 1
            if stop_when_closed and not stack:
                return i + 1, max_depth
    return None, max_depth


def _loads_plain(text: str) -> tuple[bool, Any, str | None]:
    """json.loads that refuses NaN/Infinity and out-of-range numbers: (ok, value, reason)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_read_integer)
    except _TooManyDigits:
        return False, None, _TOO_MANY_DIGITS
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return False, None, _INVALID
    problem = _plain_problem(value)
    if problem is not None:
        return False, None, problem
    return True, value, None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _TooManyDigits(ValueError):
    """An integer literal past Python's conversion limit."""


def _read_integer(literal: str) -> int:
    try:
        return int(literal)
    except ValueError as err:
        raise _TooManyDigits(literal[:20]) from err


def _plain_problem(value: Any) -> str | None:
    """Why the value is not standard JSON that UTF-8 can write (1e999 parses to inf; "\\ud800" to half a
    surrogate pair), or None."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return _NOT_PLAIN
    where = unwritable_text(value, "")
    return None if where is None else f"not plain JSON: {unwritable_reason(where.lstrip('/'))}"


def _recover_cleaned(text: str) -> Recovery:
    """The first candidate object/array that parses, or failing that repairs, within the work bounds."""
    candidates = _candidates(_fenced_content(text)) or _candidates(_without_fences(text))
    if not candidates:
        return rejected("no JSON object or array found")
    budget = _REPAIR_BUDGET
    first_reason: str | None = None
    for span, depth in candidates:
        if depth > MAX_DEPTH:  # the whole-text scan can be misled by a stray quote in the chatter
            return rejected(f"nested deeper than {MAX_DEPTH}")
        _, value, reason = _loads_plain(span)
        if reason == _INVALID and _has_bare_constant(span):
            reason = _NOT_PLAIN
        if reason == _INVALID:
            cost = len(span) * max(depth, 1)
            if cost <= budget:
                budget -= cost
                value, reason = _repair(span)
            else:
                reason = f"too large to repair: {len(span)} chars at depth {depth} exceeds the repair budget"
        if reason is None:
            return Recovery(value=value, ok=True, strict=False, cleaned=True, reason=None)
        first_reason = first_reason or reason
    return rejected(first_reason or "no JSON object or array found")


def _has_bare_constant(text: str) -> bool:
    """Whether NaN/Infinity/nan/inf, or an integer past Python's limit, appears as a bare token, outside
    single- or double-quoted strings."""
    quote = ""
    escaped_at = -1
    for match in _CONSTANT_OR_QUOTE.finditer(text):
        i, token = match.start(), match.group()
        if quote:
            if i == escaped_at:
                continue
            if token == "\\":
                escaped_at = i + 1
            elif token == quote:
                quote = ""
        elif token in "\"'":
            quote = token
        elif token != "\\":
            return True
    return False


def _repair(span: str) -> tuple[Any, str | None]:
    """(value, None) when json_repair makes a plain, non-empty container of `span`'s own type."""
    try:
        value = json_repair.loads(span, skip_json_loads=True)
    except Exception:  # noqa: BLE001 - a heuristic parser on untrusted text: any failure is "not recovered"
        return None, "repair failed"
    expected = dict if span.startswith("{") else list
    if not isinstance(value, expected):
        return None, "no JSON object or array could be repaired"
    if not value:
        return None, "repair left only an empty container"
    return (None, problem) if (problem := _plain_problem(value)) else (value, None)


def _candidates(text: str | None) -> list[tuple[str, int]]:
    """(span, depth) of up to `_MAX_CANDIDATES` plausible values, in order; an unclosed one runs to the end."""
    if not text:
        return []
    found: list[tuple[str, int]] = []
    for match in _OPENER.finditer(text):
        start = match.start()
        # Single quotes count here (json_repair reads them as strings) so `{'a': 'x}y'}` ends at its own brace.
        end, _ = _bracket_scan(text, start, quotes="\"'", stop_when_closed=True)
        span = text[start:end] if end is not None else text[start:].rstrip()
        _, depth = _bracket_scan(span, 0, quotes='"', stop_when_closed=False)
        found.append((span, depth))
        if len(found) == _MAX_CANDIDATES:
            break
    return found


def _fenced_content(text: str) -> str | None:
    """Text inside the first code fence (stacked opening fences skipped), up to the next fence or the end."""
    fences = list(_FENCE_LINE.finditer(text))
    if not fences:
        return None
    index = 0
    while index + 1 < len(fences) and not text[fences[index].end() : fences[index + 1].start()].strip():
        index += 1
    start = fences[index].end()
    end = fences[index + 1].start() if index + 1 < len(fences) else len(text)
    return _strip_inline_fences(text[start:end])


def _without_fences(text: str) -> str:
    """The whole text with fence lines removed, for JSON written outside the fences."""
    return _strip_inline_fences(_FENCE_LINE.sub("", text))


def _strip_inline_fences(text: str) -> str:
    # A fence glued to a truncated value (`[1, 2```) would otherwise be read as part of it.
    text = text.strip()
    return text[:-3].rstrip() if text.endswith("```") else text

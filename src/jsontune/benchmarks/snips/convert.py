"""SNIPS slot filling (sonos/nlu-benchmark, 2017-06-custom-intent-engines) in the jsontune data contract.

A SNIPS file is `{"<Intent>": [{"data": [{"text": "..."}, {"text": "...", "entity": "<slot>"}]}, ...]}`:
a query is the concatenation of its segments' text and a segment with an `entity` is a slot. Each
query becomes one record whose reference is `{"intent": ..., "slots": {...}}`, checked by one JSON
Schema per intent. What the converter repairs or leaves out is counted in a `ConversionReport`.

Regenerate the shipped data with `jsontune data snips ../shared/data/snips -o data/snips --overwrite`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from jsontune.benchmarks.snips.slot_catalogue import SLOT_DESCRIPTIONS
from jsontune.data.contract import write_jsonl
from jsontune.data.schemas import DRAFT_2020_12
from jsontune.errors import MissingFileError

PROMPT_TEMPLATE = "Extract the intent and slots of this voice-assistant query as JSON: '{query}'"

# Intent names become file names (<Intent>.jsonl), so they may hold word characters only.
_INTENT_NAME = re.compile(r"\w+")
# A UTF-16 surrogate pair as decoded with "surrogatepass": CESU-8 writes one astral character
# (an emoji, say) as two 3-byte sequences, one per surrogate, where UTF-8 uses one 4-byte sequence.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@dataclass(frozen=True)
class SkippedRow:
    """A source query that was not converted, and why."""

    source_file: str
    source_index: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source_file}[{self.source_index}]: {self.reason}"


@dataclass
class ConversionReport:
    """What `convert` read, wrote per intent, repaired and left out."""

    files: list[str] = field(default_factory=list)
    rows_per_intent: dict[str, int] = field(default_factory=dict)
    # file name -> what was done to decode it; files that decoded cleanly are absent.
    encoding_fixes: dict[str, str] = field(default_factory=dict)
    skipped: list[SkippedRow] = field(default_factory=list)

    def summary(self) -> str:
        """A few human-readable lines: files, rows per intent, encoding fixes, skipped rows."""
        lines = [f"read {len(self.files)} file(s)"]
        lines += [f"  {intent}: {count} rows" for intent, count in self.rows_per_intent.items()]
        lines += [f"encoding: {name}: {note}" for name, note in self.encoding_fixes.items()]
        lines.append(f"skipped {len(self.skipped)} row(s)")
        lines += [f"  {row}" for row in self.skipped]
        return "\n".join(lines)


class _Query(NamedTuple):
    """One parsed source query, before it becomes a record."""

    source_file: str
    source_index: int
    text: str
    slots: dict[str, str | list[str]]


class _BadRow(ValueError):
    """A source query that breaks the SNIPS format; it is skipped and reported."""


def slot_schema(intent: str, slot_names: Iterable[str]) -> dict:
    """The JSON Schema (Draft 2020-12) of one intent's references.

    `slots` may hold only the given slot names, each described in a line (`SLOT_DESCRIPTIONS`: a third of the
    slot errors of a model that sees names alone are a right value under a neighbour's name, `state` for
    `country`); a value is a non-empty string, or a list of two or more for a slot that occurs several times
    in one query.
    """
    return {
        "$schema": DRAFT_2020_12,
        "type": "object",
        "properties": {
            "intent": {"const": intent},
            "slots": {
                "type": "object",
                # One shared definition by $ref: every record carries its schema, and spelling the
                # value schema out per slot would push the largest intent's file over 5 MB.
                "properties": {name: {"$ref": "#/$defs/slot_value", "description": SLOT_DESCRIPTIONS[name]}
                               for name in sorted(set(slot_names))},
                "additionalProperties": False,
            },
        },
        "required": ["intent", "slots"],
        "additionalProperties": False,
        "$defs": {
            "slot_value": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2},
                ]
            }
        },
    }


def convert(sources: Sequence[str | Path]) -> tuple[dict[str, list[dict]], ConversionReport]:
    """Convert SNIPS files into contract records grouped by intent, with a report.

    `sources` are files or folders (a folder stands for every `*.json` in it, sorted by name). Records
    keep file order and are identified by `snips-<file stem>-<index>`. A query that breaks the format
    is skipped and listed in the report; a file that is not SNIPS-shaped raises `ValueError`.
    """
    report = ConversionReport()
    queries: dict[str, list[_Query]] = {}
    for path in _expand(sources):
        report.files.append(str(path))
        intent, rows = _load(path, report)
        for index, row in enumerate(rows):
            try:
                text, slots = _parse_row(row)
            except _BadRow as err:
                report.skipped.append(SkippedRow(path.name, index, str(err)))
                continue
            queries.setdefault(intent, []).append(_Query(path.name, index, text, slots))

    records: dict[str, list[dict]] = {}
    seen_ids: set[str] = set()
    for intent, intent_queries in queries.items():
        schema = slot_schema(intent, {slot for query in intent_queries for slot in query.slots})
        records[intent] = [_record(intent, query, schema) for query in intent_queries]
        for record in records[intent]:
            if record["id"] in seen_ids:
                raise ValueError(f"duplicate record id {record['id']!r}: the same file, or two files "
                                 "with the same name, given twice")
            seen_ids.add(record["id"])
        report.rows_per_intent[intent] = len(records[intent])
    return records, report


def write_converted(records_by_intent: dict[str, list[dict]], out_dir: str | Path) -> dict[str, int]:
    """Write `out_dir/<Intent>.jsonl` for each intent (each file atomically); returns rows written per intent.

    Files of intents not in `records_by_intent` are left alone.
    """
    out_dir = Path(out_dir)
    return {intent: write_jsonl(out_dir / f"{intent}.jsonl", records) for intent, records in records_by_intent.items()}


def _expand(sources: Sequence[str | Path]) -> list[Path]:
    """The files that `sources` name, folders expanded to their sorted `*.json`."""
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise MissingFileError(f"{path}: folder holds no *.json file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise MissingFileError(f"{path}: no such file or folder")
    return files


def _load(path: Path, report: ConversionReport) -> tuple[str, list]:
    """The intent and raw query list of one SNIPS file, decoded and repaired as `report` records."""
    text, decode_note = _decode(path.read_bytes())
    try:
        content = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON: {err}") from None
    content, repaired = _repair_mojibake(content)
    notes = [decode_note] if decode_note else []
    if repaired:
        notes.append(f"{repaired} string(s) of UTF-8 read as Latin-1 (mojibake such as 'Ã©') repaired")
    if notes:
        report.encoding_fixes[path.name] = "; ".join(notes)

    if not (isinstance(content, dict) and len(content) == 1):
        raise ValueError(f'{path}: expected {{"<Intent>": [queries]}} with exactly one intent')
    (intent, rows), = content.items()
    if not _INTENT_NAME.fullmatch(intent):
        raise ValueError(f"{path}: intent name {intent!r} must be letters, digits and underscores")
    if not isinstance(rows, list):
        raise ValueError(f"{path}: the value of {intent!r} must be a list of queries")
    return intent, rows


def _decode(raw: bytes) -> tuple[str, str | None]:
    """The text of a file and a note on what it took to decode it (None for clean UTF-8)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        first_bad = err.start

    # CESU-8 is UTF-8 apart from astral characters, so joining the surrogate pairs recovers the text
    # exactly; a lone surrogate or any other invalid byte means it is something else.
    try:
        text = raw.decode("utf-8", "surrogatepass")
        joined = [_join_surrogates(pair) for pair in _SURROGATE_PAIR.findall(text)]
        text = _SURROGATE_PAIR.sub(lambda match: _join_surrogates(match.group()), text)
        text.encode("utf-8")
    except UnicodeError:
        pass
    else:
        chars = ", ".join(f"U+{ord(char):04X}" for char in joined)
        return text, (f"not UTF-8 (first bad byte at offset {first_bad}): {len(joined)} CESU-8 surrogate pair(s) "
                      f"(a character written as two 3-byte UTF-16 surrogates) joined into {chars}")

    # Latin-1 maps every byte to a character, so it always decodes; any UTF-8 in the file comes out
    # as mojibake, which _repair_mojibake then undoes string by string.
    return raw.decode("latin-1"), f"not UTF-8 (byte 0x{raw[first_bad]:02X} at offset {first_bad}): decoded as Latin-1"


def _join_surrogates(pair: str) -> str:
    """The one character that a UTF-16 surrogate pair stands for."""
    return pair.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _repair_mojibake(value: Any) -> tuple[Any, int]:
    """`value` with every double-encoded string repaired, and how many strings were.

    A string is repaired when its characters are all Latin-1 and their bytes are valid UTF-8 that
    says something else (`'Ã©'` -> `'é'`). Real Latin-1 text ('café') is almost never valid UTF-8,
    so it is left as it is.
    """
    if isinstance(value, str):
        if value.isascii():
            return value, 0
        try:
            fixed = value.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return value, 0
        return fixed, 1
    if isinstance(value, list):
        items = [_repair_mojibake(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, dict):
        pairs = [(_repair_mojibake(key), _repair_mojibake(item)) for key, item in value.items()]
        return {key: item for (key, _), (item, _) in pairs}, sum(k + i for (_, k), (_, i) in pairs)
    return value, 0


def _normalise(text: str) -> str:
    """`text` with whitespace runs (spaces, tabs, newlines) collapsed to one space, and stripped."""
    return " ".join(text.split())


def _parse_row(row: Any) -> tuple[str, dict[str, str | list[str]]]:
    """The query text and slots of one SNIPS row; raises `_BadRow` when it breaks the format."""
    if not isinstance(row, dict) or not isinstance(row.get("data"), list):
        raise _BadRow("no 'data' list of segments")
    texts: list[str] = []
    values: dict[str, list[str]] = {}
    for k, segment in enumerate(row["data"]):
        if not isinstance(segment, dict) or not isinstance(segment.get("text"), str):
            raise _BadRow(f"segment {k} has no 'text' string")
        texts.append(segment["text"])
        if "entity" in segment:
            slot = segment["entity"]
            if not isinstance(slot, str) or not slot:
                raise _BadRow(f"segment {k} has an empty or non-string 'entity'")
            # Normalised like the query, so every slot value appears verbatim in the prompt.
            value = _normalise(segment["text"])
            if not value:
                raise _BadRow(f"slot {slot!r} (segment {k}) has no text")
            values.setdefault(slot, []).append(value)
    query = _normalise("".join(texts))
    if not query:
        raise _BadRow("query has no text")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        # Only a JSON escape such as "\ud83c" without its partner gets here; it cannot be written out.
        raise _BadRow("query holds an unpaired UTF-16 surrogate") from None
    return query, {slot: found[0] if len(found) == 1 else found for slot, found in values.items()}


def _record(intent: str, query: _Query, schema: dict) -> dict:
    """One contract record for a parsed query."""
    return {
        "id": f"snips-{Path(query.source_file).stem}-{query.source_index:04d}",
        "prompt": PROMPT_TEMPLATE.format(query=query.text),
        "reference": {"intent": intent, "slots": query.slots},
        "schema": schema,
        "meta": {
            "dataset": "snips",
            "intent": intent,
            "text": query.text,
            "source_file": query.source_file,
            "source_index": query.source_index,
        },
    }

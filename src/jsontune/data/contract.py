"""The data contract (README, "Data format"): JSONL records of prompt, reference, optional schema and meta.

Loading validates every row and names file:line and the reason for each bad one; nothing is dropped
silently, and a file without a single row is an error, not an empty dataset. Every string a record holds
(keys included) must be writable as UTF-8: JSON can spell a lone surrogate ("\\ud800"), which Python reads
but no UTF-8 file can hold, so such a row would pass here and crash the run that writes its results.
A record read from a file knows where it came from (`location`), for later messages about it. Writing
is atomic. How records are split into train and test is `jsontune.data.splits`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema

from jsontune.data.row_formats import RowError, RowMapping
from jsontune.data.schemas import validator
from jsontune.errors import JsontuneError, MissingFileError
from jsontune.files import atomic_write

logger = logging.getLogger(__name__)

OnBadRows = Literal["error", "skip"]
# How many bad rows an error message lists before it summarises the rest.
MAX_LISTED_BAD_ROWS = 20


@dataclass(frozen=True)
class BadRow:
    path: str  # a file, or a dataset source as `source[split]`
    line: int  # the file's line, or the dataset's row (from 0)
    reason: str
    separator: str = ":"  # file:line, source[split]#row

    def __str__(self) -> str:
        return f"{self.path}{self.separator}{self.line}: {self.reason}"


class DataError(JsontuneError):
    """One or more rows break the data contract (or a file holds no rows at all)."""

    def __init__(self, bad_rows: list[BadRow], message: str | None = None):
        self.bad_rows = bad_rows
        if message is None:
            listed = "\n".join(f"  {row}" for row in bad_rows[:MAX_LISTED_BAD_ROWS])
            more = len(bad_rows) - MAX_LISTED_BAD_ROWS
            tail = f"\n  ... and {more} more" if more > 0 else ""
            message = f"{len(bad_rows)} bad row(s):\n{listed}{tail}"
        super().__init__(message)


class Record(dict):
    """A contract record as read from a file: a plain dict that also knows its `source`, "file:line"."""

    __slots__ = ("source",)


def location(record: dict) -> str:
    """Where a record came from, for a message: file:line when it was read from a file, else its id."""
    source = getattr(record, "source", None)
    if source:
        return source
    return f"the record with id {record['id']!r}" if record.get("id") is not None else "the prompt"


def unwritable_text(value: Any, where: str) -> str | None:
    """Where in a parsed JSON value (keys included) a string cannot be encoded as UTF-8, else None.

    One encoding of the whole value answers the common case; only a value that fails is walked for the place.
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return None
    except UnicodeEncodeError:
        pass
    if isinstance(value, str):
        return where
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and unwritable_text(key, "") is not None:
            return f"{where}/{key.encode('utf-8', 'backslashreplace').decode()} (the key)"
        found = unwritable_text(item, f"{where}/{key}")
        if found is not None:
            return found
    return where


def unwritable_reason(where: str) -> str:
    """Why text at `where` (a path from `unwritable_text`) is refused."""
    return (f"{repr(where) if where else 'the value'} holds text that cannot be written as UTF-8 (a lone "
            "surrogate such as \\ud800, half of an escaped pair)")


@dataclass
class LoadReport:
    """What loading found besides the good records."""

    rows: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)


def check_record(obj: Any) -> str | None:
    """The reason a parsed row breaks the contract, or None when it is good."""
    if not isinstance(obj, dict):
        return f"a record must be a JSON object, got {type(obj).__name__}"
    prompt = obj.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "missing or empty 'prompt' (a non-empty string)"
    if "reference" not in obj:
        return "missing 'reference'"
    unwritable = unwritable_text(obj, "")
    if unwritable is not None:
        return unwritable_reason(unwritable.lstrip("/"))
    reference = obj["reference"]
    if not isinstance(reference, (dict, list)):
        return f"'reference' must be a JSON object or array, got {type(reference).__name__}"
    if "id" in obj and not isinstance(obj["id"], str):
        return "'id' must be a string"
    if "meta" in obj and not isinstance(obj["meta"], dict):
        return "'meta' must be an object"
    if "system" in obj and (not isinstance(obj["system"], str) or not obj["system"].strip()):
        return "'system' (the row's system prompt) must be a non-empty string"
    schema = obj.get("schema")
    if schema is not None:
        if not isinstance(schema, dict):
            return "'schema' must be a JSON object"
        try:
            checker = validator(schema)
        except jsonschema.SchemaError as err:
            return f"'schema' is not a valid JSON Schema: {err.message}"
        error = jsonschema.exceptions.best_match(checker.iter_errors(reference))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return f"'reference' fails its own schema at {where}: {error.message}"
    return None


def read_jsonl(path: str | Path, on_bad_rows: OnBadRows = "error", mapping: RowMapping = RowMapping(),
               limit: int | None = None) -> tuple[list[dict], LoadReport]:
    """Read and validate one JSONL file of records, in any row format (`jsontune.data.row_formats`; the format
    is told by the columns unless `mapping` says it).

    Only the first `limit` rows are read, when given. Records without an `id` get
    `<file stem>-<line>`. With `on_bad_rows="error"` any bad row raises
    `DataError` listing every bad row; with `"skip"` bad rows are left out and counted in the report. A file
    without a row (empty, or blank lines only) raises `DataError` either way.
    """
    path = Path(path)
    if path.is_dir():
        raise MissingFileError(f"{path}: is a folder, not a data file (a JSONL file of records)")
    if not path.is_file():
        raise MissingFileError(f"{path}: no such data file")
    records: list[dict] = []
    report = LoadReport()
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if limit is not None and report.rows >= limit:
                break
            report.rows += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                report.bad_rows.append(BadRow(str(path), line_no, f"not UTF-8 (byte {err.start}: {err.reason})"))
                continue
            try:
                obj = mapping.convert(json.loads(text))
            except json.JSONDecodeError as err:
                report.bad_rows.append(BadRow(str(path), line_no, f"not JSON: {err.msg} at column {err.colno}"))
                continue
            except RowError as err:
                report.bad_rows.append(BadRow(str(path), line_no, str(err)))
                continue
            reason = check_record(obj)
            if reason is not None:
                report.bad_rows.append(BadRow(str(path), line_no, reason))
                continue
            record = Record(obj)
            record.setdefault("id", f"{path.stem}-{line_no}")
            record.source = f"{path}:{line_no}"
            records.append(record)
    if report.rows == 0:
        raise DataError([], f"{path}: holds no records (the file is empty); a contract file has one JSON "
                            "record per line")
    return finish_loading(records, report, str(path), on_bad_rows)


def finish_loading(records: list[dict], report: LoadReport, where: str,
                   on_bad_rows: OnBadRows) -> tuple[list[dict], LoadReport]:
    """The end of every loader: bad rows raise `DataError` (or, skipped, are counted in a warning), and duplicate
    ids are found and reported."""
    report.duplicate_ids = sorted(name for name, count in Counter(r["id"] for r in records).items() if count > 1)
    if report.bad_rows:
        if on_bad_rows == "error":
            raise DataError(report.bad_rows)
        logger.warning("%s: skipped %d bad row(s) of %d", where, len(report.bad_rows), report.rows)
    if report.duplicate_ids:
        logger.warning("%s: %d duplicate id(s), e.g. %s", where, len(report.duplicate_ids), report.duplicate_ids[:3])
    return records, report


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    """Write records as UTF-8 JSONL atomically (a failure leaves no half-written file). Returns the count."""
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in records]
    atomic_write(path, lambda tmp: tmp.write_text("".join(lines), encoding="utf-8"))
    return len(lines)


def normalise_prompt(prompt: str) -> str:
    """A prompt with case and runs of whitespace ignored, to find the same request written twice."""
    return " ".join(prompt.lower().split())


def dataset_label(record: dict, path: str | Path | None = None) -> str:
    """A record's dataset, for per-dataset figures: its meta.dataset, else the name of its file's folder
    (data/weather/Forecast.jsonl -> "weather"), else the file's stem, else "data"."""
    meta = record.get("meta") or {}
    if isinstance(meta.get("dataset"), str) and meta["dataset"]:
        return meta["dataset"]
    if path is None:
        return "data"
    path = Path(path)
    folder = path.parent.name
    return folder if folder and folder not in ("data", ".") else path.stem

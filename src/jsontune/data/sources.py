"""Where records come from: JSONL files as ever, and anything `datasets.load_dataset` reads.

A source is a path, or a mapping (`DataSource`, in a recipe's `jsontune.data_files` beside plain paths, after
TRL's dataset mixtures): a JSONL, JSON, CSV or Parquet file, a folder of such files or one written by
`datasets.save_to_disk`, or a Hub dataset id with its `name` (config), `split` and `revision`; with the row
format and the columns of its fields (`jsontune.data.row_formats`), a row `limit` and a `weight`.

Every row is checked against the contract like a JSONL row; a bad one is named `file:line` for JSONL and
`source[split]#row` otherwise, with the reason. JSONL files are read line by line by jsontune (so that their
lines can be named); the rest through `datasets`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from jsontune.data.contract import (
    BadRow,
    DataError,
    LoadReport,
    OnBadRows,
    Record,
    check_record,
    finish_loading,
    read_jsonl,
)
from jsontune.data.row_formats import RowError, RowFormat, RowMapping
from jsontune.errors import JsontuneError, MissingFileError

logger = logging.getLogger(__name__)

# File suffixes and the `datasets` builder that reads them.
BUILDERS = {".json": "json", ".csv": "csv", ".parquet": "parquet"}
SAVED_DATASET_FILES = ("dataset_info.json", "state.json", "dataset_dict.json")


class SourceError(JsontuneError):
    """A data source is written wrong, or cannot be read (named with the reason)."""


@dataclass(frozen=True)
class DataSource:
    """One source of records and how to read it."""

    path: str
    name: str | None = None  # the config of a Hub dataset
    split: str = "train"
    revision: str | None = None
    format: RowFormat = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    limit: int | None = None  # read at most this many rows (the first ones)
    weight: float = 1.0  # the share of its training rows kept (after the train/test split), as TRL's mixtures

    def __post_init__(self):
        if not isinstance(self.path, str) or not self.path:
            raise ValueError("a source needs a 'path' (a file, a folder or a Hub dataset id)")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")
        if not 0 < self.weight <= 1:
            raise ValueError(f"weight must be in (0, 1] (the share of its training rows kept), not {self.weight}")
        self.mapping  # noqa: B018 - checks the format and the columns
        if not Path(self.path).exists() and not is_hub_dataset(self.path) and (self.name or self.revision):
            raise ValueError(f"{self.path}: name and revision are for Hub datasets, and this is not one")

    @property
    def mapping(self) -> RowMapping:
        return RowMapping(self.format, self.columns)

    @property
    def label(self) -> str:
        """How messages and reports name the source."""
        return self.path

    def describe(self) -> dict[str, Any]:
        """The source as a recipe writes it: only what differs from the defaults, the path first."""
        defaults = DataSource(self.path)
        described: dict[str, Any] = {"path": self.path}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "path" and value != getattr(defaults, item.name):
                described[item.name] = dict(value) if item.name == "columns" else value
        return described


def is_hub_dataset(path: str) -> bool:
    """Whether a source's path reads as a Hub dataset id (OWNER/NAME without a data file's suffix) rather than a
    local file or folder."""
    parts = path.split("/")
    return (len(parts) == 2 and all(parts) and not path.startswith((".", "/")) and not Path(path).exists()
            and Path(path).suffix.lower() not in (*BUILDERS, ".jsonl"))


def data_source(spec: str | Mapping | DataSource, where: str = "a data source") -> DataSource:
    """A checked `DataSource` from a path or a recipe's mapping; `SourceError` naming `where` otherwise."""
    if isinstance(spec, DataSource):
        return spec
    if isinstance(spec, str):
        return DataSource(spec)
    if not isinstance(spec, Mapping):
        raise SourceError(f"{where}: a source is a path or a mapping with a 'path', not {spec!r}")
    known = {item.name for item in fields(DataSource)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise SourceError(f"{where}: unknown key(s) {', '.join(unknown)}; a source takes {', '.join(sorted(known))}")
    try:
        return DataSource(**spec)
    except (TypeError, ValueError) as err:
        raise SourceError(f"{where}: {err}") from None


def parse_columns(text: str | None) -> dict[str, str]:
    """`prompt=text,reference=json` (the command line's --columns) as a mapping of field to column."""
    if not text:
        return {}
    columns = {}
    for item in text.split(","):
        name, equals, column = item.partition("=")
        if not equals or not name.strip() or not column.strip():
            raise SourceError(f"--columns takes FIELD=COLUMN pairs separated by commas, e.g. "
                              f"prompt=text,reference=json; not {item!r}")
        columns[name.strip()] = column.strip()
    return columns


def read_source(source: DataSource, on_bad_rows: OnBadRows = "error") -> tuple[list[dict], LoadReport]:
    """Read and check the rows of a source (as `read_jsonl` does for a file), its first `limit` at most."""
    path = Path(source.path)
    suffix = path.suffix.lower()
    if path.is_dir() and not _saved_dataset(path):
        return _read_folder(source, on_bad_rows)
    if suffix == ".jsonl" or (suffix == ".json" and not _json_array(path)):
        return read_jsonl(path, on_bad_rows, source.mapping, source.limit)
    if path.is_file() and suffix not in BUILDERS:
        kind = path.suffix or "a file without a suffix"
        raise SourceError(f"{path}: a data file is .jsonl, .json, .csv or .parquet, not {kind}")
    if suffix == ".json":
        rows, where, tabular = json.loads(path.read_text(encoding="utf-8")), str(path), False
    else:
        rows, split = _dataset_rows(source)
        where, tabular = f"{source.label}[{split}]", True
    records: list[dict] = []
    report = LoadReport()
    for index, row in enumerate(rows):
        if source.limit is not None and index >= source.limit:
            break
        report.rows += 1
        try:
            obj = source.mapping.convert(_tabular_row(row, source) if tabular else row)
            reason = check_record(obj)
        except RowError as err:
            reason = str(err)
        if reason is not None:
            report.bad_rows.append(BadRow(where, index, reason, separator="#"))
            continue
        record = Record(obj)
        record.setdefault("id", f"{Path(source.path).stem or 'row'}-{index}")
        record.source = f"{where}#{index}"
        records.append(record)
    if report.rows == 0:
        raise DataError([], f"{where}: holds no rows")
    return finish_loading(records, report, where, on_bad_rows)


def source_fingerprint(source: DataSource) -> str:
    """A sha256 naming the exact data of a local source (its file, or the files of its folder); for a Hub
    dataset, of its id, config, split and revision."""
    path = Path(source.path)
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes())
    else:
        digest.update(repr(sorted(asdict(source).items())).encode())
    return digest.hexdigest()


def _saved_dataset(path: Path) -> bool:
    return any((path / name).is_file() for name in SAVED_DATASET_FILES)


def _read_folder(source: DataSource, on_bad_rows: OnBadRows) -> tuple[list[dict], LoadReport]:
    """Every data file of a folder (sorted, sub-folders included), read as a source of its own with the folder's
    format and columns, so that a JSONL row is still named file:line; `limit` counts over all of them."""
    folder = Path(source.path)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (*BUILDERS, ".jsonl"))
    if not files:
        raise SourceError(f"{folder}: a folder holds no data files (.jsonl, .json, .csv, .parquet) and is not a "
                          "dataset saved by datasets.save_to_disk")
    records: list[dict] = []
    report = LoadReport()
    for file in files:
        left = None if source.limit is None else source.limit - report.rows
        if left is not None and left <= 0:
            break
        part = DataSource(str(file), format=source.format, columns=source.columns, limit=left)
        found, part_report = read_source(part, on_bad_rows)
        records += found
        report.rows += part_report.rows
        report.bad_rows += part_report.bad_rows
    return finish_loading(records, report, str(folder), on_bad_rows)  # its totals, after each file's own


def _json_array(path: Path) -> bool:
    """Whether a .json file holds one JSON array of rows (else it is read as JSON lines)."""
    with path.open("rb") as handle:
        return handle.read(4096).lstrip()[:1] == b"["


def _tabular_row(row: dict, source: DataSource) -> dict:
    """A row of a table as a record would hold it: columns without a value (None, NaN) are absent, and an id the
    table stored as a number is text."""
    clean = {key: value for key, value in row.items()
             if value is not None and not (isinstance(value, float) and math.isnan(value))}
    id_column = source.mapping.column("id")
    if isinstance(clean.get(id_column), (int, float)) and not isinstance(clean[id_column], bool):
        number = clean[id_column]
        clean[id_column] = str(int(number)) if float(number).is_integer() else str(number)
    return clean


def _check_columns(rows, source: DataSource, where: str) -> None:
    """A reference or a schema held as nested columns is refused: Arrow gives every row the keys of all rows,
    filling the missing ones with nulls, which would change the answers the model learns."""
    import datasets

    features = getattr(rows, "features", None) or {}
    for name in ("reference", "schema"):
        feature = features.get(source.mapping.column(name))
        if feature is not None and not (isinstance(feature, datasets.Value) and "string" in feature.dtype):
            raise SourceError(f"{where}: column {source.mapping.column(name)!r} ({name}) holds nested values, which "
                              f"the table format fills with nulls across rows: store it as JSON text")


def _dataset_rows(source: DataSource):
    """(the rows of the source's split, the split's name) through `datasets`."""
    import datasets

    path = Path(source.path)
    try:
        if path.is_dir():  # a saved dataset (a folder of files is read file by file)
            loaded = datasets.load_from_disk(str(path))
        elif path.is_file():
            loaded = datasets.load_dataset(BUILDERS[path.suffix.lower()], data_files=str(path), split=None)
        elif path.parent != Path(".") and path.parent.exists() or path.suffix in BUILDERS:
            raise MissingFileError(f"{path}: no such data file or folder")
        else:
            loaded = datasets.load_dataset(source.path, source.name, split=None, revision=source.revision)
    except (MissingFileError, SourceError):
        raise
    except Exception as err:  # datasets raises many kinds; the user needs the source and the reason
        raise SourceError(f"{source.label}: cannot be read as a dataset: {type(err).__name__}: {err}") from None
    if isinstance(loaded, datasets.DatasetDict):
        if source.split not in loaded:
            raise SourceError(f"{source.label}: has no split {source.split!r} (it has {', '.join(loaded)})")
        loaded = loaded[source.split]
    _check_columns(loaded, source, f"{source.label}[{source.split}]")
    return loaded, source.split

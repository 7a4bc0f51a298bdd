"""How contract files become a training and a test split: per file by default, or by a named split builder.

- By default every data file is split on its own (`load_splits`): a seeded share `test_fraction` of each
  file is held out, so every source is in both splits, and the row limits keep the first rows of the
  seeded order, so a smaller limit keeps a subset of a larger one.
- A recipe whose `jsontune.split` names a builder, `split: {name: NAME, option: value, ...}`, is split by
  that builder instead. A builder owns its options (a dataclass that checks itself in `__post_init__`) and
  returns the same `Splits`. A split of one dataset's own making (a benchmark's fixed test set, nested
  training sizes) is a builder, so nothing generic branches on a dataset.

Builders are found by name: those registered with `register_split_builder`, and those that installed
packages declare in the `jsontune.split_builders` entry-point group (jsontune's own benchmarks declare
theirs in pyproject.toml). So this module knows no builder but its own contract, and imports none.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

from jsontune.data.contract import OnBadRows, dataset_label, normalise_prompt
from jsontune.data.sources import data_source, read_source, source_fingerprint
from jsontune.errors import JsontuneError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jsontune.split_builders"
NAME_KEY = "name"


def split_records(records: list[dict], test_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Seeded split into (train, test): the same records, fraction and seed always give the same split."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    order = sorted(range(len(records)), key=lambda i: records[i]["id"])
    random.Random(seed).shuffle(order)
    n_test = round(len(records) * test_fraction)
    return [records[i] for i in order[n_test:]], [records[i] for i in order[:n_test]]


def prompt_overlap(train: list[dict], test: list[dict]) -> list[str]:
    """Ids of test records whose prompt (case- and whitespace-normalised) also occurs in train."""
    seen = {normalise_prompt(r["prompt"]) for r in train}
    return [r["id"] for r in test if normalise_prompt(r["prompt"]) in seen]


@dataclass
class Splits:
    train: list[dict]
    test: list[dict]
    files: dict[str, dict] = field(default_factory=dict)  # per file: rows, bad rows, train/test counts, sha256
    test_files: list[str] = field(default_factory=list)  # the data file of each test record
    test_labels: list[str] = field(default_factory=list)  # a builder's own label of each test record, if any

    def test_datasets(self) -> list[str]:
        """The label of each test record in the report: the builder's, else its `dataset_label`."""
        if self.test_labels:
            return list(self.test_labels)
        return [dataset_label(record, name) for record, name in zip(self.test, self.test_files)]


def load_splits(
    files: list[str | Mapping],
    test_fraction: float,
    seed: int,
    max_train_rows_per_file: list[int] | None = None,
    max_test_rows_per_file: list[int] | None = None,
    on_bad_rows: OnBadRows = "error",
) -> Splits:
    """Load data sources (paths, or mappings: `jsontune.data.sources`) and split each one on its own (seeded), so
    every source is in both splits.

    The row limits hold one number for every source or one per source; the rows kept are the first of the
    seeded shuffle, so a smaller limit keeps a subset of a larger one. A source's `weight` keeps that share of
    its training rows (the first of the same shuffle).
    """

    def limit_for(limits: list[int] | None, index: int) -> int | None:
        if limits is None:
            return None
        return limits[0] if len(limits) == 1 else limits[index]

    splits = Splits(train=[], test=[])
    for index, entry in enumerate(files):
        source = data_source(entry, f"data source {index + 1}")
        records, report = read_source(source, on_bad_rows=on_bad_rows)
        train, test = split_records(records, test_fraction, seed)
        train = train[:max(1, round(len(train) * source.weight)) if train else 0]
        train = train[:limit_for(max_train_rows_per_file, index)]
        test = test[:limit_for(max_test_rows_per_file, index)]
        name = source.label
        splits.train += train
        splits.test += test
        splits.test_files += [name] * len(test)
        splits.files[name] = {
            "rows": report.rows, "bad_rows": len(report.bad_rows), "train": len(train), "test": len(test),
            "sha256": source_fingerprint(source),
        }
    all_ids = Counter(r["id"] for r in splits.train + splits.test)
    duplicates = [name for name, count in all_ids.items() if count > 1]
    if duplicates:
        logger.warning("%d id(s) occur more than once across the data files, e.g. %s", len(duplicates), duplicates[:3])
    overlap = prompt_overlap(splits.train, splits.test)
    if overlap:
        logger.warning("%d test prompt(s) also occur in train (after case/space normalisation), e.g. %s",
                       len(overlap), overlap[:3])
    return splits


def file_sha256(path: str | Path) -> str:
    """The sha256 of a data file, recorded with each split so that a result names the exact data."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class SplitError(JsontuneError):
    """A recipe's `jsontune.split` names no known builder, or gives it options it does not take."""


@dataclass(frozen=True)
class SplitBuilder:
    """A named way to split data files into `Splits`.

    `options` is a dataclass whose fields are the keys a recipe may give beside `name` (its defaults are
    theirs; its `__post_init__` raises ValueError for a bad value). `build(files, seed, options)` returns
    the splits. `retired_keys` maps jsontune keys that this builder's options replaced to the form that
    replaces them, so an old recipe gets an error that shows the new one.
    """

    name: str
    options: type
    build: Callable[[list[str], int, Any], Splits]
    retired_keys: Mapping[str, str] = field(default_factory=dict)

    def parse_options(self, settings: Mapping[str, Any]) -> Any:
        """The builder's options from a recipe's split mapping (without `name`); SplitError when wrong."""
        known = [f.name for f in fields(self.options)]
        for key in settings:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; it takes {', '.join(known)}"
                raise SplitError(f"split {self.name!r} has no option '{key}'{hint}")
        try:
            return self.options(**settings)
        except (TypeError, ValueError) as err:
            raise SplitError(f"split {self.name!r}: {err}") from None


_REGISTERED: dict[str, SplitBuilder] = {}


def register_split_builder(builder: SplitBuilder) -> SplitBuilder:
    """Make a builder available by its name (a later registration of the same name replaces it)."""
    _REGISTERED[builder.name] = builder
    return builder


def split_builders() -> dict[str, SplitBuilder]:
    """Every known builder by name: the installed packages' entry points, then the registered ones."""
    found: dict[str, SplitBuilder] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            builder = entry.load()
        except Exception as err:  # noqa: BLE001 - a broken plug-in is named, not a traceback from deep inside
            raise SplitError(f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP}) does not load: "
                             f"{type(err).__name__}: {err}") from err
        if not isinstance(builder, SplitBuilder):
            raise SplitError(f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP}) is not a SplitBuilder")
        found[builder.name] = builder
    return {**found, **_REGISTERED}


def resolve_split(settings: Mapping[str, Any]) -> tuple[SplitBuilder, Any]:
    """The builder a recipe's split mapping names, and its checked options."""
    if not isinstance(settings, Mapping) or not isinstance(settings.get(NAME_KEY), str):
        raise SplitError(f"a split is a mapping with a '{NAME_KEY}' (the builder) and its options, "
                         f"e.g. {{{NAME_KEY}: BUILDER, option: value}}")
    builders = split_builders()
    name = settings[NAME_KEY]
    if name not in builders:
        known = ", ".join(sorted(builders)) or "none installed"
        raise SplitError(f"no split builder named {name!r} (known: {known}; packages declare theirs in the "
                         f"{ENTRY_POINT_GROUP!r} entry-point group, so jsontune must be installed: pip install -e .)")
    builder = builders[name]
    return builder, builder.parse_options({k: v for k, v in settings.items() if k != NAME_KEY})


def normalised_split(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The split mapping with every option spelled out (defaults included), as a resolved recipe saves it."""
    builder, options = resolve_split(settings)
    return {NAME_KEY: builder.name, **asdict(options)}


def build_splits(settings: Mapping[str, Any], files: list[str], seed: int) -> Splits:
    """The splits of `files` by the builder a recipe's split mapping names."""
    builder, options = resolve_split(settings)
    return builder.build(files, seed, options)


def retired_key_hints() -> dict[str, str]:
    """Old jsontune keys that split options replaced, with the form that replaces each."""
    return {key: hint for builder in split_builders().values() for key, hint in builder.retired_keys.items()}

"""The `domains` split builder: whole domains held out, so a test can tell reading the schema from recall.

A record's domain is its `meta.domain`, else its file's stem (data/snips/GetWeather.jsonl -> GetWeather).
The domains named in `test_domains` form the held-out test split and those in `dev_domains` the held-out
dev split: no training row comes from them. Every other domain is split on its own, a seeded share
`test_fraction` held out as the in-domain test split (and as much again as the in-domain dev split), the
rest trains. Test and dev rows are labelled by where they come from, `<dataset>` or `<dataset> (held-out
domains)`, so the report gives each its own rows.

Choices are made on dev: `evaluate_on: dev` puts the dev splits where the test splits go (the experiment
and the report then score dev), and the test splits stay unseen. A recipe asks for it by name:

    jsontune:
      split: {name: domains, test_domains: [weather, invoices], dev_domains: [flights], test_fraction: 0.1}
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from jsontune.data.contract import dataset_label, read_jsonl
from jsontune.data.splits import SplitBuilder, Splits, file_sha256

HELD_OUT = "held-out domains"
IN_DOMAIN = "in-domain"


def which_test_split(label: str) -> str:
    """Which test split a row's dataset label belongs to: `HELD_OUT` or `IN_DOMAIN`."""
    return HELD_OUT if label.endswith(f"({HELD_OUT})") else IN_DOMAIN


def domain_of(record: dict, path: str | Path) -> str:
    """A record's domain: its meta.domain, else its file's stem."""
    domain = (record.get("meta") or {}).get("domain")
    return domain if isinstance(domain, str) and domain else Path(path).stem


@dataclass(frozen=True)
class DomainSplitOptions:
    """The options of the `domains` split builder (see the module docstring).

    max_train_rows_per_domain / max_test_rows_per_domain / max_held_out_rows_per_domain: the first rows
    (seeded order) kept of each domain's training rows, of each in-domain test (and dev) share, and of each
    held-out domain (default: max_test_rows_per_domain); None keeps all.
    """

    test_domains: list[str] = field(default_factory=list)
    dev_domains: list[str] = field(default_factory=list)
    test_fraction: float = 0.1
    max_train_rows_per_domain: int | None = None
    max_test_rows_per_domain: int | None = None
    max_held_out_rows_per_domain: int | None = None
    evaluate_on: Literal["test", "dev"] = "test"

    def __post_init__(self):
        for name in ("test_domains", "dev_domains"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(d, str) and d for d in value):
                raise ValueError(f"{name} must be a list of domain names, not {value!r}")
        both = set(self.test_domains) & set(self.dev_domains)
        if both:
            raise ValueError(f"domains both in test_domains and dev_domains: {', '.join(sorted(both))}")
        if not isinstance(self.test_fraction, (int, float)) or not 0 <= self.test_fraction < 0.5:
            raise ValueError(f"test_fraction must be in [0, 0.5) (as much again goes to dev), not "
                             f"{self.test_fraction!r}")
        for name in ("max_train_rows_per_domain", "max_test_rows_per_domain", "max_held_out_rows_per_domain"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive integer or null, not {value!r}")
        if self.evaluate_on not in ("test", "dev"):
            raise ValueError(f"evaluate_on must be 'test' or 'dev', not {self.evaluate_on!r}")


def records_by_domain(files: list[str], seed: int) -> dict[str, list[tuple[dict, str]]]:
    """Every (record, file) of the files by domain, each domain's rows in a seeded order of its own (sorted by id,
    then shuffled by `seed` and the domain's name), so that a row limit keeps the same first rows whatever else
    the data holds."""
    by_domain: dict[str, list[tuple[dict, str]]] = {}
    for name in files:
        records, _ = read_jsonl(name)
        for record in records:
            by_domain.setdefault(domain_of(record, name), []).append((record, name))
    for domain, rows in by_domain.items():
        rows.sort(key=lambda row: row[0]["id"])
        random.Random(f"{seed}:{domain}").shuffle(rows)
    return by_domain


def held_out_label(record: dict, path: str | Path) -> str:
    """The dataset label of a row from a held-out domain: `<dataset> (held-out domains)`."""
    return f"{dataset_label(record, path)} ({HELD_OUT})"


def file_counts(files: list[str], by_domain: dict[str, list[tuple[dict, str]]], train: list[tuple[dict, str]],
                evaluated: list[tuple[dict, str, str]], other: list[tuple[dict, str, str]]) -> dict[str, dict]:
    """`Splits.files`: per file its rows, training rows, evaluated rows, rows held out but not evaluated, sha256."""
    return {name: {
        "rows": sum(1 for rows in by_domain.values() for _, f in rows if f == name), "bad_rows": 0,
        "train": sum(f == name for _, f in train), "test": sum(f == name for _, f, _ in evaluated),
        "held_out": sum(f == name for _, f, _ in other), "sha256": file_sha256(name),
    } for name in files}


def domain_splits(files: list[str], seed: int, options: DomainSplitOptions) -> Splits:
    """Train, test and dev by domain as the module says; the same files, options and seed give the same split."""
    by_domain = records_by_domain(files, seed)
    unknown = sorted(set(options.test_domains + options.dev_domains) - set(by_domain))
    if unknown:
        raise ValueError(f"no records of the domain(s) {', '.join(unknown)}; the data has "
                         f"{', '.join(sorted(by_domain))}")
    train: list[tuple[dict, str]] = []
    held = {"test": [], "dev": []}  # (record, file, label)
    cap = options.max_test_rows_per_domain
    held_cap = options.max_held_out_rows_per_domain or cap
    for domain, rows in by_domain.items():
        if domain in options.test_domains or domain in options.dev_domains:
            which = "test" if domain in options.test_domains else "dev"
            held[which] += [(r, f, held_out_label(r, f)) for r, f in rows[:held_cap]]
            continue
        n_held = round(len(rows) * options.test_fraction)
        held["test"] += [(r, f, dataset_label(r, f)) for r, f in rows[:n_held][:cap]]
        held["dev"] += [(r, f, dataset_label(r, f)) for r, f in rows[n_held:2 * n_held][:cap]]
        train += rows[2 * n_held:][:options.max_train_rows_per_domain]
    evaluated, other = (held["dev"], held["test"]) if options.evaluate_on == "dev" else (held["test"], held["dev"])
    splits = Splits(train=[r for r, _ in train], test=[r for r, _, _ in evaluated],
                    test_files=[f for _, f, _ in evaluated], test_labels=[label for _, _, label in evaluated],
                    files=file_counts(files, by_domain, train, evaluated, other))
    return splits


SPLIT_BUILDER = SplitBuilder(name="domains", options=DomainSplitOptions, build=domain_splits)

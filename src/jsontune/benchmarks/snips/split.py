"""The SNIPS benchmark's data: per intent a fixed test split, a dev split, and nested training samples.

The published engines were scored on 100 held-out queries per intent that we do not have (and must
not guess at), so the same shape is carved out of the training files: per intent, the records are
shuffled with the seed and the first `test_per_intent` distinct queries (case and whitespace
ignored) form the test split, the next `dev_per_intent` the dev split. Every other record whose
query differs from all of those is the training pool; a training sample of N per intent is the
pool's first N, so 10 ⊂ 20 ⊂ 50 ⊂ 70 ⊂ all, and no size touches a test or dev query.

A recipe asks for it by name, through the generic split registry (`jsontune.data.splits`; pyproject.toml
declares `SPLIT_BUILDER` as an entry point):

    jsontune:
      split: {name: snips, per_intent: 70, test_per_intent: 100, dev_per_intent: 20, augment: 3, slot_catalogue: null}
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from jsontune.benchmarks.snips.augment import augment_slots
from jsontune.benchmarks.snips.slot_catalogue import CATALOGUE_FORMATS, catalogue_text, with_catalogue
from jsontune.benchmarks.snips.span_schema import slots_by_intent
from jsontune.data.contract import normalise_prompt, read_jsonl
from jsontune.data.splits import SplitBuilder, Splits, file_sha256

TEST_PER_INTENT = 100
DEV_PER_INTENT = 20
ALL = "all"


@dataclass
class SnipsSplit:
    """Test and dev records (intent by intent) and the training pool of each intent."""

    test: list[dict]
    dev: list[dict]
    pool: dict[str, list[dict]]

    def train(self, per_intent: int | None) -> list[dict]:
        """The first `per_intent` pool records of each intent (None: all of them), intent by intent."""
        if per_intent is not None:
            short = {intent: len(rows) for intent, rows in self.pool.items() if len(rows) < per_intent}
            if short:
                raise ValueError(f"{per_intent} training queries per intent asked for, but the pool holds only "
                                 + ", ".join(f"{n} for {intent}" for intent, n in short.items()))
        return [record for rows in self.pool.values() for record in rows[:per_intent]]

    def records(self) -> list[dict]:
        """Every record: test, dev, then the whole pool."""
        return self.test + self.dev + [record for rows in self.pool.values() for record in rows]


def parse_per_intent(value: str | int) -> int | None:
    """'all' -> None; a positive integer (or its text) -> itself. Raises ValueError otherwise."""
    if isinstance(value, str) and value.strip().lower() == ALL:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"training queries per intent must be a positive integer or '{ALL}', not {value!r}") from None
    if number < 1:
        raise ValueError(f"training queries per intent must be at least 1, not {number}")
    return number


def query_text(record: dict) -> str:
    """The query of a converted SNIPS record (`meta.text`, else the prompt)."""
    return (record.get("meta") or {}).get("text") or record["prompt"]


def split_snips(records_by_intent: dict[str, list[dict]], seed: int, test_per_intent: int = TEST_PER_INTENT,
                dev_per_intent: int = DEV_PER_INTENT) -> SnipsSplit:
    """Split each intent's records as the module says; the same records and seed give the same split."""
    test: list[dict] = []
    dev: list[dict] = []
    pool: dict[str, list[dict]] = {}
    wanted = test_per_intent + dev_per_intent
    for intent, records in records_by_intent.items():
        order = sorted(records, key=lambda record: record["id"])
        random.Random(seed).shuffle(order)
        held: list[dict] = []
        held_texts: set[str] = set()
        for record in order:
            text = normalise_prompt(query_text(record))
            if text not in held_texts and len(held) < wanted:
                held.append(record)
                held_texts.add(text)
        if len(held) < wanted:
            raise ValueError(f"{intent}: {len(held)} distinct queries, fewer than the {test_per_intent} test + "
                             f"{dev_per_intent} dev queries asked for")
        test += held[:test_per_intent]
        dev += held[test_per_intent:]
        pool[intent] = [r for r in order if normalise_prompt(query_text(r)) not in held_texts]
    return SnipsSplit(test=test, dev=dev, pool=pool)


def load_snips_split(files: list[str | Path], seed: int, test_per_intent: int = TEST_PER_INTENT,
                     dev_per_intent: int = DEV_PER_INTENT) -> tuple[SnipsSplit, dict[str, str]]:
    """The split of the SNIPS records in contract files, and the file of each record id."""
    grouped: dict[str, list[dict]] = {}
    file_of: dict[str, str] = {}
    for name in files:
        records, _ = read_jsonl(name)
        for record in records:
            reference = record["reference"]
            if not (isinstance(reference, dict) and isinstance(reference.get("intent"), str)):
                raise ValueError(f"{name}: record {record['id']!r} is not a SNIPS record: its reference has no "
                                 '"intent" string')
            grouped.setdefault(reference["intent"], []).append(record)
            file_of[record["id"]] = str(name)
    return split_snips(grouped, seed, test_per_intent, dev_per_intent), file_of


@dataclass(frozen=True)
class SnipsSplitOptions:
    """The options of the `snips` split builder, as a recipe's `jsontune.split` gives them.

    per_intent: training queries per intent (a positive integer, or 'all': the whole pool);
    test_per_intent / dev_per_intent: the fixed test and dev queries per intent that no size touches;
    augment: slot-swapped variants added per training query (`jsontune.benchmarks.snips.augment`);
    slot_catalogue: None, or the rendering (template, outline) of every intent's slots that each prompt ends with
    (`jsontune.benchmarks.snips.slot_catalogue`).
    """

    per_intent: int | str = ALL
    test_per_intent: int = TEST_PER_INTENT
    dev_per_intent: int = DEV_PER_INTENT
    augment: int = 0
    slot_catalogue: str | None = None

    def __post_init__(self):
        parse_per_intent(self.per_intent)
        if self.slot_catalogue is not None and self.slot_catalogue not in CATALOGUE_FORMATS:
            raise ValueError(f"slot_catalogue must be one of {', '.join(CATALOGUE_FORMATS)} or null, not "
                             f"{self.slot_catalogue!r}")
        for name in ("test_per_intent", "dev_per_intent", "augment"):
            value = getattr(self, name)
            least = 1 if name == "test_per_intent" else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer of at least {least}, not {value!r}")

    @property
    def training_size(self) -> int | None:
        """Training queries per intent (None: all)."""
        return parse_per_intent(self.per_intent)


def catalogue_prompt(split: SnipsSplit, options: SnipsSplitOptions) -> str | None:
    """The slot catalogue text that every prompt of this split ends with, from all its records' slots (None when
    options.slot_catalogue is unset). Training (`snips_splits`) and the benchmark's evaluation both take it here."""
    if not options.slot_catalogue:
        return None
    return catalogue_text(slots_by_intent(split.records()), options.slot_catalogue)


def snips_splits(files: list[str], seed: int, options: SnipsSplitOptions) -> Splits:
    """Training sample (options.per_intent per intent) and test split, in the form training uses.

    With options.augment, each training query also gets that many slot-swapped variants; with
    options.slot_catalogue, every prompt ends with the catalogue of all intents' slots.
    """
    split, file_of = load_snips_split(files, seed, options.test_per_intent, options.dev_per_intent)
    train = augment_slots(split.train(options.training_size), options.augment, seed)
    test = split.test
    text = catalogue_prompt(split, options)
    if text:
        train, test = with_catalogue(train, text), with_catalogue(test, text)
    for record in train:
        file_of.setdefault(record["id"], file_of[(record.get("meta") or {}).get("augmented_from", record["id"])])
    splits = Splits(train=train, test=test, test_files=[file_of[r["id"]] for r in test])
    for name in files:
        in_file = [file_of[r["id"]] == name for r in splits.train], [file_of[r["id"]] == name for r in splits.test]
        splits.files[name] = {"rows": sum(1 for f in file_of.values() if f == name), "bad_rows": 0,
                              "train": sum(in_file[0]), "test": sum(in_file[1]),
                              "sha256": file_sha256(name)}
    return splits


SPLIT_BUILDER = SplitBuilder(
    name="snips",
    options=SnipsSplitOptions,
    build=snips_splits,
    retired_keys={
        "snips_per_intent": "split: {name: snips, per_intent: N}",
        "snips_test_per_intent": "split: {name: snips, test_per_intent: N}",
        "snips_dev_per_intent": "split: {name: snips, dev_per_intent: N}",
        "snips_augment": "split: {name: snips, augment: N}",
    },
)

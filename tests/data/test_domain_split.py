"""The `domains` split: whole domains held out of training, for a test (and a dev split) of unseen domains."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from jsontune.data.domain_split import HELD_OUT, IN_DOMAIN, domain_of, which_test_split
from jsontune.data.splits import SplitError, build_splits, normalised_split


@pytest.fixture
def files(tmp_path) -> list[str]:
    """Four domains of 20 records in one file (meta.domain), and a file whose stem is its domain."""
    (tmp_path / "data").mkdir()  # a file straight in a data/ folder is labelled by its stem
    mixed = tmp_path / "data" / "mixed.jsonl"
    mixed.write_text("".join(json.dumps({"id": f"{d}-{i}", "prompt": f"{d} {i}", "reference": {"i": i},
                                         "meta": {"domain": d}}) + "\n"
                             for d in ("orders", "weather", "flights", "contacts") for i in range(20)))
    stem = tmp_path / "data" / "GetWeather.jsonl"
    stem.write_text("".join(json.dumps({"prompt": f"rain {i}", "reference": {"r": i}}) + "\n" for i in range(10)))
    return [str(mixed), str(stem)]


def split(files, **options):
    return build_splits({"name": "domains", **options}, files, 42)


def test_no_training_row_comes_from_a_held_out_domain_and_its_test_rows_say_so(files):
    splits = split(files, test_domains=["weather"], dev_domains=["flights"], test_fraction=0.1)
    domains = Counter(domain_of(r, f) for r in splits.train for f in [files[0] if "meta" in r else files[1]])
    assert set(domains) == {"orders", "contacts", "GetWeather"}
    assert domains == {"orders": 16, "contacts": 16, "GetWeather": 8}  # 2 test + 2 dev held from each
    labels = Counter(splits.test_datasets())
    assert labels == {"mixed (held-out domains)": 20, "mixed": 4, "GetWeather": 1}
    assert not {r["id"] for r in splits.train} & {r["id"] for r in splits.test}


def test_evaluating_on_dev_swaps_in_the_dev_splits_and_leaves_test_unseen(files):
    test = split(files, test_domains=["weather"], dev_domains=["flights"])
    dev = split(files, test_domains=["weather"], dev_domains=["flights"], evaluate_on="dev")
    assert [r["id"] for r in dev.train] == [r["id"] for r in test.train]
    assert not {r["id"] for r in dev.test} & {r["id"] for r in test.test}
    assert {r["id"].split("-")[0] for r in dev.test if "held-out" in "".join(dev.test_datasets())} >= {"flights"}
    assert all(not r["id"].startswith("weather") for r in dev.test)


def test_the_same_options_and_seed_give_the_same_split_and_the_row_caps_apply(files):
    first = split(files, test_domains=["weather"], max_train_rows_per_domain=5, max_test_rows_per_domain=3)
    again = split(files, test_domains=["weather"], max_train_rows_per_domain=5, max_test_rows_per_domain=3)
    assert [r["id"] for r in first.train + first.test] == [r["id"] for r in again.train + again.test]
    assert len(first.train) == 5 * 4 and Counter(first.test_datasets())["mixed (held-out domains)"] == 3


@pytest.mark.parametrize("options, message", [
    ({"test_domains": ["nowhere"]}, "no records of the domain(s) nowhere"),
    ({"test_domains": ["weather"], "dev_domains": ["weather"]}, "both in test_domains and dev_domains"),
    ({"test_fraction": 0.6}, "test_fraction must be in [0, 0.5)"),
    ({"test_domains": "weather"}, "must be a list of domain names"),
    ({"evaluate_on": "train"}, "evaluate_on must be 'test' or 'dev'"),
])
def test_bad_options_are_named(files, options, message):
    with pytest.raises((SplitError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")):
        split(files, **options)


def test_a_resolved_recipe_spells_out_every_option():
    assert normalised_split({"name": "domains", "test_domains": ["weather"]}) == {
        "name": "domains", "test_domains": ["weather"], "dev_domains": [], "test_fraction": 0.1,
        "max_train_rows_per_domain": None, "max_test_rows_per_domain": None, "max_held_out_rows_per_domain": None,
        "evaluate_on": "test"}


def test_a_held_out_domain_has_its_own_row_cap_and_its_rows_are_named_for_their_test_split(files):
    splits = split(files, test_domains=["weather"], max_test_rows_per_domain=1, max_held_out_rows_per_domain=6)
    labels = Counter(splits.test_datasets())
    assert labels == {"mixed (held-out domains)": 6, "mixed": 3, "GetWeather": 1}
    assert Counter(which_test_split(label) for label in splits.test_datasets()) == {HELD_OUT: 6, IN_DOMAIN: 4}

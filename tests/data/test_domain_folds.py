"""The domain_folds split builder: every domain held out by exactly one fold, folds fixed by the seed and balanced."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from jsontune.data.domain_folds import DomainFoldOptions, assign_folds, domain_fold_splits, fold_of_domains
from jsontune.data.domain_split import domain_of, records_by_domain
from jsontune.recipe import RecipeError, load_recipe

EMBEDDED = load_recipe("recipes/lora.yaml").jsontune.data_files  # the synthetic domains and the SNIPS intents


DOMAIN_OF_ID = {record["id"]: domain for domain, rows in records_by_domain(EMBEDDED, 42).items() for record, _ in rows}


def _domains(splits, which: str) -> Counter:
    if which == "test":
        return Counter(domain_of(record, path) for record, path in zip(splits.test, splits.test_files))
    return Counter(DOMAIN_OF_ID[record["id"]] for record in splits.train)


def test_every_domain_of_the_embedded_data_is_held_out_by_exactly_one_fold_and_never_trains_there():
    folds = 5
    every = set(records_by_domain(EMBEDDED, 42))
    held_out = Counter()
    for k in range(folds):
        splits = domain_fold_splits(EMBEDDED, 42, DomainFoldOptions(folds, k, 8, 4))
        tested, trained = _domains(splits, "test"), _domains(splits, "train")
        assert not set(tested) & set(trained)
        assert set(tested) | set(trained) == every  # the other folds' domains all train
        assert max(tested.values()) == 4 and max(trained.values()) == 8  # the row limits per domain
        held_out.update(set(tested))
        assert all(label.endswith("(held-out domains)") for label in splits.test_labels)
    assert set(held_out) == every and set(held_out.values()) == {1}


def test_folds_are_balanced_by_held_out_rows_and_fixed_by_the_seed():
    sizes = {"a": 9, "b": 7, "c": 4, "d": 4, "e": 3, "f": 3, "g": 2}
    folds = assign_folds(sizes, 3, seed=1)
    totals = Counter()
    for domain, fold in folds.items():
        totals[fold] += sizes[domain]
    assert sorted(totals.values()) == [10, 11, 11]  # 32 rows: no fold more than one domain's worth off
    assert assign_folds(sizes, 3, seed=1) == folds
    assert assign_folds(sizes, 3, seed=4) != folds  # the seed orders domains of equal size (e and f here)
    assert fold_of_domains(EMBEDDED, 42, DomainFoldOptions(5)) != fold_of_domains(EMBEDDED, 7, DomainFoldOptions(5))


def test_a_recipe_names_a_fold_and_wrong_fold_options_are_refused_by_name():
    split = {"name": "domain_folds", "folds": 5, "fold": 2, "max_train_rows_per_domain": 3}
    recipe = load_recipe("recipes/lora.yaml", ["--split", json.dumps(split)])
    splits = recipe.splits()
    assert len(splits.test) > 0 and len({r["id"] for r in splits.test} & {r["id"] for r in splits.train}) == 0
    for bad, message in (({"fold": 5}, r"fold must be one of 0 to 4, not 5"),
                         ({"folds": 1}, r"folds must be an integer of 2 or more, not 1"),
                         ({"max_held_out_rows_per_domain": 0}, r"max_held_out_rows_per_domain must be a positive")):
        with pytest.raises(RecipeError, match="the command line: jsontune.split: split 'domain_folds': " + message):
            load_recipe("recipes/lora.yaml", ["--split", json.dumps({**split, **bad})]).splits()
    with pytest.raises(ValueError, match=r"60 folds need 60 domains or more; the data has 51"):
        assign_folds(dict.fromkeys(records_by_domain(EMBEDDED, 42), 1), 60, 0)

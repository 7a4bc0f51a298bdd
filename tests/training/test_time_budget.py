"""A training time budget stops the run after the step that reaches it, and the run is saved as any other."""

from __future__ import annotations

import pytest

from jsontune import run_dir
from jsontune.recipe import RecipeError, load_recipe
from jsontune.training.train import train


def test_a_run_past_its_time_budget_stops_after_that_step_and_is_saved(make_recipe):
    recipe = load_recipe(make_recipe(max_steps=50, jsontune={"max_train_seconds": 1e-3}))

    figures = train(recipe)

    assert figures["global_steps"] == 1 and figures["stopped_by_time_budget"] is True
    assert run_dir.is_trained(recipe.training.output_dir)
    saved = run_dir.read_train_results(recipe.training.output_dir)
    assert saved["max_train_seconds"] == 1e-3 and saved["stopped_by_time_budget"] is True


def test_a_run_within_its_time_budget_trains_every_step(make_recipe):
    figures = train(load_recipe(make_recipe(max_steps=3, jsontune={"max_train_seconds": 3600})))
    assert figures["global_steps"] == 3 and figures["stopped_by_time_budget"] is False


@pytest.mark.parametrize("seconds", [0, -5])
def test_a_time_budget_that_is_not_positive_is_refused_naming_the_recipe(make_recipe, seconds):
    path = make_recipe(jsontune={"max_train_seconds": seconds})
    with pytest.raises(RecipeError, match=rf"{path.name}: jsontune.max_train_seconds must be positive"):
        load_recipe(path)

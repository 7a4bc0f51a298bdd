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


def _rank_past_or_within_its_budget(rank: int, port: int, out: str) -> None:
    """Rank 0 has trained 20 s of a 10 s budget, rank 1 none of it: both must stop at this step."""
    import time
    from pathlib import Path

    import torch.distributed as dist
    from transformers import TrainerControl, TrainerState

    from jsontune.training.time_budget import TimeBudgetCallback

    dist.init_process_group("gloo", rank=rank, world_size=2, init_method=f"tcp://127.0.0.1:{port}")
    try:
        budget = TimeBudgetCallback(10)
        budget.started = time.perf_counter() - (20 if rank == 0 else 0)
        state, control = TrainerState(), TrainerControl()
        state.global_step = 3
        budget.on_step_end(None, state, control)
        Path(out, f"rank{rank}").write_text(f"{control.should_training_stop} {budget.stopped_at_step}")
    finally:
        dist.destroy_process_group()


@pytest.mark.distributed
def test_every_rank_stops_at_the_step_where_the_slowest_reaches_the_budget(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_rank_past_or_within_its_budget, args=(port, str(tmp_path)), nprocs=2)
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["True 3", "True 3"]

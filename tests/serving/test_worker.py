"""The model thread: requests join a running batch, each ends exactly once, and a failing step fails only its rows."""

from __future__ import annotations

import threading

import pytest

from jsontune.decoding.engine import Engine, Request
from jsontune.serving.worker import ModelWorker, QueueFull


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


class _Outcomes:
    """Collects what each request was told, from the model thread."""

    def __init__(self, expected: int):
        self.told: dict[int, list] = {}
        self._lock = threading.Lock()
        self._expected = expected
        self.all_told = threading.Event()

    def callbacks(self, index: int):
        def tell(kind):
            def record(value):
                with self._lock:
                    self.told.setdefault(index, []).append((kind, value))
                    if len(self.told) == self._expected:
                        self.all_told.set()
            return record
        return tell("answer"), tell("error")


def _prompts(tokenizer, n: int) -> list[list[int]]:
    return [tokenizer(f"Order {i}: Carla bought {i} pens.")["input_ids"] for i in range(n)]


def test_every_request_ends_exactly_once_and_a_cancelled_one_is_never_answered(tiny_model, tokenizer):
    worker = ModelWorker(Engine(tiny_model, tokenizer, -1), slots=3, capacity=64, max_queue=20)
    worker.start()
    prompts = _prompts(tokenizer, 12)
    outcomes = _Outcomes(expected=11)
    tickets = [worker.submit(Request(p, 30), *outcomes.callbacks(i)) for i, p in enumerate(prompts)]
    worker.cancel(tickets[5])
    assert outcomes.all_told.wait(60)
    worker.stop()

    assert sorted(outcomes.told) == [i for i in range(12) if i != 5]
    assert all(len(told) == 1 and told[0][0] == "answer" for told in outcomes.told.values())
    assert worker.in_flight == 0 and worker.completed == 11
    assert worker.engine.rows_stepped > worker.engine.steps  # the requests shared the batch


def test_a_request_beyond_the_batch_and_the_queue_is_refused_at_once(tiny_model, tokenizer):
    worker = ModelWorker(Engine(tiny_model, tokenizer, -1), slots=2, capacity=64, max_queue=1)  # not started
    for prompt in _prompts(tokenizer, 3):
        worker.submit(Request(prompt, 4), lambda answer: None, lambda error: None)
    with pytest.raises(QueueFull):
        worker.submit(Request(_prompts(tokenizer, 1)[0], 4), lambda answer: None, lambda error: None)


def test_a_failing_step_fails_the_requests_in_flight_and_the_worker_serves_the_next_ones(tiny_model, tokenizer):
    engine = Engine(tiny_model, tokenizer, -1)
    worker = ModelWorker(engine, slots=4, capacity=64, max_queue=4)
    real_step = engine.step
    broken = {"left": 1}

    def step():
        if broken["left"]:
            broken["left"] -= 1
            raise RuntimeError("out of memory")
        real_step()

    engine.step = step
    first = _Outcomes(expected=2)
    for i, prompt in enumerate(_prompts(tokenizer, 2)):
        worker.submit(Request(prompt, 8), *first.callbacks(i))
    worker.start()
    assert first.all_told.wait(60)
    second = _Outcomes(expected=1)
    worker.submit(Request(_prompts(tokenizer, 1)[0], 8), *second.callbacks(0))
    assert second.all_told.wait(60)
    worker.stop()

    assert [told[0][0] for told in first.told.values()] == ["error", "error"]
    assert second.told[0][0][0] == "answer" and worker.in_flight == 0

"""Progressive sampling: greedy first, retries at rising temperatures only for invalid answers."""

from __future__ import annotations

import pytest

from jsontune.decoding import strategies as decoding
from jsontune.decoding.engine import Generation
from jsontune.decoding.strategies import DecodingConfig, attempt_seed, decode, is_valid_answer

SCHEMA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}


def test_schedule():
    assert DecodingConfig().schedule() == [None]
    assert DecodingConfig("progressive").schedule() == [None, 0.3, 0.6, 0.9]
    assert DecodingConfig("progressive", (0.5, 1.0), max_attempts=2).schedule() == [None, 0.5]
    assert DecodingConfig("progressive", max_attempts=1).schedule() == [None]


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "beam"}, "one of greedy, progressive, constrained, not 'beam'"),
    ({"mode": "progressive", "temperatures": (0.3, 0.0)}, "positive"),
    ({"mode": "progressive", "max_attempts": 0}, "at least 1"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DecodingConfig(**kwargs)


def test_validity_uses_the_schema_only_when_there_is_one():
    assert is_valid_answer('{"name": "Bob"}', SCHEMA)
    assert not is_valid_answer('{"nom": "Bob"}', SCHEMA)
    assert is_valid_answer('{"nom": "Bob"}', None)  # no schema: parsing is all that can be asked
    assert is_valid_answer('```json\n{"name": "Bob",}\n```', SCHEMA)  # cleaning counts for validity
    assert not is_valid_answer("I am sorry", None)


def test_progressive_retries_only_invalid_rows_at_rising_temperatures(monkeypatch):
    # Scripted answers per (row, temperature): row 0 is valid at once, row 1 at the second retry,
    # row 2 never.
    script = {
        (0, None): '{"name": "A"}',
        (1, None): '{"nom": ', (1, 0.3): "nope", (1, 0.6): '{"name": "B"}',
        (2, None): "x", (2, 0.3): "y", (2, 0.6): "z", (2, 0.9): '{"nom": 1}',
    }
    asked = []

    class ScriptedEngine:
        """Answers from the script, asking each request's retry the way the engine does."""

        def __init__(self, model, tokenizer, stop_token, max_batch_size):
            self.stop_token = stop_token

        def run(self, requests, progress=True, desc=""):
            results = []
            for request in requests:
                row, sampling, tries = request.prompt[0], request.sampling, []
                while sampling is not None:
                    asked.append((row, sampling.temperature, sampling.seed))
                    tries.append(Generation(script[(row, sampling.temperature)], 3, 0.5, True))
                    sampling = request.retry(tries[-1]) if request.retry else None
                results.append(tries)
            return results

    monkeypatch.setattr(decoding, "Engine", ScriptedEngine)
    monkeypatch.setattr(decoding, "end_of_turn_id", lambda tokenizer: 0)
    attempts = decode(None, None, [[0], [1], [2]], [SCHEMA] * 3, DecodingConfig("progressive", seed=7))

    assert [(row, temperature) for row, temperature, _ in asked] == [
        (0, None), (1, None), (1, 0.3), (1, 0.6), (2, None), (2, 0.3), (2, 0.6), (2, 0.9)]
    assert [seed for row, temperature, seed in asked if temperature is not None] == [
        attempt_seed(7, n, row) for row, n in ((1, 1), (1, 2), (2, 1), (2, 2), (2, 3))]
    assert len({seed for _, temperature, seed in asked if temperature is not None}) == 5, "every attempt its own seed"
    assert [len(a) for a in attempts] == [1, 3, 4]
    assert [a[-1].valid for a in attempts] == [True, True, False]
    assert [t.temperature for t in attempts[2]] == [None, 0.3, 0.6, 0.9]
    assert attempts[1][-1].text == '{"name": "B"}'

    asked.clear()
    greedy = decode(None, None, [[0], [1], [2]], [SCHEMA] * 3, DecodingConfig())
    assert len(asked) == 3 and [len(a) for a in greedy] == [1, 1, 1]
    assert [a[0].valid for a in greedy] == [True, False, False]

"""Progressive sampling: greedy first, retries at rising temperatures only for invalid answers."""

from __future__ import annotations

import pytest

from jsontune.decoding import strategies as decoding
from jsontune.decoding.generate import Generation
from jsontune.decoding.strategies import DecodingConfig, decode, is_valid_answer

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
    calls = []

    def fake_generate(model, tokenizer, prompts, temperature=None, seed=0, **kwargs):
        calls.append(([p[0] for p in prompts], temperature, seed))
        return [Generation(script[(p[0], temperature)], 3, 0.5, True) for p in prompts]

    monkeypatch.setattr(decoding, "generate", fake_generate)
    attempts = decode(None, None, [[0], [1], [2]], [SCHEMA] * 3, DecodingConfig("progressive", seed=7))

    assert calls == [([0, 1, 2], None, 7), ([1, 2], 0.3, 8), ([1, 2], 0.6, 9), ([2], 0.9, 10)]
    assert [len(a) for a in attempts] == [1, 3, 4]
    assert [a[-1].valid for a in attempts] == [True, True, False]
    assert [t.temperature for t in attempts[2]] == [None, 0.3, 0.6, 0.9]
    assert attempts[1][-1].text == '{"name": "B"}'

    calls.clear()
    greedy = decode(None, None, [[0], [1], [2]], [SCHEMA] * 3, DecodingConfig())
    assert len(calls) == 1 and [len(a) for a in greedy] == [1, 1, 1]

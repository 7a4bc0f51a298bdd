"""The decoding engine answers every row as HF `generate` would, while rows join and leave the batch."""

from __future__ import annotations

import pytest
import torch

from jsontune.data.contract import read_jsonl
from jsontune.data.prompting import PromptConfig, end_of_turn_id, prompt_ids
from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.constrained.grammars import constraints_for
from jsontune.decoding.engine import Engine, Request, Sampling
from jsontune.decoding.generate import generate
from tests import REPO

RECORDS = REPO / "data" / "synthetic" / "records.jsonl"


def _sample(tokenizer, rows: int, schema_in_prompt: bool = False):
    """Real prompts of mixed lengths from the embedded data, and their schemas."""
    records, _ = read_jsonl(RECORDS)
    records = records[:: len(records) // rows][:rows]
    config = PromptConfig("chat", schema_in_prompt=schema_in_prompt)
    return [prompt_ids(tokenizer, r, config) for r in records], [r.get("schema") for r in records]


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


def _hf_greedy(model, prompts, max_new_tokens: int, stop: int, pad: int) -> list[list[int]]:
    """HF `generate`, one prompt at a time (no padding): the tokens of each greedy answer, the stop token kept."""
    answers = []
    for prompt in prompts:
        output = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop, pad_token_id=pad)
        new = output[0, len(prompt):].tolist()
        answers.append(new[: new.index(stop) + 1] if stop in new else new)
    return answers


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_greedy_answers_match_hf_generate_while_rows_of_different_budgets_join_and_leave(attention, tiny_model_dir,
                                                                                         tokenizer):
    from transformers import AutoModelForCausalLM

    tiny_model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention).eval()
    prompts, _ = _sample(tokenizer, 64)
    stop = end_of_turn_id(tokenizer)
    reference = _hf_greedy(tiny_model, prompts, 24, stop, tokenizer.pad_token_id)
    budgets = [4 + (i * 7) % 21 for i in range(len(prompts))]  # 4..24 tokens, mixed: rows leave at different steps
    engine = Engine(tiny_model, tokenizer, stop, max_batch_size=8)
    answers = engine.run([Request(p, b) for p, b in zip(prompts, budgets)], progress=False)

    for row, ([answer], expected, budget) in enumerate(zip(answers, reference, budgets)):
        expected = expected[:budget]  # a greedy answer with a smaller budget is the start of the longer one
        finished = expected[-1] == stop
        text = tokenizer.decode(expected[:-1] if finished else expected, skip_special_tokens=True)
        assert (answer.text, answer.new_tokens, answer.finished) == (text, len(expected), finished), f"row {row}"


def test_constrained_answers_match_hf_generate_with_the_grammar_processor(tiny_model, tokenizer):
    prompts, schemas = _sample(tokenizer, 64)
    stop = end_of_turn_id(tokenizer)
    constraints = constraints_for(tiny_model, tokenizer, schemas, bounds=Bounds(max_string_length=12, max_items=2),
                                  stop_token=stop)
    reference = generate(tiny_model, tokenizer, prompts, max_new_tokens=96, batch_size=16, progress=False,
                         constraints=constraints)
    engine = Engine(tiny_model, tokenizer, stop, max_batch_size=8)
    requests = [Request(p, 96, constraint=lambda i=i: constraints.constraint(i)) for i, p in enumerate(prompts)]
    answers = engine.run(requests, progress=False)

    assert len({r.new_tokens for r in reference}) > 5, "rows end at different steps"
    for row, ([answer], expected) in enumerate(zip(answers, reference)):
        assert (answer.text, answer.new_tokens, answer.finished) == (expected.text, expected.new_tokens,
                                                                     expected.finished), f"row {row}"


def test_a_sampled_answer_does_not_depend_on_the_rows_beside_it(tiny_model, tokenizer):
    prompts, _ = _sample(tokenizer, 12)
    requests = [Request(p, 16, Sampling(0.9, seed=100 + i)) for i, p in enumerate(prompts)]
    alone = Engine(tiny_model, tokenizer, -1, max_batch_size=1).run(requests, progress=False)
    together = Engine(tiny_model, tokenizer, -1, max_batch_size=5).run(requests, progress=False)
    greedy = Engine(tiny_model, tokenizer, -1, max_batch_size=5).run([Request(p, 16) for p in prompts], progress=False)

    assert [a[0].text for a in alone] == [t[0].text for t in together]
    assert [a[0].text for a in alone] != [g[0].text for g in greedy], "temperature 0.9 samples"


def test_a_retry_starts_from_the_kept_prompt_and_the_others_go_on(tiny_model, tokenizer):
    prompts, _ = _sample(tokenizer, 6)
    plan = {0: [Sampling(), Sampling(0.7, seed=1)], 3: [Sampling()]}  # what each retry asks, in order

    def retry(row):
        return lambda answer: plan[row].pop(0) if plan.get(row) else None

    engine = Engine(tiny_model, tokenizer, -1, max_batch_size=2)
    answers = engine.run([Request(p, 12, retry=retry(i)) for i, p in enumerate(prompts)], progress=False)
    plain = engine.run([Request(p, 12) for p in prompts], progress=False)

    assert [len(a) for a in answers] == [3, 1, 1, 2, 1, 1]
    assert answers[0][0].text == answers[0][1].text == plain[0][0].text, "a greedy retry repeats the greedy answer"
    assert answers[3][1].text == plain[3][0].text
    assert [a[-1].text for a in answers[1:3] + answers[4:]] == [p[0].text for p in plain[1:3] + plain[4:]]


def test_models_whose_attention_the_engine_would_get_wrong_are_named():
    from transformers import LlamaConfig, MistralConfig

    from jsontune.decoding.engine import unsupported_attention

    assert unsupported_attention(LlamaConfig()) is None
    assert "sliding window of 16 tokens" in unsupported_attention(MistralConfig(sliding_window=16))
    assert unsupported_attention(MistralConfig(sliding_window=None)) is None


def test_an_attention_the_engine_cannot_mask_is_refused_by_name(tiny_model_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="flex_attention")
    with pytest.raises(ValueError, match="not 'flex_attention'"):
        Engine(model, tokenizer, 0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["greedy", "constrained"])
def test_the_embedded_model_answers_64_real_prompts_as_hf_generate_does(mode, embedded_model_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(embedded_model_dir).eval()
    prompts, schemas = _sample(tokenizer, 64, schema_in_prompt=True)
    stop = end_of_turn_id(tokenizer)
    constraints = constraints_for(model, tokenizer, schemas, stop_token=stop) if mode == "constrained" else None
    reference = generate(model, tokenizer, prompts, max_new_tokens=32, batch_size=16, progress=False,
                         constraints=constraints)
    requests = [Request(p, 32, constraint=(lambda i=i: constraints.constraint(i)) if constraints else None)
                for i, p in enumerate(prompts)]
    answers = Engine(model, tokenizer, stop, max_batch_size=32).run(requests, progress=False)

    assert [a[0].text for a in answers] == [r.text for r in reference]
    assert [a[0].finished for a in answers] == [r.finished for r in reference]


def test_fewer_rows_decode_together_when_their_cache_would_not_fit_in_memory(tiny_model, tokenizer, monkeypatch,
                                                                             caplog):
    import jsontune.decoding.engine as engine_module
    from jsontune.decoding.engine import cache_bytes_per_position

    prompts, _ = _sample(tokenizer, 6)
    per_row = (max(map(len, prompts)) + 8) * cache_bytes_per_position(tiny_model.config, torch.float32)
    room = int(2.5 * per_row / engine_module.CACHE_MEMORY_SHARE)  # a cache of two rows and a half
    monkeypatch.setattr(engine_module, "available_memory_bytes", lambda device: room)
    engine = Engine(tiny_model, tokenizer, -1, max_batch_size=8)
    answers = engine.run([Request(p, 8) for p in prompts], progress=False)

    assert engine._cache.slots == 2
    assert "decoding 2 rows at a time, not 6" in caplog.text
    assert [a[0].text for a in answers] == [g.text for g in generate(tiny_model, tokenizer, prompts, max_new_tokens=8,
                                                                      progress=False)]


def _texts(answers) -> list[str]:
    return [tries[-1].text for tries in answers]


def test_a_request_submitted_while_others_decode_joins_the_batch_and_answers_as_it_would_alone(tiny_model, tokenizer):
    prompts, _ = _sample(tokenizer, 6)
    alone = _texts(Engine(tiny_model, tokenizer, -1, max_batch_size=1).run([Request(p, 12) for p in prompts],
                                                                           progress=False))
    engine = Engine(tiny_model, tokenizer, -1, max_batch_size=3)
    engine.open(3, max(len(p) for p in prompts) + 12)
    done: dict[int, str] = {}
    for i, prompt in enumerate(prompts):  # one new request every other step, into a batch already decoding
        engine.submit(Request(prompt, 12), lambda tries, i=i: done.__setitem__(i, tries[-1].text))
        engine.step()
        engine.step()
    while engine.busy:
        engine.step()

    assert [done[i] for i in range(len(prompts))] == alone
    assert engine.rows_stepped > engine.steps  # rows did decode together


def test_a_cancelled_request_leaves_the_batch_unanswered_and_the_others_answer_as_without_it(tiny_model, tokenizer):
    prompts, _ = _sample(tokenizer, 5)
    expected = _texts(Engine(tiny_model, tokenizer, -1).run([Request(p, 16) for p in prompts], progress=False))
    engine = Engine(tiny_model, tokenizer, -1, max_batch_size=3)
    engine.open(3, max(len(p) for p in prompts) + 16)
    done: dict[int, str] = {}
    tickets = [engine.submit(Request(p, 16), lambda tries, i=i: done.__setitem__(i, tries[-1].text))
               for i, p in enumerate(prompts)]
    engine.step()
    engine.step()
    assert engine.cancel(tickets[1])  # running: its slot goes to a waiting request
    assert engine.cancel(tickets[4])  # still waiting
    assert not engine.cancel(tickets[4])
    while engine.busy:
        engine.step()

    assert sorted(done) == [0, 2, 3]
    assert [done[i] for i in (0, 2, 3)] == [expected[i] for i in (0, 2, 3)]


def test_a_request_that_does_not_fit_the_open_batch_is_refused_before_it_queues(tiny_model, tokenizer):
    engine = Engine(tiny_model, tokenizer, -1)
    engine.open(2, 10)
    with pytest.raises(ValueError, match="do not fit the 10 positions"):
        engine.submit(Request(list(range(8)), 4), lambda tries: None)
    assert not engine.busy

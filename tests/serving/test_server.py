"""The real server process, called with the official `openai` client: answers, refusals, load, shutdown."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import openai
import pytest

from jsontune.benchmarks.serve_speed import ServerProcess, chat_requests, load_test
from jsontune.data.schemas import validator

pytestmark = pytest.mark.slow

KEY = "test-key-0123456789"
CONTACT = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
           "required": ["name", "city"]}
BODY_LIMIT = 20_000


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with ServerProcess(str(tiny_model_dir), "--served-model-name", "tiny", "--max-tokens", "256",
                       "--max-prompt-tokens", "256", "--max-body-bytes", str(BODY_LIMIT), api_key=KEY,
                       log=log) as process:
        yield process
    # uvicorn shuts down, then re-raises SIGTERM so that the exit status says which signal ended it
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text() and "Finished server process" in log.read_text()
    assert KEY not in log.read_text()


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)


def _http(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    """(status, JSON body) of a plain GET or POST, errors included."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _ask(client, **arguments):
    return client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Bob lives in Oslo."}],
                                          **arguments)


def test_a_json_schema_response_format_gives_json_that_follows_the_schema(client):
    answer = _ask(client, response_format={"type": "json_schema",
                                           "json_schema": {"name": "contact", "schema": CONTACT, "strict": True}})
    value = json.loads(answer.choices[0].message.content)
    assert validator(CONTACT).is_valid(value) and set(value) == {"name", "city"}  # strict: no other key
    assert answer.usage.prompt_tokens > 5 and 0 < answer.usage.completion_tokens <= 256
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_a_json_object_response_format_gives_a_json_object(client):
    answer = _ask(client, response_format={"type": "json_object"})
    assert isinstance(json.loads(answer.choices[0].message.content), dict)


def test_without_a_response_format_the_model_decodes_freely_up_to_its_budget(client):
    answer = _ask(client, max_tokens=7)
    assert answer.usage.completion_tokens <= 7
    assert answer.choices[0].finish_reason in ("stop", "length")


def test_the_model_list_names_the_served_model(client):
    assert [m.id for m in client.models.list().data] == ["tiny"]


@pytest.mark.parametrize("arguments, param, words", [
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}},
     "response_format.json_schema.schema", "not a valid JSON Schema"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=a)b"}}}}}},
     "response_format.json_schema.schema", "keyword 'pattern'"),
    ({"max_tokens": 0}, "max_tokens", "at least 1"),
    ({"max_tokens": 257}, "max_tokens", "limit of 256"),
    ({"n": 2}, "n", "one answer"),
    ({"temperature": 7}, "temperature", "less than or equal to 2"),
])
def test_a_bad_field_gets_a_400_error_object_naming_it(client, arguments, param, words):
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(client, **arguments)
    error = caught.value.body
    assert error["param"] == param and words in error["message"], error


@pytest.mark.parametrize("messages, param", [
    ([], "messages"),
    ([{"role": "tool", "content": "x"}], "messages[0].role"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": "{}"}], "messages[1].role"),
    ([{"role": "user", "content": "  "}], "messages[0].content"),
])
def test_bad_messages_get_a_400_naming_the_message(client, messages, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="tiny", messages=messages)
    assert caught.value.body["param"] == param


def test_an_unknown_model_gets_a_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["code"] == "model_not_found"


def test_a_missing_or_wrong_key_gets_a_401(server):
    wrong = openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    status, body = _http(f"{server.url}/v1/models")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


def test_malformed_json_and_an_oversized_body_get_400_and_413_error_objects(server):
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    status, body = _http(f"{server.url}/v1/chat/completions", b'{"model": "tiny", ', headers)
    assert status == 400 and "not valid JSON" in body["error"]["message"]
    big = json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "x" * BODY_LIMIT}]}).encode()
    status, body = _http(f"{server.url}/v1/chat/completions", big, headers)
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_the_server_is_healthy_after_every_refusal(server, client):
    with pytest.raises(openai.BadRequestError):
        _ask(client, max_tokens=-1)
    assert server.health()["status"] == "ok" and server.health()["in_flight"] == 0
    assert json.loads(_ask(client, response_format={"type": "json_object"}).choices[0].message.content) is not None


def test_a_burst_beyond_the_queue_gets_503s_and_every_request_ends_exactly_once(tiny_model_dir, tmp_path):
    records = [{"prompt": f"Contact number {i}: Bob lives in Oslo.", "schema": CONTACT} for i in range(200)]
    with ServerProcess(str(tiny_model_dir), "--served-model-name", "tiny", "--max-batch-size", "4",
                       "--max-queue", "4", "--max-tokens", "32",
                       "--max-prompt-tokens", "256", log=tmp_path / "load.log") as server:
        result = load_test(server, chat_requests(records, "tiny", 32), concurrency=32)
    assert result.refused_busy > 0 and not result.other_errors, result.summary()
    assert result.answered + result.refused_busy == 200
    assert result.completed_on_server == result.distinct_answers == result.answered, result.summary()
    assert result.in_flight_after == 0
    assert result.after_rss_bytes < result.rest_rss_bytes + 64 * 2**20, result.summary()


def test_a_request_past_the_timeout_gets_a_504_and_its_row_is_freed(tiny_model_dir, tmp_path):
    with ServerProcess(str(tiny_model_dir), "--served-model-name", "tiny", "--timeout", "0.01", "--max-tokens", "256",
                       "--max-prompt-tokens", "256", log=tmp_path / "timeout.log") as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            _ask(client, max_tokens=256, response_format={"type": "json_object"})
        assert caught.value.status_code == 504 and caught.value.body["code"] == "timeout"
        for _ in range(50):  # the model thread takes the cancellation between two steps
            health = server.health()
            if health["in_flight"] == 0:
                break
            time.sleep(0.1)
    assert health["status"] == "ok" and health["in_flight"] == 0 and health["completed"] == 0


def test_a_streamed_answer_is_the_whole_answer_in_pieces_then_its_finish_reason_and_usage(client):
    arguments = {"response_format": {"type": "json_schema",
                                     "json_schema": {"name": "contact", "schema": CONTACT, "strict": True}}}
    whole = _ask(client, **arguments)
    chunks = list(_ask(client, stream=True, stream_options={"include_usage": True}, **arguments))

    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 3 and "".join(pieces) == whole.choices[0].message.content  # greedy: the same answer
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_a_client_that_leaves_a_stream_frees_its_row_before_the_answer_is_written(server):
    import http.client

    before = server.health()["completed"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "Tell me everything."}],
                       "max_tokens": 256, "stream": True})
    connection.request("POST", "/v1/chat/completions", body, {"Authorization": f"Bearer {KEY}",
                                                                "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200 and response.readline().startswith(b"data: ")
    connection.sock.shutdown(2)
    connection.close()
    for _ in range(50):
        health = server.health()
        if health["in_flight"] == 0:
            break
        time.sleep(0.1)
    assert health["in_flight"] == 0 and health["completed"] == before

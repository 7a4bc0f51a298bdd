"""`jsontune eval --endpoint`: a served model scored as the same model evaluated locally; retries, failures, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jsontune.benchmarks.serve_speed import ServerProcess
from jsontune.decoding.strategies import DecodingConfig
from jsontune.evaluation.endpoint import ANSWERS_FILE, evaluate_endpoint
from jsontune.evaluation.endpoint_settings import EndpointError, EndpointSettings
from jsontune.evaluation.evaluate import evaluate_model

CONTACT = {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
           "required": ["name", "city"]}
ORDER = {"type": "object", "properties": {"item": {"type": "string"}, "quantity": {"type": "integer"}},
         "required": ["item", "quantity"]}
RECORDS = [
    {"id": "c1", "prompt": "Bob lives in Oslo.", "reference": {"name": "Bob", "city": "Oslo"}, "schema": CONTACT},
    {"id": "o1", "prompt": "Carla ordered 5 notebooks.", "reference": {"item": "notebook", "quantity": 5},
     "schema": ORDER},
    {"id": "c2", "prompt": "Ana moved to Lima last May.", "reference": {"name": "Ana", "city": "Lima"},
     "schema": CONTACT},
    {"id": "f1", "prompt": "Turn into JSON: the meeting is on Friday.", "reference": {"day": "Friday"}},
]
QUALITY = ("strict_parse_rate", "parse_rate", "schema_adherence", "exact_match", "field_f1", "quality_score",
           "cut_off_rate", "finished_rate")


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_a_model_behind_jsontune_serve_scores_as_the_same_model_evaluated_locally(tiny_model_dir, tmp_path):
    budget = 24
    log = tmp_path / "server.log"
    with ServerProcess(str(tiny_model_dir), "--served-model-name", "tiny", "--max-tokens", "64",
                       "--max-prompt-tokens", "256", log=log) as server:
        for response_format, local_decoding, prompt_schema in (("json_schema", "constrained", "auto"),
                                                               ("none", "greedy", "template")):
            local, remote = tmp_path / f"local-{response_format}", tmp_path / f"remote-{response_format}"
            evaluate_model(tiny_model_dir, RECORDS, local, batch_size=1, max_new_tokens=budget,
                           decoding=DecodingConfig(local_decoding))
            settings = EndpointSettings(url=f"{server.url}/v1", model="tiny", response_format=response_format,
                                        prompt_schema=prompt_schema, max_tokens=budget, concurrency=1)
            metrics = evaluate_endpoint(RECORDS, remote, settings)

            for mine, theirs in zip(_rows(local), _rows(remote)):
                assert theirs["output"] == mine["output"], (response_format, mine["id"])
                assert theirs["new_tokens"] == mine["new_tokens"] and theirs["finished"] == mine["finished"]
                assert theirs["endpoint_error"] is None and theirs["prompt_tokens"] > 0
            expected = json.loads((local / "metrics.json").read_text())
            for key in QUALITY:
                assert metrics[key] == expected[key], (response_format, key)
            assert metrics["decoding"]["mode"] == local_decoding and metrics["failed_rows"] == 0


class StubHandler(BaseHTTPRequestHandler):
    """Chat completions whose misbehaviour depends on the user message: `plan[text]` lists what each call of that
    message gets ("ok", "429", "500", "slow", "drop", "hang"); past the list, "ok"."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"]
        stub = self.server.stub
        with stub["lock"]:
            stub["calls"].setdefault(text, []).append(time.monotonic())
            stub["keys"].add(self.headers.get("Authorization"))
            step = stub["plan"].get(text, [])
            action = step[len(stub["calls"][text]) - 1] if len(stub["calls"][text]) <= len(step) else "ok"
        if action == "429":
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
        if action == "500":
            return self._send(500, {"error": {"message": "boom"}})
        if action == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        if action in ("slow", "hang"):
            time.sleep(3 if action == "slow" else 60)
        answer = json.dumps(stub["answers"].get(text, {}))
        return self._send(200, {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}})

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                            **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stub():
    """A misbehaving OpenAI-compatible server in this process; yields its state (plan, calls, keys) and URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    server.daemon_threads = True
    server.stub = {"plan": {}, "calls": {}, "keys": set(), "answers": {}, "lock": threading.Lock(),
                   "url": f"http://127.0.0.1:{server.server_address[1]}/v1"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.stub
    server.shutdown()
    server.server_close()


def _stub_records(n: int) -> list[dict]:
    return [{"id": f"r{i}", "prompt": f"request {i}", "reference": {"n": i}} for i in range(n)]


def test_retries_429s_500s_timeouts_and_dropped_connections_and_records_what_still_fails(stub, tmp_path,
                                                                                         monkeypatch):
    records = _stub_records(8)
    stub["answers"] = {r["prompt"]: r["reference"] for r in records}
    stub["plan"] = {"request 1": ["429"], "request 2": ["500", "500"], "request 3": ["slow"],
                    "request 4": ["drop"], "request 5": ["500"] * 10}
    monkeypatch.setenv("STUB_KEY", "sk-secret-0123456789")
    settings = EndpointSettings(url=stub["url"], model="m", response_format="none", api_key_env="STUB_KEY",
                                timeout_s=1.0, retries=3, concurrency=4)
    out = tmp_path / "out"

    metrics = evaluate_endpoint(records, out, settings)

    rows = {row["id"]: row for row in _rows(out)}
    assert len(rows) == 8
    assert rows["r5"]["endpoint_error"].startswith("500") and rows["r5"]["parse_ok"] is False
    assert len(stub["calls"]["request 5"]) == 4  # the first try and 3 retries
    assert all(rows[f"r{i}"]["endpoint_error"] is None and rows[f"r{i}"]["exact_match"] == 1.0 for i in (0, 1, 2, 3, 4, 6, 7))
    first, second = stub["calls"]["request 1"]
    assert second - first >= 0.9  # Retry-After: 1 honoured
    assert [len(stub["calls"][f"request {i}"]) for i in (0, 2, 3, 4, 6, 7)] == [1, 3, 2, 2, 1, 1]
    assert rows["r1"]["retries"] == 1 and rows["r2"]["retries"] == 2
    assert metrics["failed_rows"] == 1 and metrics["exact_match"] == pytest.approx(7 / 8)
    assert stub["keys"] == {"Bearer sk-secret-0123456789"}
    for path in out.rglob("*"):
        assert "sk-secret-0123456789" not in path.read_text(), path

    # Started again, only the failed row is asked again.
    stub["plan"]["request 5"] = []
    again = evaluate_endpoint(records, out, settings)
    assert again["failed_rows"] == 0
    assert len(stub["calls"]["request 5"]) == 5 and len(stub["calls"]["request 0"]) == 1


def test_a_killed_run_resumes_without_asking_any_answered_row_again(stub, tmp_path):
    records = _stub_records(6)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    stub["answers"] = {r["prompt"]: r["reference"] for r in records}
    stub["plan"] = {"request 4": ["hang"], "request 5": ["hang"]}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "jsontune.cli", "eval", "--endpoint", stub["url"], "--model", "m",
               "--data", str(data), "--out", str(out), "--response-format", "none", "--concurrency", "2",
               "--timeout", "120"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(len(c) for c in stub["calls"].values()) < 6:
        time.sleep(0.1)
    time.sleep(0.5)  # the four answered rows are written as they arrive
    process.send_signal(signal.SIGKILL)
    process.wait()
    answered = [json.loads(line)["id"] for line in (out / ANSWERS_FILE).read_text().splitlines()]
    assert sorted(answered) == ["r0", "r1", "r2", "r3"] and not (out / "metrics.json").exists()

    stub["plan"] = {}
    # Other settings do not resume these answers, and leave them as they were.
    changed = subprocess.run([*command, "--max-new-tokens", "9"], capture_output=True, text=True, timeout=300)
    assert changed.returncode == 2 and "max_tokens" in changed.stderr and "--overwrite" in changed.stderr
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert {text: len(times) for text, times in stub["calls"].items()} == {
        "request 0": 1, "request 1": 1, "request 2": 1, "request 3": 1, "request 4": 2, "request 5": 2}
    assert [row["exact_match"] for row in _rows(out)] == [1.0] * 6


def test_a_refused_key_stops_the_run_at_once_naming_the_status_never_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-wrong-0123456789")
    class Refusing(StubHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            key = self.headers["Authorization"].removeprefix("Bearer ")
            self._send(401, {"error": {"message": f"Incorrect API key provided: {key}"}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = EndpointSettings(url=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m",
                                    api_key_env="STUB_KEY")
        with pytest.raises(EndpointError, match="refused the key.*401.*Incorrect API key") as caught:
            evaluate_endpoint(_stub_records(3), tmp_path / "out", settings)
        assert "sk-wrong-0123456789" not in str(caught.value)  # a server that echoes the key back
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("arguments, words", [
    (["--endpoint", "http://x/v1", "--adapter", "a"], "--adapter: this option is a local model's"),
    (["--endpoint", "http://x/v1", "--decoding", "constrained"], "--decoding: this option is a local model's"),
    (["--concurrency", "3"], "--concurrency: this option is for an endpoint's model"),
    (["--endpoint", "http://x/v1", "--response-format", "yaml"], "--response-format must be one of"),
    (["--endpoint", "localhost:8000"], "give the API's base URL"),
    (["--endpoint", "http://x/v1", "--api-key-env", "JSONTUNE_NO_SUCH_VARIABLE"], "is not set"),
])
def test_wrong_endpoint_options_are_refused_before_anything_is_asked(arguments, words, tmp_path):
    from typer.testing import CliRunner

    from jsontune.cli import app

    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(_stub_records(1)[0]) + "\n")
    result = CliRunner().invoke(app, ["eval", "--model", "m", "--data", str(data), "--out", str(tmp_path / "out"),
                                      *arguments])
    assert result.exit_code == 2 and words in result.output, result.output
    assert not (tmp_path / "out").exists()

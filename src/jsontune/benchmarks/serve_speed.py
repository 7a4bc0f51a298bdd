"""Serving throughput and behaviour under load, measured against a real `jsontune serve` process.

`ServerProcess` starts the server on a free loopback port, waits for `/health`, and stops it with SIGTERM
(the test suite uses it too). `send_all` sends chat requests through the official `openai` client, at most
`concurrency` at a time, with the client's retries off: every request is sent once and ends in exactly one
outcome, an answer or an HTTP error, which is what the load test counts.

The speed bench sends the same requests one at a time and then from `concurrency` clients at once; the mean
batch size is read from the server's own counters (`/health`: rows stepped over decoding steps) between the
two phases. Every answer is checked against its request's schema with jsonschema.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from jsontune.data.schemas import validator

API_KEY_VARIABLE = "JSONTUNE_BENCH_API_KEY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`jsontune serve MODEL ARGS...` on a free loopback port, for as long as the `with` block lasts."""

    def __init__(self, model: str, *args: str, api_key: str | None = None, log: Path | None = None,
                 start_timeout_s: float = 300.0):
        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self._args = args
        self._log_path = log
        self._start_timeout_s = start_timeout_s
        self.returncode: int | None = None

    def __enter__(self) -> ServerProcess:
        env = dict(os.environ)
        command = [sys.executable, "-m", "jsontune.cli", "serve", self.model, "--port", str(self.port), *self._args]
        if self.api_key is not None:
            env[API_KEY_VARIABLE] = self.api_key
            command += ["--api-key-env", API_KEY_VARIABLE]
        self._log = open(self._log_path, "w") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self._log_path.read_text()[-2000:] if self._log_path else "(no log kept)"
                raise RuntimeError(f"the server exited with code {self.process.returncode} before it was healthy:\n"
                                   f"{tail}")
            try:
                self.health()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server was not healthy within {self._start_timeout_s:g} s")

    def __exit__(self, *exc) -> None:
        self.stop()

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
            return json.loads(response.read())

    def rss_bytes(self) -> int:
        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, and the exit code once the server has shut down."""
        if self.returncode is None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        return self.returncode


@dataclass
class Outcome:
    """How one request ended: its answer, or the HTTP status of its error."""

    index: int
    latency_s: float
    content: str | None = None
    status: int | None = None  # None: answered
    completion_tokens: int = 0
    completion_id: str | None = None


@dataclass
class Phase:
    name: str
    seconds: float
    outcomes: list[Outcome]
    mean_batch_size: float
    schema_valid: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def answered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is None]

    @property
    def requests_per_second(self) -> float:
        return len(self.answered) / self.seconds

    def latency_percentile(self, q: float) -> float:
        latencies = sorted(o.latency_s for o in self.answered)
        return statistics.quantiles(latencies, n=100, method="inclusive")[int(q) - 1] if len(latencies) > 1 else \
            latencies[0]


def chat_requests(records: list[dict], model: str, max_tokens: int) -> list[dict]:
    """The arguments of one `chat.completions.create` per record: its prompt, constrained by its schema."""
    return [{"model": model, "messages": [{"role": "user", "content": record["prompt"]}], "max_tokens": max_tokens,
             "response_format": {"type": "json_schema",
                                 "json_schema": {"name": "record", "schema": record["schema"], "strict": True}}}
            for record in records]


async def _send_all(url: str, requests: list[dict], concurrency: int, api_key: str | None) -> list[Outcome]:
    import openai

    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=api_key or "none", max_retries=0, timeout=600)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, arguments: dict) -> Outcome:
        async with gate:
            began = time.perf_counter()
            try:
                answer = await client.chat.completions.create(**arguments)
            except openai.APIStatusError as err:
                return Outcome(index, time.perf_counter() - began, status=err.status_code)
            return Outcome(index, time.perf_counter() - began, answer.choices[0].message.content,
                           completion_tokens=answer.usage.completion_tokens, completion_id=answer.id)

    try:
        return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))
    finally:
        await client.close()


def send_all(url: str, requests: list[dict], concurrency: int, api_key: str | None = None) -> list[Outcome]:
    """Every request sent once, at most `concurrency` at a time; outcomes in the order of `requests`."""
    return asyncio.run(_send_all(url, requests, concurrency, api_key))


def run_phase(server: ServerProcess, name: str, requests: list[dict], concurrency: int) -> Phase:
    """One phase of the bench, with the mean batch size the server saw during it."""
    before = server.health()
    began = time.perf_counter()
    outcomes = send_all(server.url, requests, concurrency, server.api_key)
    seconds = time.perf_counter() - began
    after = server.health()
    steps = after["steps"] - before["steps"]
    mean_batch = (after["rows_stepped"] - before["rows_stepped"]) / steps if steps else 0.0
    return Phase(name, seconds, outcomes, mean_batch, _schema_valid(requests, outcomes))


def _schema_valid(requests: list[dict], outcomes: list[Outcome]) -> int:
    valid = 0
    for outcome in outcomes:
        if outcome.status is not None:
            continue
        schema = requests[outcome.index]["response_format"]["json_schema"]["schema"]
        try:
            valid += validator(schema).is_valid(json.loads(outcome.content))
        except json.JSONDecodeError:
            pass
    return valid


def format_phases(phases: list[Phase]) -> str:
    rows = ["| clients | requests | answered | schema-valid | requests/s | p50 latency s | p95 latency s "
            "| mean batch |", "|---|---|---|---|---|---|---|---|"]
    for phase in phases:
        rows.append(f"| {phase.name} | {len(phase.outcomes)} | {len(phase.answered)} | {phase.schema_valid} | "
                    f"{phase.requests_per_second:.2f} | {phase.latency_percentile(50):.2f} | "
                    f"{phase.latency_percentile(95):.2f} | {phase.mean_batch_size:.1f} |")
    return "\n".join(rows)


@dataclass
class LoadTest:
    """What a burst did: how each request ended, and the server's memory at rest before and after."""

    requests: int
    answered: int
    refused_busy: int  # 503
    other_errors: dict[int, int]
    completed_on_server: int  # answers the server wrote during the burst
    distinct_answers: int  # distinct completion ids among the answers
    in_flight_after: int  # requests the server still held once the burst was over
    rest_rss_bytes: int
    after_rss_bytes: int
    seconds: float

    def summary(self) -> str:
        return (f"load test: {self.requests} requests in {self.seconds:.1f} s: {self.answered} answered, "
                f"{self.refused_busy} refused with 503, other errors {self.other_errors or 'none'}; "
                f"answers written by the server {self.completed_on_server}, distinct {self.distinct_answers}, "
                f"still held {self.in_flight_after}; "
                f"server RSS at rest {self.rest_rss_bytes / 2**20:.0f} MiB, "
                f"after {self.after_rss_bytes / 2**20:.0f} MiB")


def load_test(server: ServerProcess, requests: list[dict], concurrency: int, warm_up: int = 8,
              settle_s: float = 1.0) -> LoadTest:
    """Send `requests` from `concurrency` clients to a server whose queue is smaller than that."""
    send_all(server.url, requests[:warm_up], warm_up, server.api_key)  # the cache and grammars allocated: at rest
    time.sleep(settle_s)
    rest = server.rss_bytes()
    before = server.health()["completed"]
    began = time.perf_counter()
    outcomes = send_all(server.url, requests, concurrency, server.api_key)
    seconds = time.perf_counter() - began
    time.sleep(settle_s)
    health = server.health()
    errors: dict[int, int] = {}
    for outcome in outcomes:
        if outcome.status not in (None, 503):
            errors[outcome.status] = errors.get(outcome.status, 0) + 1
    answered = sum(o.status is None for o in outcomes)
    distinct = len({o.completion_id for o in outcomes if o.status is None})
    return LoadTest(len(requests), answered, sum(o.status == 503 for o in outcomes), errors,
                    health["completed"] - before, distinct, health["in_flight"], rest, server.rss_bytes(), seconds)


@dataclass
class ServeBench:
    sequential: Phase
    concurrent: Phase
    load: LoadTest | None

    @property
    def speedup(self) -> float:
        return self.concurrent.requests_per_second / self.sequential.requests_per_second


def bench(model: str, records: list[dict], clients: int, max_tokens: int, load_requests: int, load_clients: int,
          load_queue: int, log_dir: Path | None = None) -> ServeBench:
    """The same requests from 1 client and from `clients` at once to one server (batch of `clients` rows), then
    a burst of `load_requests` from `load_clients` to a server whose batch and queue hold fewer (none when 0)."""
    requests = chat_requests(records, model, max_tokens)
    log = (lambda name: log_dir / name) if log_dir else (lambda name: None)
    with ServerProcess(model, "--max-batch-size", str(clients), "--max-tokens", str(max_tokens),
                       log=log("serve-speed.log")) as server:
        send_all(server.url, requests[:2], 1)  # the first request allocates the cache and compiles its grammar
        sequential = run_phase(server, "1", requests, 1)
        concurrent = run_phase(server, str(clients), requests, clients)
    load = None
    if load_requests:
        burst = chat_requests([records[i % len(records)] for i in range(load_requests)], model, max_tokens)
        slots = max(1, load_clients // 4)
        with ServerProcess(model, "--max-batch-size", str(slots), "--max-queue", str(load_queue), "--max-tokens",
                           str(max_tokens), log=log("serve-load.log")) as server:
            load = load_test(server, burst, load_clients)
    return ServeBench(sequential, concurrent, load)

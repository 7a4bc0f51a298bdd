"""Evaluate a model behind an OpenAI-compatible chat-completions endpoint, scored exactly as a local model is.

`evaluate_endpoint(records, out_dir, settings)` asks the endpoint (jsontune's own server, vLLM, llama-server,
Ollama, a hosted API) for one answer per record and writes the same `predictions.jsonl` and `metrics.json` as
`jsontune.evaluation.evaluate.evaluate_model`, by the same scoring (`score_rows`): an endpoint's answers and a
local model's can be compared row by row (`jsontune compare`).

The contract:

- **One chat request per record.** The user message is the record's prompt, with its schema written after it
  as `prompt_schema` says (`endpoint_settings.PROMPT_SCHEMAS`); by default as JSON Schema, except under the
  `json_schema` response format, where the schema travels as the response format instead (jsontune's own
  server writes it into its model's prompt the way that model was trained). A system message comes from the
  record's own `system`, else from `system`. Decoding is greedy (temperature 0) within `max_tokens`.
- **The response format** (`endpoint_settings.RESPONSE_FORMATS`): `json_schema` sends the record's schema as
  `response_format` (strict unless told otherwise: OpenAI's strict mode takes only schemas whose objects are
  closed and list every key as required), and a record without a schema asks for `json_object`;
  `json_object` asks for any JSON object; `none` asks for nothing. Under the first two an answer the token
  budget cut off is never repaired, as a local constrained answer is not.
- **Failures.** Requests run `concurrency` at a time through the official `openai` client, which retries
  408, 409, 429 and 5xx answers, timeouts and dropped connections `retries` times with exponential backoff,
  honouring Retry-After. A row that still fails is recorded with its error (`endpoint_error`) and scored as
  an answer with no JSON, never dropped; a refused key, a forbidden or unknown model stops the run at once
  (no row could succeed), naming the status.
- **Resumable.** Every answer (or failure) is appended to `OUT/endpoint_answers.jsonl` as it arrives, beside
  `OUT/endpoint_run.json` (the settings and a fingerprint of the records). Started again with the same
  settings and records, interrupted or finished, a run asks only the rows without an answer (failed rows
  again) and scores them all anew; other settings or records, or another kind of evaluation in OUT, are
  refused unless the evaluation is replaced (`--overwrite`).
- **The key** is read from the environment variable `api_key_env` names, and written to no file, log line or
  message: the settings file records the variable's name only.

Metrics: every quality figure a local run has, latency per request (with retries), the answer's tokens from
the `usage` field, `failed_rate`; no memory, size or parameters (the model is not here).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from jsontune import run_dir
from jsontune.data.contract import dataset_label
from jsontune.data.prompting import PromptConfig, chat_messages
from jsontune.decoding.strategies import Attempt, is_valid_answer
from jsontune.errors import JsontuneError
from jsontune.evaluation.endpoint_settings import EndpointError, EndpointSettings
from jsontune.evaluation.evaluate import performance, score_rows, scored_metrics, write_run
from jsontune.files import write_json

logger = logging.getLogger(__name__)

ANSWERS_FILE = "endpoint_answers.jsonl"
SETTINGS_FILE = "endpoint_run.json"
SCHEMA_NAME = "answer"  # the response format's schema name (OpenAI: 1-64 letters, digits, _ or -)
# Statuses after which no row can succeed: the run stops rather than fail every row in turn.
FATAL_STATUSES = {401: "the endpoint refused the key", 403: "the key may not use this model",
                  404: "the endpoint has no such model (or no chat-completions route)"}


def response_format(record: dict, settings: EndpointSettings) -> dict | None:
    """The `response_format` of one record's request, or None to send none."""
    if settings.response_format == "none":
        return None
    if settings.response_format == "json_object" or not record.get("schema"):
        return {"type": "json_object"}
    return {"type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": record["schema"], "strict": settings.strict}}


def fingerprint(records: list[dict]) -> str:
    """A digest of what the records ask (ids, prompts, schemas, system prompts), to resume only the same data."""
    digest = hashlib.sha256()
    for record in records:
        asked = [record.get("id"), record["prompt"], record.get("schema"), record.get("system")]
        digest.update(json.dumps(asked, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def ask(client, record: dict, settings: EndpointSettings, config: PromptConfig) -> dict[str, Any]:
    """One record's answer: its text, finish reason, token counts, latency and retries, or its error. Raises
    `EndpointError` for the statuses after which no row can succeed."""
    import openai

    arguments: dict[str, Any] = {"model": settings.model, "messages": chat_messages(record, config),
                                 "temperature": 0, "max_tokens": settings.max_tokens}
    form = response_format(record, settings)
    if form is not None:
        arguments["response_format"] = form
    began = time.perf_counter()
    try:
        raw = client.chat.completions.with_raw_response.create(**arguments)
        completion = raw.parse()
    except openai.APIStatusError as err:
        message = settings.without_key(_message(err))
        if err.status_code in FATAL_STATUSES:
            raise EndpointError(f"{settings.url}: {FATAL_STATUSES[err.status_code]} ({err.status_code}: "
                                f"{message})") from None
        return _failure(began, f"{err.status_code}: {message}")
    except openai.APIError as err:  # timeouts and connection errors, after the client's retries
        return _failure(began, settings.without_key(f"{type(err).__name__}: {err}"))
    choice = completion.choices[0] if completion.choices else None
    usage = completion.usage
    return {
        "text": (choice.message.content or "") if choice is not None else "",
        "finish_reason": choice.finish_reason if choice is not None else None,
        "prompt_tokens": usage.prompt_tokens if usage is not None else None,
        "completion_tokens": usage.completion_tokens if usage is not None else None,
        "latency_s": time.perf_counter() - began,
        "retries": raw.retries_taken,
        "error": None,
    }


def _failure(began: float, error: str) -> dict[str, Any]:
    return {"text": "", "finish_reason": None, "prompt_tokens": None, "completion_tokens": None,
            "latency_s": time.perf_counter() - began, "retries": None, "error": error}


def _message(err) -> str:
    """The error's message from its body (OpenAI's error object, or the text), one line, without headers."""
    body = err.body
    if isinstance(body, dict):
        body = body.get("error", body)
        if isinstance(body, dict):
            body = body.get("message", body)
    return " ".join(str(body if body is not None else err.message).split())[:300]


class AnswerLog:
    """OUT/endpoint_answers.jsonl: one line per answered (or failed) row, appended as it arrives, each line
    written by one `write` call on a file opened for appending, so a killed run leaves whole lines (and at
    most one torn last line, which `read` drops)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict[int, dict]:
        """The latest answer of each row index (a later line wins: a failed row asked again)."""
        answers: dict[int, dict] = {}
        if not self.path.is_file():
            return answers
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue  # the torn last line of a killed run
            answers[answer["index"]] = answer
        return answers

    def append(self, answer: dict) -> None:
        line = (json.dumps(answer, ensure_ascii=False) + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)


def prepare_folder(out_dir: Path, settings: EndpointSettings, records: list[dict], overwrite: bool) -> AnswerLog:
    """The folder's answer log, ready to start or to go on with: the same run (settings and records) goes on,
    finished or not (its failed rows are asked again); another evaluation, or another run's answers, is replaced
    only with `overwrite`."""
    settings_path, log = out_dir / SETTINGS_FILE, AnswerLog(out_dir / ANSWERS_FILE)
    wanted = {"settings": settings.resumable(), "records": len(records), "fingerprint": fingerprint(records)}
    if overwrite:
        run_dir.check_evaluation_folder(out_dir, overwrite)
        run_dir.clear_evaluation(out_dir)
        log.path.unlink(missing_ok=True)
    elif settings_path.is_file():
        held = json.loads(settings_path.read_text(encoding="utf-8"))
        if held != wanted:
            differ = [key for key in wanted["settings"] if held.get("settings", {}).get(key) != wanted["settings"][key]]
            what = f"other settings ({', '.join(differ)})" if differ else "other records"
            raise EndpointError(f"{out_dir}: holds the answers of a run with {what}; pass --overwrite to replace "
                                "them, or choose another output folder")
    else:
        run_dir.check_evaluation_folder(out_dir, overwrite)
        if log.path.exists():
            raise EndpointError(f"{log.path}: answers without their {SETTINGS_FILE}; pass --overwrite to replace "
                                "them")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(settings_path, wanted)
    return log


def _client(settings: EndpointSettings):
    import openai

    return openai.OpenAI(base_url=settings.url, api_key=settings.key(), timeout=settings.timeout_s,
                         max_retries=settings.retries)


def ask_all(records: list[dict], log: AnswerLog, settings: EndpointSettings,
            client_factory: Callable = _client) -> dict[int, dict]:
    """Ask every row the log holds no answer for (a failed one again), `concurrency` at a time; every answer is
    in the log as soon as it arrives. Returns the latest answer of every row."""
    answers = log.read()
    pending = [i for i in range(len(records)) if i not in answers or answers[i]["error"] is not None]
    if len(pending) < len(records):
        logger.info("resuming: %d of %d rows already answered in %s", len(records) - len(pending), len(records),
                    log.path)
    if not pending:
        return answers
    client, config = client_factory(settings), settings.prompt_config()
    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        futures = {pool.submit(ask, client, records[i], settings, config): i for i in pending}
        try:
            for future in tqdm(as_completed(futures), total=len(futures), desc=f"asking {settings.model}"):
                index = futures[future]
                answer = {"index": index, "id": records[index].get("id"), **future.result()}
                log.append(answer)
                answers[index] = answer
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return answers


def _attempt(answer: dict, record: dict, constrained: bool) -> Attempt:
    finished = answer["finish_reason"] == "stop"
    return Attempt(text=answer["text"], new_tokens=answer["completion_tokens"] or 0,
                   latency_s=answer["latency_s"], finished=finished, temperature=None,
                   valid=answer["error"] is None and is_valid_answer(answer["text"], record.get("schema")),
                   constrained=constrained)


def evaluate_endpoint(records: list[dict], out_dir: str | Path, settings: EndpointSettings,
                      datasets: list[str] | None = None, overwrite: bool = False,
                      client_factory: Callable = _client) -> dict[str, Any]:
    """Ask the endpoint for every record's answer (resuming an interrupted run in `out_dir`), score them, and
    write `predictions.jsonl` and `metrics.json`. Bad settings raise before anything is asked."""
    settings.check()
    if not records:
        raise JsontuneError("no records to evaluate")
    out_dir = Path(out_dir)
    log = prepare_folder(out_dir, settings, records, overwrite)
    began = time.perf_counter()
    answers = ask_all(records, log, settings, client_factory)
    constrained = settings.response_format != "none"
    attempts = [[_attempt(answers[i], record, constrained)] for i, record in enumerate(records)]
    rows = score_rows(records, attempts, datasets or [dataset_label(r) for r in records])
    for index, row in enumerate(rows):
        answer = answers[index]
        row.update(endpoint_error=answer["error"], prompt_tokens=answer["prompt_tokens"],
                   retries=answer["retries"], finish_reason=answer["finish_reason"])
    failed = sum(answers[i]["error"] is not None for i in range(len(records)))
    if failed:
        logger.warning("%d of %d rows got no answer from %s (endpoint_error in %s)", failed, len(records),
                       settings.url, out_dir)
    metrics = {
        **scored_metrics(rows), **performance(rows, attempts),
        # The decoding as a local run names it, so that tables line the two up: a grammar or a structured-output
        # mode is constrained decoding; none is greedy (temperature 0).
        "decoding": {"mode": "constrained" if constrained else "greedy", "endpoint": True,
                     "response_format": settings.response_format, "temperature": 0},
        "model": settings.model, "label": settings.model, "endpoint": settings.url,
        "endpoint_settings": {key: value for key, value in asdict(settings).items() if key != "url"},
        "prompt_config": settings.prompt_config().__dict__,
        "max_new_tokens": settings.max_tokens,
        "failed_rows": failed, "failed_rate": failed / len(records),
        "datasets": dict(Counter(row["dataset"] for row in rows)),
        "wall_time_s": time.perf_counter() - began,
    }
    write_run(out_dir, rows, metrics)
    return metrics


"""Score answers produced elsewhere (another system, a batch API, a colleague's run) exactly as jsontune scores its own.

`read_answers(path)` reads a JSONL file of rows `{"id": ..., "output": ...}`: `output` is the answer's raw text
(a string, parsed and repaired as a model's text is) or a JSON value (taken as that JSON, written out); an
optional `latency_s` (seconds) is kept. `match_answers(records, answers, path)` pairs each record with its
answer by id and refuses, before anything is written, a file where an id is missing, unknown to the data or
given twice, naming the ids (and the file's lines). `score_answers` writes the same `predictions.jsonl` and
`metrics.json` as a local evaluation (`jsontune.evaluation.evaluate.score_rows`), so `jsontune compare` lines
them up with any other run of the same data.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from jsontune import run_dir
from jsontune.data.contract import dataset_label
from jsontune.decoding.strategies import Attempt, is_valid_answer
from jsontune.errors import JsontuneError, MissingFileError
from jsontune.evaluation.evaluate import performance, score_rows, scored_metrics, write_run

MAX_LISTED = 10  # ids (or lines) an error names before it counts the rest


class AnswersError(JsontuneError):
    """The answers file is not one answer per record of the data."""


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def read_answers(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an answers file, each with its `line`; every bad row is named (file:line: reason)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such answers file (a JSONL file of {{\"id\": ..., \"output\": ...}} rows)")
    answers, bad = [], []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                bad.append(f"{path}:{number}: not JSON ({err.msg})")
                continue
            if not isinstance(row, dict) or "id" not in row or "output" not in row:
                bad.append(f"{path}:{number}: a row needs an \"id\" and an \"output\"")
                continue
            latency = row.get("latency_s")
            if latency is not None and (not isinstance(latency, (int, float)) or isinstance(latency, bool)
                                        or not math.isfinite(latency) or latency < 0):
                bad.append(f"{path}:{number}: latency_s must be a number of seconds, not {latency!r}")
                continue
            answers.append({**row, "id": str(row["id"]), "line": number})
    if bad:
        raise AnswersError(f"{len(bad)} bad row(s):\n  " + "\n  ".join(bad[:MAX_LISTED * 2]))
    if not answers:
        raise AnswersError(f"{path}: holds no answers")
    return answers


def match_answers(records: list[dict], answers: list[dict], path: str | Path) -> list[dict]:
    """Each record's answer, in the records' order; every id of the data answered exactly once."""
    counts = Counter(answer["id"] for answer in answers)
    twice = [f"{id_} (lines {', '.join(str(a['line']) for a in answers if a['id'] == id_)})"
             for id_, n in counts.items() if n > 1]
    wanted = [str(record["id"]) for record in records]
    repeated_in_data = [id_ for id_, n in Counter(wanted).items() if n > 1]
    if repeated_in_data:
        raise AnswersError(f"the data gives the same id to several records ({_listed(repeated_in_data)}): answers "
                           "are matched by id")
    known = set(wanted)
    extra = [f"{a['id']} (line {a['line']})" for a in answers if a["id"] not in known]
    missing = [id_ for id_ in wanted if id_ not in counts]
    problems = [f"{label}: {_listed(ids)}" for label, ids in
                (("ids given twice", twice), ("ids not in the data", extra), ("records without an answer", missing))
                if ids]
    if problems:
        raise AnswersError(f"{path}: every record of the data needs exactly one answer\n  " + "\n  ".join(problems))
    by_id = {answer["id"]: answer for answer in answers}
    return [by_id[id_] for id_ in wanted]


def answer_text(output: Any) -> str:
    """The raw text of an answer: a string as it is, any other JSON value written out."""
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


def score_answers(records: list[dict], answers_path: str | Path, out_dir: str | Path, label: str | None = None,
                  data_path: str | Path | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Score the answers file against the records; write `predictions.jsonl` and `metrics.json` to `out_dir`."""
    out_dir = Path(out_dir)
    run_dir.check_evaluation_folder(out_dir, overwrite)
    answers = match_answers(records, read_answers(answers_path), answers_path)
    timed = all(answer.get("latency_s") is not None for answer in answers)
    attempts = []
    for record, answer in zip(records, answers):
        text = answer_text(answer["output"])
        attempts.append([Attempt(text=text, new_tokens=0, latency_s=answer.get("latency_s") or 0.0, finished=True,
                                 temperature=None, valid=is_valid_answer(text, record.get("schema")))])
    rows = score_rows(records, attempts, [dataset_label(r, data_path) for r in records])
    label = label or Path(answers_path).stem
    metrics = {
        **scored_metrics(rows),
        **({"latency_s": performance(rows, attempts)["latency_s"]} if timed else {}),
        "decoding": {"mode": "external"},
        "model": label, "label": label, "answers_file": str(answers_path),
        "datasets": dict(Counter(row["dataset"] for row in rows)),
    }
    run_dir.clear_evaluation(out_dir)
    write_run(out_dir, rows, metrics)
    return metrics

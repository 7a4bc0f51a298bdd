"""The row formats jsontune reads, each turned into a contract record: its own, TRL's, and chat messages.

- `contract`: `prompt`, `reference` (a JSON object or array, or a string holding one), optional `schema` (the
  same), `system`, `id`, `meta`;
- `prompt_completion` (TRL's): `prompt` (text, or messages ending with the user's) and `completion` (the JSON as
  text, or one assistant message holding it);
- `messages` (TRL's conversational format, also ShareGPT-like tools'): an optional system message, one user
  message and the assistant's answer, which is the JSON.

A `RowMapping` names, for each field a format reads, the column that holds it (`columns`, e.g. `{prompt: text,
reference: json}`); `auto` picks the format from the columns present. A row that does not fit raises
`RowError` with the reason; the caller names the row (`jsontune.data.contract`, `jsontune.data.sources`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RowFormat = Literal["auto", "contract", "prompt_completion", "messages"]
ROW_FORMATS = ("auto", "contract", "prompt_completion", "messages")
# The fields a column mapping may name, and the format whose columns they are.
FIELDS = ("prompt", "reference", "schema", "system", "id", "meta", "completion", "messages")


class RowError(ValueError):
    """A row does not fit its format (the message is the reason)."""


@dataclass(frozen=True)
class RowMapping:
    """How the rows of one source become records: their format and the column of each field."""

    format: RowFormat = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.columns, Mapping):
            raise ValueError(f"columns must map fields to columns, e.g. {{prompt: text}}, not {self.columns!r}")
        if self.format not in ROW_FORMATS:
            raise ValueError(f"format must be one of {', '.join(ROW_FORMATS)}, not {self.format!r}")
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"columns: {', '.join(map(repr, unknown))} is not a field jsontune reads "
                             f"({', '.join(FIELDS)})")
        for name, column in self.columns.items():
            if not isinstance(column, str) or not column:
                raise ValueError(f"columns: {name!r} must name a column, not {column!r}")

    @property
    def is_identity(self) -> bool:
        return self.format in ("auto", "contract") and not self.columns

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def convert(self, row: Any) -> dict:
        """The contract record of one row (not yet checked against the contract itself)."""
        if not isinstance(row, Mapping):
            raise RowError(f"a record must be a JSON object, got {type(row).__name__}")
        form = self.format
        if form == "auto":
            form = ("messages" if self.column("messages") in row else
                    "prompt_completion" if self.column("completion") in row else "contract")
        record = {"messages": self._from_messages, "prompt_completion": self._from_prompt_completion,
                  "contract": self._from_contract}[form](row)
        for name in ("id", "meta", "schema", "system") if form != "contract" else ():
            if row.get(self.column(name)) is not None:
                record[name] = row[self.column(name)]
        return _parsed(record)

    def _from_contract(self, row: Mapping) -> dict:
        if self.is_identity:
            return dict(row)
        return {name: row[self.column(name)] for name in ("prompt", "reference", "schema", "system", "id", "meta")
                if row.get(self.column(name)) is not None}

    def _from_prompt_completion(self, row: Mapping) -> dict:
        prompt, completion = row.get(self.column("prompt")), row.get(self.column("completion"))
        record: dict[str, Any] = {}
        if isinstance(prompt, list):
            record.update(_turns(prompt, f"'{self.column('prompt')}'", answer_expected=False))
        else:
            record["prompt"] = prompt
        if isinstance(completion, list):
            if len(completion) != 1 or not isinstance(completion[0], Mapping) or \
                    completion[0].get("role") != "assistant":
                raise RowError(f"'{self.column('completion')}' as messages must be one assistant message")
            completion = completion[0].get("content")
        if not isinstance(completion, str):
            raise RowError(f"missing '{self.column('completion')}' (the JSON answer, as text)")
        record["reference"] = completion
        return record

    def _from_messages(self, row: Mapping) -> dict:
        messages = row.get(self.column("messages"))
        if not isinstance(messages, list):
            raise RowError(f"'{self.column('messages')}' must be a list of messages")
        return _turns(messages, f"'{self.column('messages')}'", answer_expected=True)


def _turns(messages: list, where: str, answer_expected: bool) -> dict:
    """system? user assistant? -> system, prompt and reference; any other shape is a RowError."""
    roles = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("content"), str):
            raise RowError(f"{where}[{i}] must be a message with a role and text content")
        roles.append(message.get("role"))
    expected = ["user", "assistant"] if answer_expected else ["user"]
    if roles not in (expected, ["system", *expected]):
        shape = "an optional system message, one user message" + (" and the assistant's JSON" if answer_expected
                                                                  else "")
        raise RowError(f"{where} must be {shape}; got the roles {roles}")
    record: dict[str, Any] = {}
    if roles[0] == "system" and messages[0]["content"].strip():  # an empty one (common in exports) says nothing
        record["system"] = messages[0]["content"]
    record["prompt"] = messages[roles.index("user")]["content"]
    if answer_expected:
        record["reference"] = messages[-1]["content"]
    return record


def _parsed(record: dict) -> dict:
    """Reference and schema given as JSON text are parsed (a reference must then be an object or an array)."""
    for name in ("reference", "schema"):
        value = record.get(name)
        if isinstance(value, str):
            try:
                record[name] = json.loads(value)
            except json.JSONDecodeError as err:
                raise RowError(f"'{name}' is text that is not JSON: {err.msg} at character {err.pos}") from None
    return record

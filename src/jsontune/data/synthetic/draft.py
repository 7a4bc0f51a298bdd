"""What a domain's generator hands to the record maker: one sentence's facts, its answer and its schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Task = Literal["extraction", "function_call", "form"]


@dataclass
class Draft:
    """One generated example before instructions and schema variants are applied.

    reference: the answer with canonical snake_case keys, in the schema's key order. schema: the shape's
    JSON Schema for it. structures: the same facts in several sentence structures, the first canonical
    (the others are drawn by `shuffle_facts`). synonyms: other names a schema variant may give a key.
    task: how the instruction frames it; a function call names its `function` and `description`.
    labels: how the text labels a key ("Check-in" for check_in), for forms keyed by their labels.
    stated: every fact the text states, as the text says it (an enum's words, a date as written, an order's
    store that the shape's answer leaves out): the answer of a record without a schema, which has no schema to
    say what to leave out or how to write it. None: the draft cannot be asked for without its schema.
    unstated: the schemas of the domain's other fields, which the text never states: optional keys a schema
    may offer (as a real API's optional parameters), which the answer leaves out.
    """

    shape: str
    reference: dict
    structures: list[str]
    schema: dict = field(default_factory=dict)
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    task: Task = "extraction"
    function: str | None = None
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    stated: dict | None = None
    unstated: Mapping[str, dict] = field(default_factory=dict)

"""Domains written as data: a pool of fields, the shapes built from them, and the sentences that state them.

A hand-written generator (handwritten.py) reads best, but forty domains of them would be thousands of
lines. Here a domain lists each field once, as a `Kind` (how a value is drawn, typed and written)
and the clauses that state it; a `Shape` picks fields by key, so that one pool gives several shapes:
a subset, a nested group, a function call's arguments, a form. The sentence is built from the
fields the draw kept, as prose ("New hotel booking for Carla Lopez, for 3 nights and with breakfast.")
or as labelled facts ("Hotel booking. Guest: Carla Lopez. Nights: 3. Breakfast: yes.").

A shape's `keys` is a space-separated list of field keys, each optionally marked:

- `key?`: optional. The text leaves it out about a third of the time, and then the answer has no such key.
- `key!`: required but may be unknown. The text then says so (the field's `unknown` clause) and the answer
  holds an explicit null; the schema allows null.
- `group:a,b?,c`: a nested object under `group` holding the fields a, b and c (marks work inside).

Every value can be read off the sentence: names and codes are copied, counts and amounts are stated,
a date is in ISO form unless its schema leaves it a plain string (then it is the text as written).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from jsontune.data.schemas import DRAFT_2020_12
from jsontune.data.synthetic.draft import Draft, Task
from jsontune.data.synthetic.schema_parts import BOOL, DATE, STR, TIME, array, enum, obj
from jsontune.data.synthetic.text import (
    Numbers,
    cents_between,
    date_text,
    join,
    money,
    money_text,
    person,
    time_text,
)
from jsontune.data.synthetic.words import EMAIL_DOMAINS

P_ABSENT = 0.35
P_UNKNOWN = 0.3
P_LABELLED = 0.35


class Value(NamedTuple):
    """A drawn value: what the answer holds, how the sentence writes it, and the schema it satisfies."""

    value: Any
    text: str
    schema: dict
    short: str | None = None  # how a labelled fact writes it ("Breakfast: yes"), when not `text`


class Kind:
    """How one field's value is drawn, typed and written."""

    def draw(self, rng: random.Random, say: Numbers) -> Value:
        raise NotImplementedError


@dataclass(frozen=True)
class Pick(Kind):
    """A string copied from the text, drawn from `choices`."""

    choices: tuple[str, ...]

    def draw(self, rng, say):
        choice = rng.choice(self.choices)
        return Value(choice, choice, dict(STR))


@dataclass(frozen=True)
class Person(Kind):
    """A full name, "Carla Lopez"."""

    def draw(self, rng, say):
        name = " ".join(person(rng))
        return Value(name, name, dict(STR))


@dataclass(frozen=True)
class Count(Kind):
    """An integer in [low, high], written with its noun when it has one ("3 nights", "five guests")."""

    low: int
    high: int
    noun: tuple[str, str] | None = None

    def draw(self, rng, say):
        n = rng.randint(self.low, self.high)
        text = say.count(n, *self.noun) if self.noun else say(n)
        return Value(n, text, {"type": "integer", "minimum": self.low})


@dataclass(frozen=True)
class Amount(Kind):
    """A sum of money in whole units low..high with cents, written with its currency symbol."""

    low: int
    high: int
    currency: str = "USD"

    def draw(self, rng, say):
        cents = cents_between(rng, self.low, self.high)
        return Value(money(cents), money_text(cents, self.currency), {"type": "number", "minimum": 0})


@dataclass(frozen=True)
class Measure(Kind):
    """A number with a unit, in steps of `step`: the answer holds the number, the key names the unit."""

    low: float
    high: float
    unit: str
    step: float = 0.5

    def draw(self, rng, say):
        steps = int(round((self.high - self.low) / self.step))
        number = round(self.low + rng.randint(0, steps) * self.step, 2)
        value = int(number) if number == int(number) else number
        return Value(value, f"{value} {self.unit}", {"type": "number"})


@dataclass(frozen=True)
class Choice(Kind):
    """One of `values` (an enum); the text writes `words[value]`, or the value with spaces for underscores."""

    values: tuple[str, ...]
    words: Mapping[str, str] = field(default_factory=dict)

    def draw(self, rng, say):
        value = rng.choice(self.values)
        return Value(value, self.words.get(value, value.replace("_", " ")), enum(self.values))


@dataclass(frozen=True)
class Flag(Kind):
    """A boolean stated as one of two phrases ("with breakfast" / "without breakfast")."""

    yes: str
    no: str

    def draw(self, rng, say):
        value = rng.random() < 0.5
        return Value(value, self.yes if value else self.no, dict(BOOL), "yes" if value else "no")


@dataclass(frozen=True)
class Day(Kind):
    """A date: ISO in the answer under `format: date`, or, for a share of draws, the text as written."""

    as_written: float = 0.25

    def draw(self, rng, say):
        iso, written = date_text(rng)
        if rng.random() < self.as_written:
            return Value(written, written, dict(STR))
        return Value(iso, written, dict(DATE))


@dataclass(frozen=True)
class Clock(Kind):
    """A time of day between the hours first and last, "HH:MM" in the answer."""

    first: int = 8
    last: int = 20

    def draw(self, rng, say):
        value, text = time_text(rng, self.first, self.last)
        return Value(value, text, dict(TIME))


@dataclass(frozen=True)
class Code(Kind):
    """An identifier: one of `prefixes` and `digits` digits ("PK40213")."""

    prefixes: tuple[str, ...]
    digits: int = 5

    def draw(self, rng, say):
        code = rng.choice(self.prefixes) + str(rng.randint(10 ** (self.digits - 1), 10 ** self.digits - 1))
        return Value(code, code, dict(STR))


@dataclass(frozen=True)
class Email(Kind):
    """A made-up email address."""

    def draw(self, rng, say):
        first, last = person(rng)
        address = f"{first}.{last}@{rng.choice(EMAIL_DOMAINS)}".lower()
        return Value(address, address, dict(STR))


@dataclass(frozen=True)
class Phone(Kind):
    """A phone number in the fictional 555 range."""

    def draw(self, rng, say):
        number = f"{rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"
        return Value(number, number, dict(STR))


@dataclass(frozen=True)
class Several(Kind):
    """A list of 1..most distinct strings from `choices`, written as an English list."""

    choices: tuple[str, ...]
    most: int = 3

    def draw(self, rng, say):
        chosen = rng.sample(self.choices, rng.randint(1, self.most))
        return Value(chosen, join(chosen), array(dict(STR)))


@dataclass(frozen=True)
class Noun(Kind):
    """A thing named by a (singular, plural) pair: the answer holds the singular; inside `Items` the text
    writes the form that agrees with the item's count."""

    pairs: tuple[tuple[str, str], ...]

    def draw(self, rng, say):
        singular, plural = rng.choice(self.pairs)
        return Value(singular, plural, dict(STR), singular)


@dataclass(frozen=True)
class Items(Kind):
    """A list of 1..most objects with the keys of `fields`, each written by the `item` template.

    The template names the fields in braces ("{quantity} {name}"). A `Noun` is written singular when a
    count in the same item is 1.
    """

    fields: Mapping[str, Kind]
    item: str
    most: int = 3

    def draw(self, rng, say):
        # A date inside a list is always ISO: one list has one item schema.
        kinds = {key: Day(as_written=0.0) if isinstance(kind, Day) else kind for key, kind in self.fields.items()}
        objects, texts, seen = [], [], set()
        for _ in range(rng.randint(1, self.most)):
            drawn = {key: kind.draw(rng, say) for key, kind in kinds.items()}
            first = json.dumps(next(iter(drawn.values())).value)
            if first in seen:  # "one mug and two mugs": an item named twice is left out
                continue
            seen.add(first)
            one = any(isinstance(kind, Count) and drawn[key].value == 1 for key, kind in kinds.items())
            words = {key: (v.short if isinstance(kinds[key], Noun) and one else v.text) for key, v in drawn.items()}
            objects.append({key: v.value for key, v in drawn.items()})
            texts.append(self.item.format(**words))
        return Value(objects, join(texts), array(obj({key: _items_schema(kind) for key, kind in kinds.items()})))


def _items_schema(kind: Kind) -> dict:
    # An item's fields are typed by their kind alone.
    if isinstance(kind, Count):
        return {"type": "integer", "minimum": kind.low}
    if isinstance(kind, (Amount, Measure)):
        return {"type": "number"}
    if isinstance(kind, Choice):
        return enum(kind.values)
    if isinstance(kind, Flag):
        return dict(BOOL)
    if isinstance(kind, Day):
        return dict(DATE)
    if isinstance(kind, Clock):
        return dict(TIME)
    return dict(STR)


@dataclass(frozen=True)
class Field:
    """A field of a domain: its kind, the prose clauses that state it (`{v}` is the value as written), its
    label in labelled facts (default: the key in words), and how the text says it is unknown."""

    kind: Kind
    says: tuple[str, ...] = ("{v}",)
    label: str | None = None
    unknown: str | None = None


def F(kind: Kind, *says: str, label: str | None = None, unknown: str | None = None) -> Field:  # noqa: N802
    """A `Field`, briefly: F(Count(1, 9, ("night", "nights")), "for {v}")."""
    return Field(kind, says or ("{v}",), label, unknown)


@dataclass(frozen=True)
class Shape:
    """One schema built from a domain's fields (see the module docstring for `keys`).

    root: the key the object is wrapped in ({"booking": {...}}), or None for a flat object. task: a
    `function_call` shape is a function `name`d so, whose parameters are `keys` and whose `description`
    the request cites; a `form` shape is a form to fill in.
    """

    name: str
    keys: str
    root: str | None = None
    task: Task = "extraction"
    description: str | None = None


@dataclass(frozen=True)
class Domain:
    """A domain: its fields, its shapes, the openings of its sentences and the synonyms of its keys.

    intros open a statement ("New hotel booking"); requests open what a user asks for ("Book me a room"),
    used for function calls (intros when there are none). synonyms: other names a key may have in a
    schema variant, for fields, groups and roots alike.
    """

    name: str
    fields: Mapping[str, Field]
    shapes: tuple[Shape, ...]
    intros: tuple[str, ...]
    requests: tuple[str, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        for shape in self.shapes:
            if all(mark == "?" for _, mark in _parse(shape.keys, shape.name)):
                raise ValueError(f"domain {self.name}, shape {shape.name}: every key is optional, so a sentence "
                                 "could state nothing")
            for key, _ in _parse(shape.keys, shape.name):
                for name in key.split(":", 1)[-1].split(","):
                    if name.rstrip("?!") not in self.fields:
                        raise ValueError(f"domain {self.name}, shape {shape.name}: no field {name.rstrip('?!')!r}")


def _parse(keys: str, shape: str) -> list[tuple[str, str]]:
    """[(token, mark)] of a shape's keys: ("nights", "?"), ("stay:room,nights?", "")."""
    tokens = keys.split()
    if not tokens:
        raise ValueError(f"shape {shape}: no keys")
    return [(token, token[-1] if token[-1] in "?!" and ":" not in token else "") for token in tokens]


class _Fact(NamedTuple):
    clause: str
    labelled: str


def draft(domain: Domain, rng: random.Random, say: Numbers) -> Draft:
    """One example of `domain`: a shape drawn at random, its values, answer, schema and sentences."""
    shape = rng.choice(domain.shapes)
    facts: list[_Fact] = []
    reference: dict[str, Any] = {}
    stated: dict[str, Any] = {}
    schema = obj({})
    for token, mark in _parse(shape.keys, shape.name):
        if ":" in token:
            group, members = token.split(":", 1)
            inner: dict[str, Any] = {}
            inner_stated: dict[str, Any] = {}
            inner_schema = obj({})
            for name in members.split(","):
                _add_field(domain, name.rstrip("?!"), name[-1] if name[-1] in "?!" else "", rng, say,
                           inner, inner_schema, facts, inner_stated)
            reference[group] = inner
            stated[group] = inner_stated
            schema["properties"][group] = inner_schema
            schema["required"].append(group)
        else:
            _add_field(domain, token.rstrip("?!"), mark, rng, say, reference, schema, facts, stated)
    if shape.task == "function_call":
        del schema["additionalProperties"]  # real function schemas seldom say; decoding closes them anyway
    if shape.root:
        reference = {shape.root: reference}
        schema = obj({shape.root: schema})
    schema = {"$schema": DRAFT_2020_12, **schema}
    openings = domain.requests if shape.task == "function_call" and domain.requests else domain.intros
    opening = rng.choice(openings)
    shuffled = facts[:]
    rng.shuffle(shuffled)
    structures = [_prose(opening, facts), _prose(opening, shuffled), _labelled(opening, shuffled)]
    if rng.random() < P_LABELLED:
        structures[0] = _labelled(opening, facts)
    labels = {key: spec.label for key, spec in domain.fields.items() if spec.label}
    used = {name.rstrip("?!") for token, _ in _parse(shape.keys, shape.name)
            for name in token.split(":", 1)[-1].split(",")} | {token.split(":", 1)[0] for token, _ in
                                                                _parse(shape.keys, shape.name) if ":" in token}
    # A field's schema does not depend on its draw but for a Day's form: drawn from a generator of its own, so
    # the content's draws stay as they were.
    unstated = {key: spec.kind.draw(random.Random(key), say).schema for key, spec in domain.fields.items()
                if key not in used}
    return Draft(shape.name, reference, structures, schema, domain.synonyms, shape.task,
                 shape.name if shape.task == "function_call" else None, shape.description, labels, stated, unstated)


def _add_field(domain: Domain, key: str, mark: str, rng: random.Random, say: Numbers,
               reference: dict, schema: dict, facts: list[_Fact], stated: dict) -> None:
    """Draw field `key` into the reference, its schema and the sentence's facts; `stated` gets the value as the
    text says it (an enum's words, a date as written), the answer of a record without a schema."""
    spec = domain.fields[key]
    drawn = spec.kind.draw(rng, say)
    label = spec.label or key.replace("_", " ").capitalize()
    absent, unknown = rng.random() < P_ABSENT, rng.random() < P_UNKNOWN
    node = drawn.schema
    if mark == "?":
        schema["properties"][key] = node
        if absent:
            return
    else:
        if mark == "!":
            node = {**node, "type": [node["type"], "null"]} if isinstance(node.get("type"), str) \
                else {"anyOf": [node, {"type": "null"}]}
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        schema["properties"][key] = node
        schema["required"].append(key)
        if mark == "!" and unknown:
            if not spec.unknown:
                raise ValueError(f"domain {domain.name}: field {key!r} is marked '!' but has no unknown clause")
            reference[key] = stated[key] = None
            facts.append(_Fact(spec.unknown, f"{label}: unknown"))
            return
    reference[key] = drawn.value
    stated[key] = drawn.text if isinstance(spec.kind, (Choice, Day, Clock)) else drawn.value
    facts.append(_Fact(rng.choice(spec.says).format(v=drawn.text), f"{label}: {drawn.short or drawn.text}"))


def _prose(opening: str, facts: list[_Fact]) -> str:
    return f"{opening} {join([fact.clause for fact in facts])}."


def _labelled(opening: str, facts: list[_Fact]) -> str:
    return f"{opening.rstrip(':')}. " + " ".join(f"{fact.labelled}." for fact in facts)


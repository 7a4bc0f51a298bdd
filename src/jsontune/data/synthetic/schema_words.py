"""Schema words: descriptions, defaults and formats that decide the answer, so a model learns to read them.

Real schemas (function parameters, API payloads, forms) say in words what the keys alone do not: "the city and
country, as 'Lyon, France'", "amount in cents", "comma-separated", "defaults to false". Data whose answers
never depend on those words trains a model that ignores them (GUIDE, lesson 9). `describe` rewrites a
record's schema and answer together so that they do: the same fact is asked for under different words and
the answer follows the words. Each rule below applies to a key whose schema and values it recognises, and
the answer still satisfies the new schema:

- `date_format`: an ISO date written as the description asks (MM/DD/YYYY, DD.MM.YYYY, "March 2, 2024", ...);
- `time_format`: an HH:MM time in 12-hour form ("2:30 PM") or left in 24-hour form, as described;
- `comma_list`: a list of strings asked for as one comma-separated string;
- `cents`: a sum of money asked for as whole cents;
- `unit`: a measure asked for in another unit (minutes -> seconds, kg -> grams, ...) or in its own, the unit
  moving from the key's name ("duration_min") into its description ("duration", "in seconds");
- `yes_no`: a boolean asked for as "yes" or "no";
- `person_name`: a full name asked for as the last name, the first name, or "Lopez, Carla";
- `city_region`: a city asked for with its country (or a US city with its state code, "Boston, MA");
- `phone_format`: a phone number as digits only, in E.164 or as "(201) 555-0134";
- `default`: an optional key given a `default`; the answer is not changed, so
  a key the text does not give stays out and a default is never written unless the text states it;
- `described`: a plain description of what the key holds, which changes nothing (most real keys have one).

`records.offer_unstated` adds the other half (`unstated_optional`): optional keys for fields of the domain the
text never states, which the answer leaves out, as a request leaves most of an API's optional parameters.

Every other value stays as the text writes it. Rules draw from the record's own `random.Random`, so a
record's words are deterministic and independent of the other augmentations.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from jsontune.data.synthetic.words import FIRST_NAMES, LAST_NAMES, MONTHS

P_RULE = 0.75  # a key some rule recognises is rewritten this often
P_DEFAULT = 0.5  # an optional key that a default fits gets one this often
P_DESCRIBED = 0.25  # a key left as it is gets a plain description this often

CITY_COUNTRIES = {
    "Lisbon": "Portugal", "Oslo": "Norway", "Leeds": "United Kingdom", "Porto": "Portugal", "Nairobi": "Kenya",
    "Osaka": "Japan", "Denver": "United States", "Lyon": "France", "Krakow": "Poland", "Austin": "United States",
    "Dublin": "Ireland", "Seville": "Spain", "Accra": "Ghana", "Toronto": "Canada", "Melbourne": "Australia",
    "Hamburg": "Germany", "Bergen": "Norway", "Cork": "Ireland", "Valencia": "Spain", "Chennai": "India",
    "Boston": "United States", "Glasgow": "United Kingdom", "Turin": "Italy", "Quebec": "Canada",
}
COUNTRY_CODES = {
    "Portugal": "PT", "Norway": "NO", "United Kingdom": "GB", "Kenya": "KE", "Japan": "JP", "United States": "US",
    "France": "FR", "Poland": "PL", "Ireland": "IE", "Spain": "ES", "Ghana": "GH", "Canada": "CA",
    "Australia": "AU", "Germany": "DE", "India": "IN", "Italy": "IT",
}
US_STATES = {"Denver": "CO", "Austin": "TX", "Boston": "MA"}

# key suffix -> (the unit in words, {other unit in words: factor from the key's unit})
UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "_min": ("minutes", {"seconds": 60}),
    "_minutes": ("minutes", {"seconds": 60}),
    "_hours": ("hours", {"minutes": 60}),
    "_kg": ("kilograms", {"grams": 1000}),
    "_km": ("kilometres", {"metres": 1000}),
    "_cm": ("centimetres", {"millimetres": 10}),
    "_mg": ("milligrams", {}),
    "_g": ("grams", {}),
}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_PHONE = re.compile(r"^(\d{3})-(\d{3})-(\d{4})$")


@dataclass(frozen=True)
class Rewrite:
    """What a rule makes of one key: its new name, its new schema, and how each value is rewritten."""

    rule: str
    key: str
    schema: dict
    value: Callable[[Any], Any]


def _words(key: str) -> str:
    return key.replace("_", " ")


def _all(values: list, test: Callable[[Any], bool]) -> bool:
    return bool(values) and all(test(value) for value in values)


def _date_format(key, node, values, rng):
    if node.get("format") != "date" or not _all(values, lambda v: isinstance(v, str) and _ISO_DATE.match(v)):
        return None
    styles = (
        ("MM/DD/YYYY", lambda d: d.strftime("%m/%d/%Y")),
        ("DD/MM/YYYY", lambda d: d.strftime("%d/%m/%Y")),
        ("DD.MM.YYYY", lambda d: d.strftime("%d.%m.%Y")),
        ("YYYY-MM-DD", lambda d: d.isoformat()),
        ("month name, day and year, as 'March 2, 2024'", lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}"),
    )
    name, write = rng.choice(styles)
    says = rng.choice(("The {w}, formatted as {f}", "{W} in {f} format", "{W} ({f})"))
    return Rewrite("date_format", key, {"type": "string", "description": _say(says, key, name)},
                   lambda v: write(date.fromisoformat(v)))


def _twelve_hour(value: str) -> str:
    hour, minute = map(int, value.split(":"))
    return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def _time_format(key, node, values, rng):
    if not _all(values, lambda v: isinstance(v, str) and _HH_MM.match(v)):
        return None
    if rng.random() < 0.5:
        return Rewrite("time_format", key, {"type": "string", "description": _say(
            "{W} in 12-hour format with AM or PM, e.g. 2:30 PM", key)}, _twelve_hour)
    return Rewrite("time_format", key, {**node, "description": _say("{W} in 24-hour HH:MM format", key)},
                   lambda v: v)


def _comma_list(key, node, values, rng):
    items = node.get("items")
    if node.get("type") != "array" or not isinstance(items, dict) or items.get("type") != "string":
        return None
    if not _all(values, lambda v: isinstance(v, list) and all(isinstance(s, str) and "," not in s for s in v)):
        return None
    says = rng.choice(("Comma-separated list of {w}", "{W}, as a comma-separated string", "{W} separated by commas"))
    return Rewrite("comma_list", key, {"type": "string", "description": _say(says, key)}, ", ".join)


def _cents(key, node, values, rng):
    if node.get("type") != "number" or node.get("minimum") != 0:  # the synthetic schemas' sums of money
        return None
    if not _all(values, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)):
        return None
    says = rng.choice(("{W} in cents, as an integer (1999 for 19.99)", "{W}, in the smallest currency unit (cents)"))
    return Rewrite("cents", key, {"type": "integer", "minimum": 0, "description": _say(says, key)},
                   lambda v: int(round(v * 100)))


def _unit(key, node, values, rng):
    suffix = next((s for s in UNITS if key.endswith(s) and len(key) > len(s)), None)
    if suffix is None or node.get("type") != "number":
        return None
    if not _all(values, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)):
        return None
    own, others = UNITS[suffix]
    unit, factor = rng.choice([(own, 1), *others.items()])

    def convert(value):
        converted = round(value * factor, 6)
        return int(converted) if converted == int(converted) else converted

    says = rng.choice(("{W} in {f}", "{W}, given in {f}", "The {w} ({f})"))
    return Rewrite("unit", key[: -len(suffix)], {"type": "number", "description": _say(says, key[: -len(suffix)], unit)},
                   convert)


def _yes_no(key, node, values, rng):
    if node.get("type") != "boolean" or not _all(values, lambda v: isinstance(v, bool)):
        return None
    return Rewrite("yes_no", key, {"type": "string", "enum": ["yes", "no"], "description": _say(
        rng.choice(("{W}: 'yes' or 'no'", "Whether {w}, as yes or no")), key)}, lambda v: "yes" if v else "no")


def _is_person(value: Any) -> bool:
    parts = value.split(" ") if isinstance(value, str) else []
    return len(parts) == 2 and parts[0] in FIRST_NAMES and parts[1] in LAST_NAMES


def _person_name(key, node, values, rng):
    if node.get("type") != "string" or not _all(values, _is_person):
        return None
    styles = (
        ("Last name only", lambda v: v.split(" ")[1]),
        ("First name only", lambda v: v.split(" ")[0]),
        ("Full name, last name first, as 'Lopez, Carla'", lambda v: ", ".join(reversed(v.split(" ")))),
        ("Full name, as 'Carla Lopez'", lambda v: v),
    )
    name, write = rng.choice(styles)
    return Rewrite("person_name", key, {"type": "string", "description": f"{_say('{W}', key)}. {name}"}, write)


def _city_region(key, node, values, rng):
    if node.get("type") != "string" or not _all(values, lambda v: v in CITY_COUNTRIES):
        return None
    styles = [
        ("The city and its country, e.g. 'Lyon, France'", lambda v: f"{v}, {CITY_COUNTRIES[v]}"),
        ("The city and its two-letter country code, e.g. 'Lyon, FR'",
         lambda v: f"{v}, {COUNTRY_CODES[CITY_COUNTRIES[v]]}"),
        ("The city name only, e.g. 'Lyon'", lambda v: v),
    ]
    if all(v in US_STATES for v in values):
        styles.append(("The city and state, e.g. 'San Francisco, CA'", lambda v: f"{v}, {US_STATES[v]}"))
    says, write = rng.choice(styles)
    return Rewrite("city_region", key, {"type": "string", "description": says}, write)


def _phone_format(key, node, values, rng):
    if not _all(values, lambda v: isinstance(v, str) and _PHONE.match(v)):
        return None
    styles = (
        ("Phone number, digits only", lambda m: "".join(m.groups())),
        ("Phone number in E.164 format, e.g. +14155550123", lambda m: "+1" + "".join(m.groups())),
        ("Phone number as (201) 555-0134", lambda m: f"({m[1]}) {m[2]}-{m[3]}"),
    )
    says, write = rng.choice(styles)
    return Rewrite("phone_format", key, {**{k: v for k, v in node.items() if k != "pattern"},
                                         "type": node.get("type", "string"), "description": says},
                   lambda v: write(_PHONE.match(v)))


RULES = (_date_format, _time_format, _comma_list, _cents, _unit, _yes_no, _person_name, _city_region,
         _phone_format)


def _say(pattern: str, key: str, form: str = "") -> str:
    words = _words(key)
    return pattern.format(w=words, W=words[:1].upper() + words[1:], f=form)


def _default_for(node: dict, rng: random.Random) -> Any:
    """A default a real schema might give this optional key, or None when none fits."""
    if isinstance(node.get("enum"), list) and node["enum"]:
        return rng.choice([v for v in node["enum"] if v is not None] or [None])
    if node.get("type") == "boolean":
        return rng.random() < 0.5
    if node.get("type") == "integer" and isinstance(node.get("minimum"), int):
        return node["minimum"]
    return None


def describe(schema: dict, reference: dict, rng: random.Random) -> tuple[dict, dict, list[str]]:
    """(schema, reference) with words that decide the answer (see the module docstring); the rules applied by
    name, sorted. The inputs are not changed."""
    schema, reference = copy.deepcopy(schema), copy.deepcopy(reference)
    applied: set[str] = set()
    _walk(schema, [reference], rng, applied)
    return schema, reference, sorted(applied)


def _walk(node: dict, instances: list, rng: random.Random, applied: set[str]) -> None:
    """Rewrite the keys of an object schema `node` and of every value it describes (`instances`) in place."""
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return
    required = list(node.get("required") or [])
    new_properties: dict[str, Any] = {}
    renames: dict[str, Rewrite] = {}
    for key, child in properties.items():
        values = [instance[key] for instance in instances if isinstance(instance, dict) and key in instance]
        if not isinstance(child, dict):
            new_properties[key] = child
            continue
        if child.get("type") == "object":
            _walk(child, values, rng, applied)
        elif child.get("type") == "array" and isinstance(child.get("items"), dict) \
                and child["items"].get("type") == "object":
            _walk(child["items"], [item for value in values if isinstance(value, list) for item in value],
                  rng, applied)
        rewrite = _rewrite(key, child, values, rng)
        if rewrite is not None and (rewrite.key == key or rewrite.key not in properties) \
                and rewrite.key not in new_properties:
            renames[key] = rewrite
            new_properties[rewrite.key] = rewrite.schema
            applied.add(rewrite.rule)
            continue
        if key not in required and _default_allowed(child) and rng.random() < P_DEFAULT:
            default = _default_for(child, rng)
            if default is not None:
                new_properties[key] = {**child, "default": default}
                applied.add("default")
                continue
        if "description" not in child and rng.random() < P_DESCRIBED and child.get("type") != "object":
            new_properties[key] = {**child, "description": _say(rng.choice(("The {w}", "{W}")), key)}
            applied.add("described")
            continue
        new_properties[key] = child
    node["properties"] = new_properties
    if "required" in node:
        node["required"] = [renames[key].key if key in renames else key for key in required]
    for instance in instances:
        if isinstance(instance, dict) and renames:
            rebuilt = {(renames[key].key if key in renames else key):
                       (renames[key].value(value) if key in renames else value) for key, value in instance.items()}
            instance.clear()
            instance.update(rebuilt)


def _rewrite(key: str, child: dict, values: list, rng: random.Random) -> Rewrite | None:
    # A rule returns None where it does not apply; asking it with a throwaway generator keeps the record's own
    # draws the same whichever rules apply.
    candidates = [rule for rule in RULES if rule(key, child, values, random.Random(0)) is not None]
    if not candidates or rng.random() >= P_RULE:
        return None
    return rng.choice(candidates)(key, child, values, rng)


def _default_allowed(child: dict) -> bool:
    return "default" not in child and child.get("type") in ("string", "boolean", "integer")


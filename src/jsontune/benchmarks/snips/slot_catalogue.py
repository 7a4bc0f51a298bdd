"""The SNIPS slot catalogue in the prompt: every intent, every slot name, one line on what each slot holds.

A SNIPS record's own schema names its intent as a `const`, so writing it into the prompt would give the
answer's intent away. The catalogue is the schema of every answer instead: `intent` one of the seven,
`slots` an object whose properties are the union of all intents' slot names, each with a one-line
description that also says which intents use it. It is written into the prompt text by the schema
renderings of `jsontune.data.schema_rendering` (`template`: names only; `outline`: names with their
descriptions), so training and evaluation see the same words and the record keeps its own schema for
validation and grammars.

A recipe asks for it through the split, e.g. `split: {name: snips, per_intent: 70, slot_catalogue: template}`;
the split's records (`recipe.splits()`) and the SNIPS benchmark's evaluation records carry it. Other entry points
(`jsontune eval --data`, `generate`, `serve`) take prompts as they are given: a model trained with the catalogue
needs `with_catalogue`'s text in those prompts too.

It costs prompt length. On the shipped data, with the embedded model's tokenizer: `template` 288 tokens,
`outline` 948, against a median of 28 for a bare SNIPS prompt. `outline` needs a `max_length` above the SNIPS
recipes' 512 (`--max_length 1280`).
"""

from __future__ import annotations

import copy

from jsontune.data.schema_rendering import render_schema
from jsontune.data.schemas import DRAFT_2020_12

# What each slot holds, in a few words; the intents that use it are added by `catalogue_schema`.
SLOT_DESCRIPTIONS: dict[str, str] = {
    "album": "an album's title",
    "artist": "a performer or band",
    "best_rating": "the top of the rating scale",
    "city": "a city",
    "condition_description": "a weather condition (rain, sunny, snow)",
    "condition_temperature": "a temperature word (hot, cold, chilly)",
    "country": "a country",
    "cuisine": "a kind of food or cooking",
    "current_location": "the user's own location",
    "entity_name": "the song, artist or item to add",
    "facility": "a restaurant feature (wifi, parking)",
    "genre": "a music genre",
    "geographic_poi": "a named natural or public place",
    "location_name": "a cinema or theatre chain's name",
    "movie_name": "a film's title",
    "movie_type": "a kind of film or screening (animated, films)",
    "music_item": "song, album, track, artist or tune",
    "object_location_type": "a kind of place that shows films (movie house)",
    "object_name": "a work's title",
    "object_part_of_series_type": "series, saga or chronicle",
    "object_select": "which one (this, current, the last)",
    "object_type": "a kind of work (book, album, movie schedule, TV show)",
    "party_size_description": "who the table is for, in words",
    "party_size_number": "how many people",
    "playlist": "a playlist's name",
    "playlist_owner": "whose playlist (my, Amy's)",
    "poi": "a named place near the restaurant",
    "rating_unit": "the unit of the rating (stars, points)",
    "rating_value": "the rating given",
    "restaurant_name": "a restaurant's name",
    "restaurant_type": "a kind of place to eat (bar, brasserie)",
    "served_dish": "a dish",
    "service": "a music service (Spotify, Deezer)",
    "sort": "an ordering word (top, popular, newest)",
    "spatial_relation": "how near (close by, in the area)",
    "state": "a state or region",
    "timeRange": "a time or date",
    "track": "a song's title",
    "year": "a year or decade",
}
CATALOGUE_FORMATS = ("template", "outline")
# Not the renderings' own introductions ("use exactly these keys"): an answer names one intent and only the few
# slots its query gives.
INTRODUCTION = "Answer with the intent and the slots the query gives, using only these keys (leave out the others):"


def catalogue_schema(slots_by_intent: dict[str, list[str]]) -> dict:
    """The schema of every SNIPS answer: one of the intents, and any of their slots, each slot described.

    Raises ValueError for a slot that SLOT_DESCRIPTIONS does not describe (data this module does not know).
    """
    users: dict[str, list[str]] = {}
    for intent, names in slots_by_intent.items():
        for name in names:
            users.setdefault(name, []).append(intent)
    unknown = sorted(set(users) - set(SLOT_DESCRIPTIONS))
    if unknown:
        raise ValueError(f"slots without a description in the catalogue: {', '.join(unknown)}")
    # A value is a string (a list of them for a slot said twice is rare and left unsaid: tokens in every prompt).
    slots = {name: {"type": "string", "description": f"{SLOT_DESCRIPTIONS[name]} ({', '.join(users[name])})"}
             for name in sorted(users)}
    return {"$schema": DRAFT_2020_12, "type": "object",
            "properties": {"intent": {"enum": list(slots_by_intent)},
                           "slots": {"type": "object", "properties": slots, "additionalProperties": False}},
            "required": ["intent", "slots"], "additionalProperties": False}


def catalogue_text(slots_by_intent: dict[str, list[str]], schema_format: str) -> str:
    """The catalogue as the prompt writes it: INTRODUCTION, then the schema in `schema_format`."""
    if schema_format not in CATALOGUE_FORMATS:
        raise ValueError(f"slot_catalogue must be one of {', '.join(CATALOGUE_FORMATS)}, not {schema_format!r}")
    return f"{INTRODUCTION}\n{render_schema(catalogue_schema(slots_by_intent), schema_format)}"


def with_catalogue(records: list[dict], text: str) -> list[dict]:
    """Copies of the records whose prompt ends with the catalogue text (the records are left as they are)."""
    out = []
    for record in records:
        copied = copy.deepcopy(record)
        copied["prompt"] = f"{record['prompt']}\n{text}"
        out.append(copied)
    return out

"""Embedded synthetic dataset: everyday sentences paired with the JSON they describe.

Each domain (orders, deliveries, ...) has one or two *shapes*; a shape is a JSON Schema (Draft
2020-12) plus a generator that draws values from small built-in word lists and writes them into a
sentence. Every value in a reference can be read off its prompt, so a model can learn the mapping
exactly. Rules a model has to learn from the text alone:

- a field the text does not mention is absent (optional fields);
- a field the text says is unknown, not given or not announced is an explicit ``null``;
- numbers written as words ("five notebooks") are still integers in the reference;
- keys are snake_case unless the prompt says "camelCase".

Generation is deterministic: every record has its own ``random.Random`` seeded from
``(seed, domain, index)``, and content and augmentation draw from separate generators, so switching an
augmentation off changes only what that augmentation touches.
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from jsontune.data.contract import write_jsonl
from jsontune.data.schemas import DRAFT_2020_12

DEFAULT_PER_DOMAIN = 150
DEFAULT_SEED = 0
DATASET_FILENAME = "records.jsonl"

# The original experiment's instruction; the first entry is the only wording used without paraphrasing.
INSTRUCTIONS: tuple[str, ...] = (
    "Please create a JSON object from the following: '{text}'",
    "Convert the following text into JSON: {text}",
    'Extract the details from this text as a JSON object: "{text}"',
    "{text}\n\nTurn the text above into a JSON object.",
    "Text: {text}\nReturn the information in this text as JSON.",
    "Read this and give me the structured data as JSON: {text}",
    "Write a JSON object that captures this: {text}",
    "Create JSON from this sentence: '{text}'",
)
CAMEL_CASE_NOTES: tuple[str, ...] = (
    "Use camelCase keys.",
    "Write all keys in camelCase.",
    "The keys must be camelCase.",
)

# How often each augmentation is drawn for a record when its switch is on.
P_PARAPHRASE = 0.5
P_SHUFFLE = 0.5
P_NUMBERS_AS_WORDS = 0.35
P_CAMEL_CASE = 0.25


@dataclass(frozen=True)
class Augmentation:
    """Which kinds of variation `generate_records` may apply; each record draws its own subset."""

    paraphrase_instruction: bool = True
    shuffle_facts: bool = True
    numbers_as_words: bool = True
    key_styles: bool = True

    @classmethod
    def none(cls) -> Augmentation:
        """No variation: the original instruction, canonical sentences, digits and snake_case keys."""
        return cls(**{f.name: False for f in fields(cls)})


# ----------------------------------------------------------------------------------------------
# Word lists (written for this dataset).

FIRST_NAMES = (
    "Carla", "Omar", "Priya", "Jonas", "Mei", "Lucas", "Amara", "Diego", "Hana", "Tomasz",
    "Fatima", "Ethan", "Ingrid", "Kwame", "Sofia", "Ravi", "Elena", "Noah", "Yuki", "Mateo",
    "Leila", "Oliver", "Zanele", "Pierre", "Aisha", "Liam", "Nadia", "Sven", "Chloe", "Arjun",
    "Greta", "Malik", "Isabel", "Kenji", "Rosa", "Felix", "Amina", "Hugo", "Lena", "Tariq",
)
LAST_NAMES = (
    "Lopez", "Haddad", "Nair", "Berg", "Chen", "Silva", "Okafor", "Ramos", "Sato", "Kowalski",
    "Rahman", "Walsh", "Larsen", "Mensah", "Rossi", "Patel", "Petrova", "Miller", "Tanaka", "Garcia",
    "Moreau", "Hughes", "Dlamini", "Dubois", "Khan", "Murphy", "Novak", "Lindqvist", "Martin", "Singh",
)
CITIES = (
    "Lisbon", "Oslo", "Leeds", "Porto", "Nairobi", "Osaka", "Denver", "Lyon", "Krakow", "Austin",
    "Dublin", "Seville", "Accra", "Toronto", "Melbourne", "Hamburg", "Bergen", "Cork", "Valencia",
    "Chennai", "Boston", "Glasgow", "Turin", "Quebec",
)
COMPANIES = (
    "Northwind Ltd", "Bluebird Studio", "Acme Logistics", "Greenleaf Foods", "Harbor Analytics",
    "Summit Health", "Pixel Forge", "Riverstone Bank", "Cedar Schools", "Brightwave Energy",
    "Juniper Labs", "Maple Retail", "Orbit Media", "Silverline Legal",
)
# (singular, plural): the reference uses the singular, the text the form that fits the quantity.
ORDER_ITEMS = (
    ("notebook", "notebooks"), ("pen", "pens"), ("stapler", "staplers"), ("folder", "folders"),
    ("marker", "markers"), ("mug", "mugs"), ("desk lamp", "desk lamps"), ("battery", "batteries"),
    ("candle", "candles"), ("towel", "towels"), ("plate", "plates"), ("glass", "glasses"),
    ("paintbrush", "paintbrushes"), ("envelope", "envelopes"), ("shelf", "shelves"), ("pillow", "pillows"),
)
STORES = (
    "supply store", "hardware shop", "online shop", "department store", "corner shop",
    "home goods store", "office outlet", "craft store",
)
PRIORITIES = ("low", "normal", "high", "urgent")
DELIVERY_STATUSES = ("in_transit", "out_for_delivery", "delivered", "delayed")
APPOINTMENT_STATUSES = ("confirmed", "pending", "cancelled")
VISIT_REASONS = (
    "checkup", "dental cleaning", "flu shot", "follow-up visit", "eye exam",
    "physiotherapy session", "blood test", "skin check",
)
EMAIL_DOMAINS = ("example.com", "mail.net", "inbox.org", "post.io")
EVENT_TITLES = (
    "Spring Book Fair", "Jazz Night", "Python Meetup", "Charity Fun Run", "Food Truck Festival",
    "Startup Pitch Day", "Winter Craft Market", "Film Club Screening", "Science Open Day",
    "Chess Tournament", "Photography Workshop", "Wine Tasting Evening",
)
VENUES = (
    "Riverside Hall", "Grand Theatre", "Civic Centre", "Harbor Pavilion", "Oak Park", "City Library",
    "Union Hall", "Old Mill", "Lakeside Arena", "Town Square",
)
PRODUCT_NAMES = (
    "wireless mouse", "desk lamp", "water bottle", "backpack", "yoga mat", "coffee grinder",
    "bluetooth speaker", "rain jacket", "office chair", "phone case", "electric kettle", "running shoes",
)
BRANDS = ("Kestrel", "Lumo", "Brightline", "Nimbus", "Orla", "Vanta", "Northpeak", "Zephyr", "Tidewell")
COLORS = ("black", "white", "red", "blue", "green", "grey", "silver", "yellow")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
CURRENCIES = tuple(CURRENCY_SYMBOLS)
AIRLINE_CODES = ("TP", "SK", "BA", "LH", "AF", "KL", "IB", "AY", "EI", "LX", "UA", "AC")
RESTAURANTS = (
    "Casa Verde", "The Blue Door", "Luigi's", "Sakura House", "Green Olive", "Bistro Nord",
    "Spice Route", "Harbor Grill", "La Petite Table", "Golden Dragon",
)
SEATINGS = ("indoor", "outdoor", "bar")
OCCASIONS = ("birthday", "anniversary", "business dinner", "graduation", "farewell party")
SERVICES = (
    "web design", "logo design", "consulting", "web hosting", "copy editing", "photography",
    "translation", "IT support", "catering", "bookkeeping",
)
JOB_TITLES = (
    "data analyst", "barista", "nurse", "software engineer", "graphic designer", "warehouse associate",
    "accountant", "teacher", "electrician", "sales manager", "marketing assistant",
)
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "internship")
WEATHER_CONDITIONS = ("sunny", "cloudy", "rainy", "snowy", "windy", "foggy", "stormy")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


# ----------------------------------------------------------------------------------------------
# Schemas: one per shape, written snake_case; camelCase copies are derived.

_STR = {"type": "string", "minLength": 1}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 1}
_MONEY = {"type": "number", "minimum": 0}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}


def _enum(values: tuple[str, ...]) -> dict:
    return {"type": "string", "enum": list(values)}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items, "minItems": 1}


def _object(required: dict[str, dict], optional: dict[str, dict] | None = None) -> dict:
    # Optional properties come last, matching the key order of the references.
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def _root(key: str, inner: dict) -> dict:
    return {"$schema": DRAFT_2020_12, **_object({key: inner})}


SCHEMAS: dict[str, dict] = {
    "order_items": _root("order", _object(
        {"customer": _STR, "items": _array(_object({"type": _STR, "quantity": _COUNT}))},
        {"gift_wrapped": _BOOL},
    )),
    "order_summary": _root("order", _object({
        "order_number": _COUNT,
        "customer": _STR,
        "items": _array(_object({"type": _STR, "quantity": _COUNT, "unit_price": _MONEY})),
        "paid": _BOOL,
        "priority": _enum(PRIORITIES),
    })),
    "delivery": _root("delivery", _object({
        "tracking_number": _STR,
        "recipient": _object({"name": _STR, "city": _STR}),
        "packages": _COUNT,
        "status": _enum(DELIVERY_STATUSES),
        "signature_required": _BOOL,
    })),
    "appointment": _root("appointment", _object(
        {"patient": _STR, "provider": _STR, "date": _DATE, "start_time": _TIME, "status": _enum(APPOINTMENT_STATUSES)},
        {"reason": _STR},
    )),
    "contact": _root("contact", _object(
        {"first_name": _STR, "last_name": _STR, "email": _STR, "phone": {"type": ["string", "null"]}},
        {"company": _STR},
    )),
    "event": _root("event", _object({
        "title": _STR,
        "date": _DATE,
        "venue": _object({"name": _STR, "city": _STR}),
        "expected_attendees": _COUNT,
        "ticket_price": {"type": ["number", "null"], "minimum": 0},
    })),
    "product": _root("product", _object(
        {"name": _STR, "brand": _STR, "price": _MONEY, "currency": _enum(CURRENCIES), "in_stock": _BOOL},
        {"colors": _array(_STR)},
    )),
    "flight": _root("flight", _object(
        {
            "passenger": _STR,
            "flight_number": _STR,
            "origin": _STR,
            "destination": _STR,
            "date": _DATE,
            "checked_bags": {"type": "integer", "minimum": 0},
        },
        {"seat": _STR},
    )),
    "reservation": _root("reservation", _object(
        {
            "restaurant": _STR,
            "guest_name": _STR,
            "party_size": _COUNT,
            "date": _DATE,
            "time": _TIME,
            "seating": _enum(SEATINGS),
        },
        {"occasion": _STR},
    )),
    "invoice": _root("invoice", _object({
        "invoice_number": _STR,
        "client": _STR,
        "line_items": _array(_object({"description": _STR, "amount": _MONEY})),
        "total": _MONEY,
        "paid": _BOOL,
        "due_date": _DATE,
    })),
    "job_posting": _root("job", _object({
        "title": _STR,
        "company": _STR,
        "location": _STR,
        "employment_type": _enum(EMPLOYMENT_TYPES),
        "remote": _BOOL,
        "salary": {"anyOf": [
            _object({"min": _COUNT, "max": _COUNT, "currency": _enum(CURRENCIES)}),
            {"type": "null"},
        ]},
    })),
    "weather": _root("weather", _object({
        "city": _STR,
        "date": _DATE,
        "conditions": _enum(WEATHER_CONDITIONS),
        "temperature_c": _object({"high": _INT, "low": _INT}),
        "precipitation_chance": {"type": "integer", "minimum": 0, "maximum": 100},
    })),
}


# ----------------------------------------------------------------------------------------------
# Text helpers.

class _Numbers:
    """Writes counts as digits or, for a record drawn for `numbers_as_words`, as words; remembers whether it did."""

    def __init__(self, as_words: bool):
        self.as_words = as_words
        self.used_words = False

    def __call__(self, n: int) -> str:
        if self.as_words and 0 < n < 100:
            self.used_words = True
            return _number_word(n)
        return str(n)

    def count(self, n: int, singular: str, plural: str) -> str:
        """`n` with the noun form that agrees with it: "1 pen", "five notebooks"."""
        return f"{self(n)} {singular if n == 1 else plural}"


def _number_word(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _join(parts: list[str]) -> str:
    """English list: "a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _sentence_case(text: str) -> str:
    # Templates may start a sentence with a lower-case value ("five notebooks were ..."); capitalise it.
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _date(rng: random.Random) -> tuple[str, str]:
    """A date as (ISO value for the reference, the way the text writes it)."""
    day = date(rng.randint(2024, 2026), rng.randint(1, 12), rng.randint(1, 28))
    month = MONTHS[day.month - 1]
    text = rng.choice((f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}", day.isoformat()))
    return day.isoformat(), text


def _time(rng: random.Random, first_hour: int, last_hour: int) -> tuple[str, str]:
    """A time of day as ("HH:MM", the way the text writes it: "2:30 pm", "2 pm" or "14:30")."""
    hour, minute = rng.randint(first_hour, last_hour), rng.choice((0, 15, 30, 45))
    value = f"{hour:02d}:{minute:02d}"
    if rng.random() < 0.3:
        return value, value
    twelve = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return value, f"{twelve}:{minute:02d} {suffix}" if minute else f"{twelve} {suffix}"


def _cents(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 100 + rng.choice((0, 0, 25, 49, 50, 75, 99))


def _money(cents: int) -> int | float:
    # Whole amounts stay integers so the target reads 1200, not 1200.0; division by 100 gives the
    # shortest exact decimal (89.5), never a binary-rounding artefact.
    return cents // 100 if cents % 100 == 0 else cents / 100


def _money_text(cents: int, currency: str = "USD") -> str:
    return f"{CURRENCY_SYMBOLS[currency]}{cents / 100:,.2f}"


# ----------------------------------------------------------------------------------------------
# Shape generators. Each returns the shape name, the snake_case reference and the fact sentence in
# several structures; the first structure is canonical, the others are used by `shuffle_facts`.

class _Draft(NamedTuple):
    shape: str
    reference: dict
    structures: list[str]


def _orders(rng: random.Random, say: _Numbers) -> _Draft:
    if rng.random() < 0.5:
        return _order_items(rng, say)
    return _order_summary(rng, say)


def _pick_items(rng: random.Random, most: int) -> list[tuple[str, str, int]]:
    chosen = rng.sample(ORDER_ITEMS, rng.randint(1, most))
    return [(singular, plural, rng.randint(1, 12)) for singular, plural in chosen]


def _order_items(rng: random.Random, say: _Numbers) -> _Draft:
    customer = rng.choice(FIRST_NAMES)
    store = rng.choice(STORES)
    items = _pick_items(rng, 3)
    gift = rng.choice((None, None, True, False))
    order: dict[str, Any] = {"customer": customer, "items": [{"type": s, "quantity": q} for s, _, q in items]}
    gift_text = ""
    if gift is not None:
        order["gift_wrapped"] = gift
        gift_text = " The order should be gift wrapped." if gift else " No gift wrapping is needed."
    listed = _join([say.count(q, s, p) for s, p, q in items])
    return _Draft("order_items", {"order": order}, [
        f"{customer} ordered {listed} from the {store}.{gift_text}",
        f"From the {store}, {customer} ordered {listed}.{gift_text}",
        f"{customer} bought {listed} at the {store}.{gift_text}",
        f"The {store} received an order from {customer} for {listed}.{gift_text}",
    ])


def _order_summary(rng: random.Random, say: _Numbers) -> _Draft:
    number = rng.randint(1000, 9999)
    customer = " ".join(_person(rng))
    items = [(s, p, q, _cents(rng, 1, 40)) for s, p, q in _pick_items(rng, 2)]
    paid = rng.random() < 0.5
    priority = rng.choice(PRIORITIES)
    reference = {"order": {
        "order_number": number,
        "customer": customer,
        "items": [{"type": s, "quantity": q, "unit_price": _money(c)} for s, _, q, c in items],
        "paid": paid,
        "priority": priority,
    }}
    listed = _join([f"{say.count(q, s, p)} at {_money_text(c)} each" for s, p, q, c in items])
    paid_sentence = "It has been paid." if paid else "It has not been paid yet."
    return _Draft("order_summary", reference, [
        f"Order {number} from {customer}: {listed}. {paid_sentence} The priority is {priority}.",
        f"{customer} placed order {number} for {listed}. It is {priority} priority and "
        f"{'has been paid' if paid else 'has not been paid yet'}.",
        f"{priority} priority order {number}: {customer} wants {listed}. Paid: {'yes' if paid else 'no'}.",
    ])


def _deliveries(rng: random.Random, say: _Numbers) -> _Draft:
    tracking = rng.choice(("PK", "TRK", "SHP", "DX")) + str(rng.randint(10000, 99999))
    name = " ".join(_person(rng))
    city = rng.choice(CITIES)
    packages = rng.randint(1, 6)
    status = rng.choice(DELIVERY_STATUSES)
    signature = rng.random() < 0.4
    reference = {"delivery": {
        "tracking_number": tracking,
        "recipient": {"name": name, "city": city},
        "packages": packages,
        "status": status,
        "signature_required": signature,
    }}
    status_verb = {
        "in_transit": "is in transit",
        "out_for_delivery": "is out for delivery",
        "delivered": "has been delivered",
        "delayed": "is delayed",
    }[status]
    signature_sentence = "A signature is required." if signature else "No signature is needed."
    parcels = say.count(packages, "package", "packages")
    return _Draft("delivery", reference, [
        f"Shipment {tracking} with {parcels} for {name} in {city} {status_verb}. {signature_sentence}",
        f"{name} in {city} is waiting for {parcels}, tracking number {tracking}. "
        f"The shipment {status_verb}. {signature_sentence}",
        f"Tracking {tracking}: {parcels}, recipient {name} ({city}), {status.replace('_', ' ')}. {signature_sentence}",
    ])


def _appointments(rng: random.Random, say: _Numbers) -> _Draft:
    patient = " ".join(_person(rng))
    provider = "Dr. " + rng.choice(LAST_NAMES)
    day, day_text = _date(rng)
    start, start_text = _time(rng, 8, 17)
    status = rng.choice(APPOINTMENT_STATUSES)
    reason = rng.choice(VISIT_REASONS) if rng.random() < 0.6 else None
    appointment = {"patient": patient, "provider": provider, "date": day, "start_time": start, "status": status}
    for_reason = ""
    if reason is not None:
        appointment["reason"] = reason
        for_reason = f" for {_a(reason)}"
    status_sentence = {
        "confirmed": "The appointment is confirmed.",
        "pending": "The appointment is still pending.",
        "cancelled": "The appointment has been cancelled.",
    }[status]
    return _Draft("appointment", {"appointment": appointment}, [
        f"{patient} has an appointment with {provider} on {day_text} at {start_text}{for_reason}. {status_sentence}",
        f"On {day_text} at {start_text}, {patient} sees {provider}{for_reason}. {status_sentence}",
        f"Appointment for {patient} with {provider}{for_reason}: {day_text}, {start_text}, {status}.",
    ])


def _contacts(rng: random.Random, say: _Numbers) -> _Draft:
    first, last = _person(rng)
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}")).lower()
    email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    phone = f"{rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}" if rng.random() < 0.65 else None
    company = rng.choice(COMPANIES) if rng.random() < 0.5 else None
    contact: dict[str, Any] = {"first_name": first, "last_name": last, "email": email, "phone": phone}
    if company is not None:
        contact["company"] = company
    works_at = f", works at {company}" if company else ""
    from_company = f" from {company}" if company else ""
    return _Draft("contact", {"contact": contact}, [
        f"Add {first} {last} to my contacts: email {email}, "
        f"{f'phone {phone}' if phone else 'no phone number given'}{works_at}.",
        f"New contact: {first} {last}{from_company}. Email {email}. Phone: {phone or 'unknown'}.",
        f"{first} {last}{from_company} has the email address {email}; "
        f"the phone number is {phone or 'unknown'}.",
    ])


def _events(rng: random.Random, say: _Numbers) -> _Draft:
    title = rng.choice(EVENT_TITLES)
    day, day_text = _date(rng)
    venue, city = rng.choice(VENUES), rng.choice(CITIES)
    attendees = rng.randint(2, 9) * 10 if rng.random() < 0.4 else rng.randint(10, 150) * 10
    price_draw = rng.random()
    cents = _cents(rng, 5, 60)
    price: int | float | None
    if price_draw < 0.2:
        price, clause, short = 0, "entry is free", "free"
    elif price_draw < 0.45:
        price, clause, short = None, "the ticket price has not been announced", "not announced yet"
    else:
        price, clause, short = _money(cents), f"tickets cost {_money_text(cents)}", _money_text(cents)
    reference = {"event": {
        "title": title,
        "date": day,
        "venue": {"name": venue, "city": city},
        "expected_attendees": attendees,
        "ticket_price": price,
    }}
    return _Draft("event", reference, [
        f"The {title} takes place at {venue} in {city} on {day_text}. "
        f"About {say(attendees)} people are expected and {clause}.",
        f"On {day_text}, {venue} in {city} hosts the {title}, with {say(attendees)} expected guests; {clause}.",
        f"Event: {title}. Venue: {venue}, {city}. Date: {day_text}. "
        f"Expected attendance: {say(attendees)}. Tickets: {short}.",
    ])


def _products(rng: random.Random, say: _Numbers) -> _Draft:
    name, brand = rng.choice(PRODUCT_NAMES), rng.choice(BRANDS)
    currency = rng.choice(CURRENCIES)
    cents = _cents(rng, 4, 250)
    in_stock = rng.random() < 0.6
    colors = rng.sample(COLORS, rng.randint(1, 3)) if rng.random() < 0.5 else None
    product: dict[str, Any] = {
        "name": name, "brand": brand, "price": _money(cents), "currency": currency, "in_stock": in_stock,
    }
    price_text = _money_text(cents, currency)
    stock = "in stock" if in_stock else "out of stock"
    available, listed_colors = "", ""
    if colors is not None:
        product["colors"] = colors
        available = f" It comes in {_join(colors)}."
        listed_colors = f" Colors: {_join(colors)}."
    return _Draft("product", {"product": product}, [
        f"The {brand} {name} costs {price_text} and is {stock}.{available}",
        f"{brand} {name}, {price_text}, {stock}.{listed_colors}",
        f"Product listing: the {name} by {brand} is priced at {price_text} and is currently {stock}.{available}",
    ])


def _flights(rng: random.Random, say: _Numbers) -> _Draft:
    passenger = " ".join(_person(rng))
    number = rng.choice(AIRLINE_CODES) + str(rng.randint(10, 2999))
    origin, destination = rng.sample(CITIES, 2)
    day, day_text = _date(rng)
    bags = rng.randint(0, 3)
    seat = f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}" if rng.random() < 0.5 else None
    flight: dict[str, Any] = {
        "passenger": passenger, "flight_number": number, "origin": origin, "destination": destination,
        "date": day, "checked_bags": bags,
    }
    in_seat = ""
    if seat is not None:
        flight["seat"] = seat
        in_seat = f", seat {seat}"
    # "no checked bags" is how people say zero; the reference still holds 0.
    bag_text = "no checked bags" if bags == 0 else say.count(bags, "checked bag", "checked bags")
    return _Draft("flight", {"flight": flight}, [
        f"{passenger} is flying from {origin} to {destination} on flight {number} on {day_text} "
        f"with {bag_text}{in_seat}.",
        f"Flight {number} on {day_text} from {origin} to {destination}: passenger {passenger}, {bag_text}{in_seat}.",
        f"On {day_text}, {passenger} takes flight {number} from {origin} to {destination}{in_seat}. "
        f"{passenger} has {bag_text}.",
    ])


def _reservations(rng: random.Random, say: _Numbers) -> _Draft:
    restaurant = rng.choice(RESTAURANTS)
    guest = " ".join(_person(rng))
    party = rng.randint(1, 12)
    day, day_text = _date(rng)
    at, at_text = _time(rng, 11, 22)
    seating = rng.choice(SEATINGS)
    occasion = rng.choice(OCCASIONS) if rng.random() < 0.4 else None
    reservation: dict[str, Any] = {
        "restaurant": restaurant, "guest_name": guest, "party_size": party, "date": day, "time": at,
        "seating": seating,
    }
    for_occasion, occasion_sentence = "", ""
    if occasion is not None:
        reservation["occasion"] = occasion
        for_occasion = f" for {_a(occasion)}"
        occasion_sentence = f" Occasion: {occasion}."
    people = say.count(party, "person", "people")
    seating_phrase = {"indoor": "indoor seating", "outdoor": "outdoor seating", "bar": "seats at the bar"}[seating]
    table = {"indoor": "an indoor table", "outdoor": "an outdoor table", "bar": "seats at the bar"}[seating]
    return _Draft("reservation", {"reservation": reservation}, [
        f"Reserve a table at {restaurant} for {people} on {day_text} at {at_text} under the name {guest}, "
        f"{seating_phrase}{for_occasion}.",
        f"{guest} booked {table} at {restaurant} for {people} on {day_text} at {at_text}{for_occasion}.",
        f"Table for {people} at {restaurant}, {day_text}, {at_text}. Name: {guest}. "
        f"Seating: {seating}.{occasion_sentence}",
    ])


def _invoices(rng: random.Random, say: _Numbers) -> _Draft:
    number = f"INV-{rng.randint(1000, 9999)}"
    client = rng.choice(COMPANIES)
    # At most two lines keeps the reference under ~250 characters.
    lines = [(service, _cents(rng, 20, 2500)) for service in rng.sample(SERVICES, rng.randint(1, 2))]
    total = sum(cents for _, cents in lines)
    paid = rng.random() < 0.5
    due, due_text = _date(rng)
    reference = {"invoice": {
        "invoice_number": number,
        "client": client,
        "line_items": [{"description": service, "amount": _money(cents)} for service, cents in lines],
        "total": _money(total),
        "paid": paid,
        "due_date": due,
    }}
    # The total is stated, not left for the model to add up: every value must be readable from the text.
    listed = _join([f"{service} {_money_text(cents)}" for service, cents in lines])
    bracketed = _join([f"{service} ({_money_text(cents)})" for service, cents in lines])
    paid_sentence = "It has been paid." if paid else "It has not been paid yet."
    return _Draft("invoice", reference, [
        f"Invoice {number} for {client}: {listed}. Total {_money_text(total)}, due {due_text}. {paid_sentence}",
        f"{client} was billed {_money_text(total)} on invoice {number} for {bracketed}, "
        f"due by {due_text}. {paid_sentence}",
        f"Invoice {number}. Client: {client}. Items: {listed}. Total: {_money_text(total)}. Due: {due_text}. "
        f"Status: {'paid' if paid else 'unpaid'}.",
    ])


def _job_postings(rng: random.Random, say: _Numbers) -> _Draft:
    title, company, city = rng.choice(JOB_TITLES), rng.choice(COMPANIES), rng.choice(CITIES)
    kind = rng.choice(EMPLOYMENT_TYPES)
    remote = rng.random() < 0.4
    currency = rng.choice(CURRENCIES)
    low = rng.randint(20, 110) * 1000
    high = low + rng.randint(1, 6) * 5000
    salary = {"min": low, "max": high, "currency": currency} if rng.random() < 0.6 else None
    reference = {"job": {
        "title": title, "company": company, "location": city, "employment_type": kind, "remote": remote,
        "salary": salary,
    }}
    kind_word = kind.replace("_", "-")
    kind_phrase = {"contract": "a contract role", "internship": "an internship"}.get(kind, kind_word)
    symbol = CURRENCY_SYMBOLS[currency]
    pay = f"{symbol}{low:,} to {symbol}{high:,} a year" if salary else "not disclosed"
    return _Draft("job_posting", reference, [
        f"{company} is hiring {_a(title)} in {city}. The position is {kind_phrase} and "
        f"{'remote work is allowed' if remote else 'it is on-site only'}. The salary is {pay}.",
        f"Job opening: {title} at {company} in {city}. Type: {kind_word}. Remote: {'yes' if remote else 'no'}. "
        f"Salary: {pay}.",
        f"Wanted: {_a(title)} for {company} ({city}), {kind_word}, {'remote' if remote else 'on-site'}. "
        f"Pay is {pay}.",
    ])


def _weather(rng: random.Random, say: _Numbers) -> _Draft:
    city = rng.choice(CITIES)
    day, day_text = _date(rng)
    conditions = rng.choice(WEATHER_CONDITIONS)
    high = rng.randint(-5, 4) if conditions == "snowy" else rng.randint(-2, 35)
    low = high - rng.randint(2, 10)
    chance = rng.randint(0, 20) * 5
    reference = {"weather": {
        "city": city,
        "date": day,
        "conditions": conditions,
        "temperature_c": {"high": high, "low": low},
        "precipitation_chance": chance,
    }}
    return _Draft("weather", reference, [
        f"Weather for {city} on {day_text}: {conditions}, with a high of {high}°C and a low of {low}°C. "
        f"There is a {chance}% chance of precipitation.",
        f"On {day_text}, {city} can expect {conditions} weather, temperatures between {low}°C and {high}°C "
        f"and a {chance}% chance of precipitation.",
        f"{city} forecast, {day_text}: high {high}°C, low {low}°C, {conditions}, precipitation chance {chance}%.",
    ])


_BUILDERS: dict[str, Callable[[random.Random, _Numbers], _Draft]] = {
    "orders": _orders,
    "deliveries": _deliveries,
    "appointments": _appointments,
    "contacts": _contacts,
    "events": _events,
    "products": _products,
    "flights": _flights,
    "reservations": _reservations,
    "invoices": _invoices,
    "job_postings": _job_postings,
    "weather": _weather,
}
DOMAINS: tuple[str, ...] = tuple(_BUILDERS)


# ----------------------------------------------------------------------------------------------
# Key styles.

def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel_keys(value: Any) -> Any:
    """The same JSON value with every object key in camelCase (values, enum strings included, untouched)."""
    if isinstance(value, dict):
        return {_camel(key): _camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    return value


def _camel_schema(schema: Any) -> Any:
    """The schema for camelCase references: property names and `required` entries renamed, nothing else."""
    if isinstance(schema, list):
        return [_camel_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    renamed: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            renamed[key] = {_camel(name): _camel_schema(sub) for name, sub in value.items()}
        elif key == "required":
            renamed[key] = [_camel(name) for name in value]
        else:
            renamed[key] = _camel_schema(value)
    return renamed


# ----------------------------------------------------------------------------------------------
# Records.

def _pick(u: float, count: int) -> int:
    """Index in 1..count-1 from a uniform draw u in [0, 1): a non-canonical choice."""
    return 1 + int(u * (count - 1))


def _make_record(domain: str, index: int, seed: int, augmentation: Augmentation) -> dict:
    # String seeds are hashed with SHA-512 by `random`, so they are stable across processes and
    # independent of PYTHONHASHSEED.
    content_rng = random.Random(f"{seed}:{domain}:{index}:content")
    augment_rng = random.Random(f"{seed}:{domain}:{index}:augment")
    # Every decision is drawn whether or not its switch is on, so toggling one switch leaves the
    # other augmentations' choices (and the content) exactly as they were.
    paraphrase, paraphrase_pick, shuffle, shuffle_pick, words, camel, camel_pick = (
        augment_rng.random() for _ in range(7)
    )

    say = _Numbers(as_words=augmentation.numbers_as_words and words < P_NUMBERS_AS_WORDS)
    draft = _BUILDERS[domain](content_rng, say)
    use_paraphrase = augmentation.paraphrase_instruction and paraphrase < P_PARAPHRASE
    use_shuffle = augmentation.shuffle_facts and shuffle < P_SHUFFLE
    use_camel = augmentation.key_styles and camel < P_CAMEL_CASE

    structure = _pick(shuffle_pick, len(draft.structures)) if use_shuffle else 0
    instruction = INSTRUCTIONS[_pick(paraphrase_pick, len(INSTRUCTIONS)) if use_paraphrase else 0]
    prompt = instruction.format(text=_sentence_case(draft.structures[structure]))
    reference, schema, key_style = draft.reference, SCHEMAS[draft.shape], "snake_case"
    if use_camel:
        reference, schema, key_style = _camel_keys(reference), _camel_schema(schema), "camelCase"
        # The prompt must carry the key style: a model cannot guess it otherwise.
        note = CAMEL_CASE_NOTES[int(camel_pick * len(CAMEL_CASE_NOTES)) if use_paraphrase else 0]
        prompt = f"{prompt} {note}"

    # Every structure writes the same counts, so whether words were used does not depend on which one was picked.
    applied = {
        "paraphrase_instruction": use_paraphrase,
        "shuffle_facts": use_shuffle,
        "numbers_as_words": say.used_words,
        "key_styles": use_camel,
    }
    return {
        "id": f"{domain}-{index:04d}",
        "prompt": prompt,
        "reference": reference,
        "schema": copy.deepcopy(schema),
        "meta": {
            "domain": domain,
            "shape": draft.shape,
            "augmentations": [name for name, used in applied.items() if used],
            "key_style": key_style,
        },
    }


def generate_records(per_domain: int, seed: int = 0, augmentation: Augmentation = Augmentation()) -> list[dict]:
    """`per_domain` contract records for each of `DOMAINS`, in domain order, ids `<domain>-0001` up.

    The same arguments always give the same records, in any process. Record i of a domain does not
    depend on `per_domain`, so a smaller dataset is a prefix (per domain) of a larger one.
    """
    if per_domain < 0:
        raise ValueError(f"per_domain must be >= 0, got {per_domain}")
    return [
        _make_record(domain, index, seed, augmentation)
        for domain in DOMAINS
        for index in range(1, per_domain + 1)
    ]


def write_dataset(
    out_dir: str | Path,
    per_domain: int = DEFAULT_PER_DOMAIN,
    seed: int = DEFAULT_SEED,
    augmentation: Augmentation = Augmentation(),
) -> dict[str, int]:
    """Write `generate_records(...)` to `out_dir/records.jsonl` and return the record count per domain."""
    records = generate_records(per_domain, seed, augmentation)
    write_jsonl(Path(out_dir) / DATASET_FILENAME, records)
    counts = Counter(record["meta"]["domain"] for record in records)
    return {domain: counts[domain] for domain in DOMAINS}

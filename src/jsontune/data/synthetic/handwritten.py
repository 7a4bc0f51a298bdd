"""The eleven hand-written domains: each shape's schema, and a generator whose sentences read naturally.

Every generator returns a `Draft` with the snake_case reference and the fact sentence in several
structures (the first canonical, the others for `shuffle_facts`). `SYNONYMS` names other keys a schema
variant may use for the same field.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from jsontune.data.synthetic.draft import Draft
from jsontune.data.synthetic.schema_parts import BOOL, COUNT, DATE, INT, MONEY, STR, TIME, array, enum, obj, root
from jsontune.data.synthetic.text import (
    Numbers,
    a,
    cents_between,
    date_text,
    join,
    money,
    money_text,
    person,
    time_text,
)
from jsontune.data.synthetic.words import (
    AIRLINE_CODES,
    APPOINTMENT_STATUSES,
    BRANDS,
    CITIES,
    COLORS,
    COMPANIES,
    CURRENCIES,
    CURRENCY_SYMBOLS,
    DELIVERY_STATUSES,
    EMAIL_DOMAINS,
    EMPLOYMENT_TYPES,
    EVENT_TITLES,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    OCCASIONS,
    ORDER_ITEMS,
    PRIORITIES,
    PRODUCT_NAMES,
    RESTAURANTS,
    SEATINGS,
    SERVICES,
    STORES,
    VENUES,
    VISIT_REASONS,
    WEATHER_CONDITIONS,
)

SCHEMAS: dict[str, dict] = {
    "order_items": root("order", obj(
        {"customer": STR, "items": array(obj({"type": STR, "quantity": COUNT}))},
        {"gift_wrapped": BOOL},
    )),
    "order_summary": root("order", obj({
        "order_number": COUNT,
        "customer": STR,
        "items": array(obj({"type": STR, "quantity": COUNT, "unit_price": MONEY})),
        "paid": BOOL,
        "priority": enum(PRIORITIES),
    })),
    "delivery": root("delivery", obj({
        "tracking_number": STR,
        "recipient": obj({"name": STR, "city": STR}),
        "packages": COUNT,
        "status": enum(DELIVERY_STATUSES),
        "signature_required": BOOL,
    })),
    "appointment": root("appointment", obj(
        {"patient": STR, "provider": STR, "date": DATE, "start_time": TIME, "status": enum(APPOINTMENT_STATUSES)},
        {"reason": STR},
    )),
    "contact": root("contact", obj(
        {"first_name": STR, "last_name": STR, "email": STR, "phone": {"type": ["string", "null"]}},
        {"company": STR},
    )),
    "event": root("event", obj({
        "title": STR,
        "date": DATE,
        "venue": obj({"name": STR, "city": STR}),
        "expected_attendees": COUNT,
        "ticket_price": {"type": ["number", "null"], "minimum": 0},
    })),
    "product": root("product", obj(
        {"name": STR, "brand": STR, "price": MONEY, "currency": enum(CURRENCIES), "in_stock": BOOL},
        {"colors": array(STR)},
    )),
    "flight": root("flight", obj(
        {
            "passenger": STR,
            "flight_number": STR,
            "origin": STR,
            "destination": STR,
            "date": DATE,
            "checked_bags": {"type": "integer", "minimum": 0},
        },
        {"seat": STR},
    )),
    "reservation": root("reservation", obj(
        {
            "restaurant": STR,
            "guest_name": STR,
            "party_size": COUNT,
            "date": DATE,
            "time": TIME,
            "seating": enum(SEATINGS),
        },
        {"occasion": STR},
    )),
    "invoice": root("invoice", obj({
        "invoice_number": STR,
        "client": STR,
        "line_items": array(obj({"description": STR, "amount": MONEY})),
        "total": MONEY,
        "paid": BOOL,
        "due_date": DATE,
    })),
    "job_posting": root("job", obj({
        "title": STR,
        "company": STR,
        "location": STR,
        "employment_type": enum(EMPLOYMENT_TYPES),
        "remote": BOOL,
        "salary": {"anyOf": [
            obj({"min": COUNT, "max": COUNT, "currency": enum(CURRENCIES)}),
            {"type": "null"},
        ]},
    })),
    "weather": root("weather", obj({
        "city": STR,
        "date": DATE,
        "conditions": enum(WEATHER_CONDITIONS),
        "temperature_c": obj({"high": INT, "low": INT}),
        "precipitation_chance": {"type": "integer", "minimum": 0, "maximum": 100},
    })),
}


def _orders(rng: random.Random, say: Numbers) -> Draft:
    if rng.random() < 0.5:
        return _order_items(rng, say)
    return _order_summary(rng, say)


def _pick_items(rng: random.Random, most: int) -> list[tuple[str, str, int]]:
    chosen = rng.sample(ORDER_ITEMS, rng.randint(1, most))
    return [(singular, plural, rng.randint(1, 12)) for singular, plural in chosen]


def _order_items(rng: random.Random, say: Numbers) -> Draft:
    customer = rng.choice(FIRST_NAMES)
    store = rng.choice(STORES)
    items = _pick_items(rng, 3)
    gift = rng.choice((None, None, True, False))
    order: dict[str, Any] = {"customer": customer, "items": [{"type": s, "quantity": q} for s, _, q in items]}
    gift_text = ""
    if gift is not None:
        order["gift_wrapped"] = gift
        gift_text = " The order should be gift wrapped." if gift else " No gift wrapping is needed."
    listed = join([say.count(q, s, p) for s, p, q in items])
    stated = {"customer": customer, "store": store, **{k: v for k, v in order.items() if k != "customer"}}
    return Draft("order_items", {"order": order}, [
        f"{customer} ordered {listed} from the {store}.{gift_text}",
        f"From the {store}, {customer} ordered {listed}.{gift_text}",
        f"{customer} bought {listed} at the {store}.{gift_text}",
        f"The {store} received an order from {customer} for {listed}.{gift_text}",
    ], stated=stated)


def _order_summary(rng: random.Random, say: Numbers) -> Draft:
    number = rng.randint(1000, 9999)
    customer = " ".join(person(rng))
    items = [(s, p, q, cents_between(rng, 1, 40)) for s, p, q in _pick_items(rng, 2)]
    paid = rng.random() < 0.5
    priority = rng.choice(PRIORITIES)
    reference = {"order": {
        "order_number": number,
        "customer": customer,
        "items": [{"type": s, "quantity": q, "unit_price": money(c)} for s, _, q, c in items],
        "paid": paid,
        "priority": priority,
    }}
    listed = join([f"{say.count(q, s, p)} at {money_text(c)} each" for s, p, q, c in items])
    paid_sentence = "It has been paid." if paid else "It has not been paid yet."
    return Draft("order_summary", reference, [
        f"Order {number} from {customer}: {listed}. {paid_sentence} The priority is {priority}.",
        f"{customer} placed order {number} for {listed}. It is {priority} priority and "
        f"{'has been paid' if paid else 'has not been paid yet'}.",
        f"{priority} priority order {number}: {customer} wants {listed}. Paid: {'yes' if paid else 'no'}.",
    ])


def _deliveries(rng: random.Random, say: Numbers) -> Draft:
    tracking = rng.choice(("PK", "TRK", "SHP", "DX")) + str(rng.randint(10000, 99999))
    name = " ".join(person(rng))
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
    return Draft("delivery", reference, [
        f"Shipment {tracking} with {parcels} for {name} in {city} {status_verb}. {signature_sentence}",
        f"{name} in {city} is waiting for {parcels}, tracking number {tracking}. "
        f"The shipment {status_verb}. {signature_sentence}",
        f"Tracking {tracking}: {parcels}, recipient {name} ({city}), {status.replace('_', ' ')}. {signature_sentence}",
    ])


def _appointments(rng: random.Random, say: Numbers) -> Draft:
    patient = " ".join(person(rng))
    provider = "Dr. " + rng.choice(LAST_NAMES)
    day, day_text = date_text(rng)
    start, start_text = time_text(rng, 8, 17)
    status = rng.choice(APPOINTMENT_STATUSES)
    reason = rng.choice(VISIT_REASONS) if rng.random() < 0.6 else None
    appointment = {"patient": patient, "provider": provider, "date": day, "start_time": start, "status": status}
    for_reason = ""
    if reason is not None:
        appointment["reason"] = reason
        for_reason = f" for {a(reason)}"
    status_sentence = {
        "confirmed": "The appointment is confirmed.",
        "pending": "The appointment is still pending.",
        "cancelled": "The appointment has been cancelled.",
    }[status]
    return Draft("appointment", {"appointment": appointment}, [
        f"{patient} has an appointment with {provider} on {day_text} at {start_text}{for_reason}. {status_sentence}",
        f"On {day_text} at {start_text}, {patient} sees {provider}{for_reason}. {status_sentence}",
        f"Appointment for {patient} with {provider}{for_reason}: {day_text}, {start_text}, {status}.",
    ])


def _contacts(rng: random.Random, say: Numbers) -> Draft:
    first, last = person(rng)
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}")).lower()
    email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    phone = f"{rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}" if rng.random() < 0.65 else None
    company = rng.choice(COMPANIES) if rng.random() < 0.5 else None
    contact: dict[str, Any] = {"first_name": first, "last_name": last, "email": email, "phone": phone}
    if company is not None:
        contact["company"] = company
    works_at = f", works at {company}" if company else ""
    from_company = f" from {company}" if company else ""
    return Draft("contact", {"contact": contact}, [
        f"Add {first} {last} to my contacts: email {email}, "
        f"{f'phone {phone}' if phone else 'no phone number given'}{works_at}.",
        f"New contact: {first} {last}{from_company}. Email {email}. Phone: {phone or 'unknown'}.",
        f"{first} {last}{from_company} has the email address {email}; "
        f"the phone number is {phone or 'unknown'}.",
    ])


def _events(rng: random.Random, say: Numbers) -> Draft:
    title = rng.choice(EVENT_TITLES)
    day, day_text = date_text(rng)
    venue, city = rng.choice(VENUES), rng.choice(CITIES)
    attendees = rng.randint(2, 9) * 10 if rng.random() < 0.4 else rng.randint(10, 150) * 10
    price_draw = rng.random()
    cents = cents_between(rng, 5, 60)
    price: int | float | None
    if price_draw < 0.2:
        price, clause, short = 0, "entry is free", "free"
    elif price_draw < 0.45:
        price, clause, short = None, "the ticket price has not been announced", "not announced yet"
    else:
        price, clause, short = money(cents), f"tickets cost {money_text(cents)}", money_text(cents)
    reference = {"event": {
        "title": title,
        "date": day,
        "venue": {"name": venue, "city": city},
        "expected_attendees": attendees,
        "ticket_price": price,
    }}
    return Draft("event", reference, [
        f"The {title} takes place at {venue} in {city} on {day_text}. "
        f"About {say(attendees)} people are expected and {clause}.",
        f"On {day_text}, {venue} in {city} hosts the {title}, with {say(attendees)} expected guests; {clause}.",
        f"Event: {title}. Venue: {venue}, {city}. Date: {day_text}. "
        f"Expected attendance: {say(attendees)}. Tickets: {short}.",
    ])


def _products(rng: random.Random, say: Numbers) -> Draft:
    name, brand = rng.choice(PRODUCT_NAMES), rng.choice(BRANDS)
    currency = rng.choice(CURRENCIES)
    cents = cents_between(rng, 4, 250)
    in_stock = rng.random() < 0.6
    colors = rng.sample(COLORS, rng.randint(1, 3)) if rng.random() < 0.5 else None
    product: dict[str, Any] = {
        "name": name, "brand": brand, "price": money(cents), "currency": currency, "in_stock": in_stock,
    }
    price_text = money_text(cents, currency)
    stock = "in stock" if in_stock else "out of stock"
    available, listed_colors = "", ""
    if colors is not None:
        product["colors"] = colors
        available = f" It comes in {join(colors)}."
        listed_colors = f" Colors: {join(colors)}."
    return Draft("product", {"product": product}, [
        f"The {brand} {name} costs {price_text} and is {stock}.{available}",
        f"{brand} {name}, {price_text}, {stock}.{listed_colors}",
        f"Product listing: the {name} by {brand} is priced at {price_text} and is currently {stock}.{available}",
    ])


def _flights(rng: random.Random, say: Numbers) -> Draft:
    passenger = " ".join(person(rng))
    number = rng.choice(AIRLINE_CODES) + str(rng.randint(10, 2999))
    origin, destination = rng.sample(CITIES, 2)
    day, day_text = date_text(rng)
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
    return Draft("flight", {"flight": flight}, [
        f"{passenger} is flying from {origin} to {destination} on flight {number} on {day_text} "
        f"with {bag_text}{in_seat}.",
        f"Flight {number} on {day_text} from {origin} to {destination}: passenger {passenger}, {bag_text}{in_seat}.",
        f"On {day_text}, {passenger} takes flight {number} from {origin} to {destination}{in_seat}. "
        f"{passenger} has {bag_text}.",
    ])


def _reservations(rng: random.Random, say: Numbers) -> Draft:
    restaurant = rng.choice(RESTAURANTS)
    guest = " ".join(person(rng))
    party = rng.randint(1, 12)
    day, day_text = date_text(rng)
    at, at_text = time_text(rng, 11, 22)
    seating = rng.choice(SEATINGS)
    occasion = rng.choice(OCCASIONS) if rng.random() < 0.4 else None
    reservation: dict[str, Any] = {
        "restaurant": restaurant, "guest_name": guest, "party_size": party, "date": day, "time": at,
        "seating": seating,
    }
    for_occasion, occasion_sentence = "", ""
    if occasion is not None:
        reservation["occasion"] = occasion
        for_occasion = f" for {a(occasion)}"
        occasion_sentence = f" Occasion: {occasion}."
    people = say.count(party, "person", "people")
    seating_phrase = {"indoor": "indoor seating", "outdoor": "outdoor seating", "bar": "seats at the bar"}[seating]
    table = {"indoor": "an indoor table", "outdoor": "an outdoor table", "bar": "seats at the bar"}[seating]
    return Draft("reservation", {"reservation": reservation}, [
        f"Reserve a table at {restaurant} for {people} on {day_text} at {at_text} under the name {guest}, "
        f"{seating_phrase}{for_occasion}.",
        f"{guest} booked {table} at {restaurant} for {people} on {day_text} at {at_text}{for_occasion}.",
        f"Table for {people} at {restaurant}, {day_text}, {at_text}. Name: {guest}. "
        f"Seating: {seating}.{occasion_sentence}",
    ])


def _invoices(rng: random.Random, say: Numbers) -> Draft:
    number = f"INV-{rng.randint(1000, 9999)}"
    client = rng.choice(COMPANIES)
    # At most two lines keeps the reference under ~250 characters.
    lines = [(service, cents_between(rng, 20, 2500)) for service in rng.sample(SERVICES, rng.randint(1, 2))]
    total = sum(cents for _, cents in lines)
    paid = rng.random() < 0.5
    due, due_text = date_text(rng)
    reference = {"invoice": {
        "invoice_number": number,
        "client": client,
        "line_items": [{"description": service, "amount": money(cents)} for service, cents in lines],
        "total": money(total),
        "paid": paid,
        "due_date": due,
    }}
    # The total is stated, not left for the model to add up: every value must be readable from the text.
    listed = join([f"{service} {money_text(cents)}" for service, cents in lines])
    bracketed = join([f"{service} ({money_text(cents)})" for service, cents in lines])
    paid_sentence = "It has been paid." if paid else "It has not been paid yet."
    return Draft("invoice", reference, [
        f"Invoice {number} for {client}: {listed}. Total {money_text(total)}, due {due_text}. {paid_sentence}",
        f"{client} was billed {money_text(total)} on invoice {number} for {bracketed}, "
        f"due by {due_text}. {paid_sentence}",
        f"Invoice {number}. Client: {client}. Items: {listed}. Total: {money_text(total)}. Due: {due_text}. "
        f"Status: {'paid' if paid else 'unpaid'}.",
    ])


def _job_postings(rng: random.Random, say: Numbers) -> Draft:
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
    return Draft("job_posting", reference, [
        f"{company} is hiring {a(title)} in {city}. The position is {kind_phrase} and "
        f"{'remote work is allowed' if remote else 'it is on-site only'}. The salary is {pay}.",
        f"Job opening: {title} at {company} in {city}. Type: {kind_word}. Remote: {'yes' if remote else 'no'}. "
        f"Salary: {pay}.",
        f"Wanted: {a(title)} for {company} ({city}), {kind_word}, {'remote' if remote else 'on-site'}. "
        f"Pay is {pay}.",
    ])


def _weather(rng: random.Random, say: Numbers) -> Draft:
    city = rng.choice(CITIES)
    day, day_text = date_text(rng)
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
    return Draft("weather", reference, [
        f"Weather for {city} on {day_text}: {conditions}, with a high of {high}°C and a low of {low}°C. "
        f"There is a {chance}% chance of precipitation.",
        f"On {day_text}, {city} can expect {conditions} weather, temperatures between {low}°C and {high}°C "
        f"and a {chance}% chance of precipitation.",
        f"{city} forecast, {day_text}: high {high}°C, low {low}°C, {conditions}, precipitation chance {chance}%.",
    ])


# Other names the same fields go by, for the schema variants that rename keys.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer": ("client", "buyer", "customer_name"),
    "items": ("products", "line_items", "articles"),
    "type": ("item", "product", "name"),
    "quantity": ("qty", "count", "amount"),
    "gift_wrapped": ("gift_wrap", "is_gift"),
    "order_number": ("order_id", "order_no"),
    "unit_price": ("price", "price_each"),
    "paid": ("is_paid", "payment_received"),
    "priority": ("urgency", "priority_level"),
    "tracking_number": ("tracking_id", "tracking_code"),
    "recipient": ("addressee", "receiver"),
    "packages": ("parcels", "package_count"),
    "status": ("state", "current_status"),
    "signature_required": ("needs_signature", "signature"),
    "patient": ("patient_name", "client"),
    "provider": ("doctor", "clinician"),
    "start_time": ("time", "starts_at"),
    "reason": ("purpose", "visit_reason"),
    "first_name": ("given_name", "forename"),
    "last_name": ("family_name", "surname"),
    "email": ("email_address", "mail"),
    "phone": ("phone_number", "telephone"),
    "company": ("organization", "employer"),
    "title": ("name", "event_name"),
    "date": ("day", "on"),
    "venue": ("location", "place"),
    "expected_attendees": ("attendance", "guest_count"),
    "ticket_price": ("price", "entry_fee"),
    "brand": ("maker", "manufacturer"),
    "price": ("cost", "list_price"),
    "in_stock": ("available", "is_available"),
    "colors": ("colours", "color_options"),
    "passenger": ("traveler", "passenger_name"),
    "flight_number": ("flight", "flight_no"),
    "origin": ("from", "departure_city"),
    "destination": ("to", "arrival_city"),
    "checked_bags": ("bags", "luggage_count"),
    "seat": ("seat_number", "seat_assignment"),
    "restaurant": ("venue", "place"),
    "guest_name": ("name", "booked_by"),
    "party_size": ("guests", "people"),
    "seating": ("seating_area", "table_area"),
    "occasion": ("event", "celebration"),
    "invoice_number": ("invoice_id", "number"),
    "client": ("customer", "billed_to"),
    "line_items": ("items", "lines"),
    "description": ("service", "item"),
    "amount": ("price", "cost"),
    "total": ("total_amount", "amount_due"),
    "due_date": ("due", "payment_due"),
    "location": ("city", "place"),
    "employment_type": ("contract_type", "job_type"),
    "remote": ("remote_ok", "is_remote"),
    "salary": ("pay", "salary_range"),
    "city": ("town", "location"),
    "conditions": ("sky", "forecast"),
    "temperature_c": ("temperature", "temps_celsius"),
    "high": ("max", "maximum"),
    "low": ("min", "minimum"),
    "precipitation_chance": ("rain_chance", "chance_of_rain"),
}

_BUILDERS: dict[str, Callable[[random.Random, Numbers], Draft]] = {
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


def draft(domain: str, rng: random.Random, say: Numbers) -> Draft:
    """One example of a hand-written domain, with its shape's schema and the synonyms of its keys."""
    made = _BUILDERS[domain](rng, say)
    made.schema = SCHEMAS[made.shape]
    made.synonyms = SYNONYMS
    return made

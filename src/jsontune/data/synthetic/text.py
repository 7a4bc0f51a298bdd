"""How the synthetic sentences write values: numbers as digits or words, dates, times, money, English lists."""

from __future__ import annotations

import random
import re
from datetime import date

from jsontune.data.synthetic.words import CURRENCY_SYMBOLS, FIRST_NAMES, LAST_NAMES, MONTHS, ONES, TENS


class Numbers:
    """Writes counts as digits or, for a record drawn for `numbers_as_words`, as words; remembers the words.

    A generator may draw a number that its sentence then leaves out (an optional field it drops), so
    whether a text uses words is `used_in(text)`, not whether a word was ever written.
    """

    def __init__(self, as_words: bool):
        self.as_words = as_words
        self.words: list[str] = []

    def __call__(self, n: int) -> str:
        if self.as_words and 0 < n < 100:
            self.words.append(_number_word(n))
            return self.words[-1]
        return str(n)

    def used_in(self, text: str) -> bool:
        return any(re.search(rf"\b{re.escape(word)}\b", text) for word in self.words)

    def count(self, n: int, singular: str, plural: str) -> str:
        """`n` with the noun form that agrees with it: "1 pen", "five notebooks"."""
        return f"{self(n)} {singular if n == 1 else plural}"


def _number_word(n: int) -> str:
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (f"-{ONES[ones]}" if ones else "")


def join(parts: list[str]) -> str:
    """English list: "a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def sentence_case(text: str) -> str:
    # Templates may start a sentence with a lower-case value ("five notebooks were ..."); capitalise it.
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def date_text(rng: random.Random) -> tuple[str, str]:
    """A date as (ISO value for the reference, the way the text writes it)."""
    day = date(rng.randint(2024, 2026), rng.randint(1, 12), rng.randint(1, 28))
    month = MONTHS[day.month - 1]
    text = rng.choice((f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}", day.isoformat()))
    return day.isoformat(), text


def time_text(rng: random.Random, first_hour: int, last_hour: int) -> tuple[str, str]:
    """A time of day as ("HH:MM", the way the text writes it: "2:30 pm", "2 pm" or "14:30")."""
    hour, minute = rng.randint(first_hour, last_hour), rng.choice((0, 15, 30, 45))
    value = f"{hour:02d}:{minute:02d}"
    if rng.random() < 0.3:
        return value, value
    twelve = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return value, f"{twelve}:{minute:02d} {suffix}" if minute else f"{twelve} {suffix}"


def cents_between(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 100 + rng.choice((0, 0, 25, 49, 50, 75, 99))


def money(cents: int) -> int | float:
    # Whole amounts stay integers so the target reads 1200, not 1200.0; division by 100 gives the
    # shortest exact decimal (89.5), never a binary-rounding artefact.
    return cents // 100 if cents % 100 == 0 else cents / 100


def money_text(cents: int, currency: str = "USD") -> str:
    return f"{CURRENCY_SYMBOLS[currency]}{cents / 100:,.2f}"


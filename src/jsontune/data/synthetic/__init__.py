"""Embedded synthetic dataset: everyday sentences paired with the JSON they describe, under many schemas.

Each domain (orders, hotel bookings, smart-home commands, ...) has several *shapes*; a shape is a JSON
Schema (Draft 2020-12) plus a generator that draws values from small built-in word lists and writes
them into a sentence. Eleven domains are hand-written (handwritten.py); the others are written as data
(declarative.py: a pool of fields, the shapes built from it). A shape is asked for as extraction
("Convert the following text into JSON"), as a function call's arguments, or as a form to fill in.

Every value in a reference can be read off its prompt, and the key names and the form of the answer
can be read off the schema: the same sentence comes in schema variants (keys renamed, a field left out,
nesting changed, enum values restyled; variants.py), so a model trained on it has to read the schema it
is given. Rules the text itself carries:

- a field the text does not mention is absent (optional fields);
- a field the text says is unknown, not given or not announced is an explicit ``null``;
- numbers written as words ("five notebooks") are still integers in the reference;
- a date is ISO when its schema says ``format: date``, and the text as written when the schema leaves it a
  plain string.
"""

from jsontune.data.synthetic.records import (
    DATASET_FILENAME,
    DEFAULT_PER_DOMAIN,
    DEFAULT_SEED,
    DOMAINS,
    INSTRUCTIONS,
    Augmentation,
    generate_records,
    write_dataset,
)
from jsontune.data.synthetic.words import ORDER_ITEMS

__all__ = [
    "DATASET_FILENAME", "DEFAULT_PER_DOMAIN", "DEFAULT_SEED", "DOMAINS", "INSTRUCTIONS", "ORDER_ITEMS",
    "Augmentation", "generate_records", "write_dataset",
]

"""Slot-value substitution: more slot-filling examples from the same few queries.

A variant of a query keeps its words and swaps each slot value for another value of the same intent
and slot, drawn from the given records only (so a training sample of N queries per intent stays N
queries' worth of information, in new combinations): "add clem burke to my Jazz playlist" becomes
"add Adele to my Sleep Sounds playlist" with the reference changed to match. A model then learns
where a slot sits in a query rather than which values it has seen. NLU engines of the SNIPS benchmark
augment their training data in the same spirit.

A query is varied only when each of its slot values occurs exactly once in it as whole words and the
values do not overlap; the others are kept as they are, unvaried.
"""

from __future__ import annotations

import random
import re


def _locate(text: str, slots: dict) -> list[tuple[int, int, str]] | None:
    """(start, end, slot) of every slot value in text, in order; None when that is not unambiguous."""
    found = []
    for slot, value in slots.items():
        if not isinstance(value, str):
            return None  # a slot given twice: leave the query as it is
        matches = list(re.finditer(r"(?<!\w)" + re.escape(value) + r"(?!\w)", text))
        if len(matches) != 1:
            return None
        found.append((matches[0].start(), matches[0].end(), slot))
    found.sort()
    if any(end > start for (_, end, _), (start, _, _) in zip(found, found[1:])):
        return None
    return found


def augment_slots(records: list[dict], copies: int, seed: int) -> list[dict]:
    """The records, then up to `copies` variants of each (in record order), with new ids `<id>~aug<k>`.

    Each record needs `reference` {"intent", "slots"}, a `prompt` that holds its query verbatim and the
    query in `meta.text`. The same records, copies and seed give the same variants.
    """
    if copies < 0:
        raise ValueError(f"copies must be 0 or more, not {copies}")
    values: dict[tuple[str, str], set[str]] = {}
    for record in records:
        for slot, value in record["reference"]["slots"].items():
            for item in value if isinstance(value, list) else [value]:
                values.setdefault((record["reference"]["intent"], slot), set()).add(item)
    choices = {key: sorted(found) for key, found in values.items()}
    rng = random.Random(seed)
    variants: list[dict] = []
    for record in records:
        text = record["meta"]["text"]
        intent = record["reference"]["intent"]
        located = _locate(text, record["reference"]["slots"])
        if not located or text not in record["prompt"]:
            continue
        for k in range(1, copies + 1):
            pieces, slots, position = [], {}, 0
            for start, end, slot in located:
                value = rng.choice(choices[(intent, slot)])
                pieces += [text[position:start], value]
                slots[slot] = value
                position = end
            new_text = "".join(pieces) + text[position:]
            variants.append({
                **record,
                "id": f"{record['id']}~aug{k}",
                "prompt": record["prompt"].replace(text, new_text, 1),
                "reference": {"intent": intent, "slots": slots},
                "meta": {**record["meta"], "text": new_text, "augmented_from": record["id"]},
            })
    return records + variants

"""Records: a domain's draft, framed by an instruction, varied in its schema and key style, as a contract row.

Generation is deterministic: every record has its own ``random.Random`` streams seeded from
``(seed, domain, index)``: one for content, one for augmentation choices and one for the schema
variant, so switching an augmentation off changes only what that augmentation touches.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

from jsontune.data.contract import write_jsonl
from jsontune.data.synthetic import everyday_domains, handwritten, work_domains
from jsontune.data.synthetic.declarative import Domain
from jsontune.data.synthetic.declarative import draft as declared_draft
from jsontune.data.synthetic.draft import Draft
from jsontune.data.synthetic.schema_words import describe
from jsontune.data.synthetic.text import Numbers, sentence_case
from jsontune.data.synthetic.variants import collides, rename, vary

DEFAULT_PER_DOMAIN = 60
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
# A function call names the function and what it does; the schema is its parameters.
FUNCTION_INSTRUCTIONS: tuple[str, ...] = (
    "Request: '{text}'\nGive the arguments of the function call {function} ({description}) as JSON.",
    "{text}\n\nCall {function} ({description}) for this request: write its arguments as a JSON object.",
    "Turn this request into the arguments of {function}, which {description_lower}: {text}",
)
# A schema-free record names its keys in the prompt about half the time (the original experiment's "with keys like
# ..."); otherwise its answer's keys are the domain's own, which the model learns as the natural ones.
KEYS_NOTES: tuple[str, ...] = (
    "Use keys like {keys}.",
    "Use the keys {keys}.",
    "The JSON should have keys like {keys}.",
)
FORM_INSTRUCTIONS: tuple[str, ...] = (
    "Fill in the form from this text: '{text}'",
    "Text: {text}\nComplete the fields of the form as JSON.",
    "Use this text to fill in the form, as JSON: {text}",
)

# Key styles other than snake_case, each announced in the prompt (a model without the schema cannot guess it).
STYLE_NOTES: dict[str, tuple[str, ...]] = {
    "camelCase": ("Use camelCase keys.", "Write all keys in camelCase.", "The keys must be camelCase."),
    "PascalCase": ("Use PascalCase keys.", "Write all keys in PascalCase.", "The keys must be PascalCase."),
    "labels": ("Use the form's field labels as keys.", "The keys are the form's labels.",
               "Key each value by the form's label for it."),
}

# How often each augmentation is drawn for a record when its switch is on.
P_PARAPHRASE = 0.5
P_SHUFFLE = 0.5
P_NUMBERS_AS_WORDS = 0.35
P_CAMEL_CASE = 0.2
P_PASCAL_CASE = 0.08
P_LABELS = 0.6  # of form records
P_SCHEMA_VARIANT = 0.6
P_SCHEMA_WORDS = 0.85
# How often a schema offers optional keys the text never states (1 to 3 of its domain's other fields), by task:
# real function parameters and forms have many optional ones, most not given by any one request.
P_UNSTATED = {"function_call": 0.9, "form": 0.7, "extraction": 0.4}
MOST_UNSTATED = 3
# of extraction records: 0.3 rather than 0.12 took schema-free answers on the hand-written dev set from fact F1
# 0.224 to 0.353 (15 rows; measured together with the addresses and messages that keep their commas) with the
# schema rows unchanged (field F1 +0.001, paired p 0.95): README "Prompt rendering"
P_SCHEMA_FREE = 0.3
P_KEYS_NAMED = 0.5  # of schema-free records


@dataclass(frozen=True)
class Augmentation:
    """Which kinds of variation `generate_records` may apply; each record draws its own subset."""

    paraphrase_instruction: bool = True
    shuffle_facts: bool = True
    numbers_as_words: bool = True
    key_styles: bool = True
    schema_variants: bool = True
    schema_words: bool = True
    schema_free: bool = True

    @classmethod
    def none(cls) -> Augmentation:
        """No variation: the original instruction, canonical sentences, digits, snake_case keys, canonical schemas."""
        return cls(**{f.name: False for f in fields(cls)})


_DECLARED: dict[str, Domain] = {d.name: d for d in everyday_domains.DOMAINS + work_domains.DOMAINS}
DOMAINS: tuple[str, ...] = handwritten.DOMAINS + tuple(_DECLARED)
if len(set(DOMAINS)) != len(DOMAINS):
    raise RuntimeError(f"two domains share a name: {sorted(d for d, n in Counter(DOMAINS).items() if n > 1)}")


def _draft(domain: str, rng: random.Random, say: Numbers) -> Draft:
    if domain in _DECLARED:
        return declared_draft(_DECLARED[domain], rng, say)
    return handwritten.draft(domain, rng, say)


def _pick(u: float, count: int) -> int:
    """Index in 1..count-1 from a uniform draw u in [0, 1): a non-canonical choice."""
    return 1 + int(u * (count - 1))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _pascal(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


_STYLES = {"camelCase": _camel, "PascalCase": _pascal}


def _styler(style: str, draft: Draft):
    """How `style` writes a key; a form's labels are the ones its text uses (the key in words by default)."""
    if style == "labels":
        return lambda key: draft.labels.get(key) or key.replace("_", " ").capitalize()
    return _STYLES[style]


def _key_style(draft: Draft, u: float) -> str:
    if draft.task == "form":
        return "labels" if u < P_LABELS else "snake_case"
    if u < P_CAMEL_CASE:
        return "camelCase"
    return "PascalCase" if u < P_CAMEL_CASE + P_PASCAL_CASE else "snake_case"


def _instruction(draft: Draft, u: float, paraphrased: bool) -> str:
    if draft.task == "function_call":
        options = FUNCTION_INSTRUCTIONS
    elif draft.task == "form":
        options = FORM_INSTRUCTIONS
    else:
        options = INSTRUCTIONS
    # Function calls and forms have no original wording to keep: their first wording is their canonical one.
    return options[_pick(u, len(options)) if paraphrased else 0]


def _make_record(domain: str, index: int, seed: int, augmentation: Augmentation) -> dict:
    # String seeds are hashed with SHA-512 by `random`, so they are stable across processes and
    # independent of PYTHONHASHSEED.
    content_rng = random.Random(f"{seed}:{domain}:{index}:content")
    augment_rng = random.Random(f"{seed}:{domain}:{index}:augment")
    variant_rng = random.Random(f"{seed}:{domain}:{index}:variant")
    words_rng = random.Random(f"{seed}:{domain}:{index}:words")
    # Every decision is drawn whether or not its switch is on, so toggling one switch leaves the
    # other augmentations' choices (and the content) exactly as they were.
    paraphrase, paraphrase_pick, shuffle, shuffle_pick, words, style_draw, note_pick, variant = (
        augment_rng.random() for _ in range(8)
    )

    words_draw, free_draw, keys_draw, keys_pick = (words_rng.random() for _ in range(4))

    say = Numbers(as_words=augmentation.numbers_as_words and words < P_NUMBERS_AS_WORDS)
    draft = _draft(domain, content_rng, say)
    # Only a draft that says what its text states can lose its schema: nothing would tell the model which
    # stated fact to leave out, or how to spell an enum's code.
    if augmentation.schema_free and draft.stated is not None and draft.task == "extraction" and free_draw < P_SCHEMA_FREE:
        return _schema_free_record(domain, index, draft, say, augment_rng_draws=(paraphrase, paraphrase_pick,
                                   shuffle, shuffle_pick), augmentation=augmentation,
                                   keys_named=keys_draw < P_KEYS_NAMED, keys_pick=keys_pick)
    use_paraphrase = augmentation.paraphrase_instruction and paraphrase < P_PARAPHRASE
    use_shuffle = augmentation.shuffle_facts and shuffle < P_SHUFFLE
    key_style = _key_style(draft, style_draw) if augmentation.key_styles else "snake_case"

    structure = _pick(shuffle_pick, len(draft.structures)) if use_shuffle else 0
    text = sentence_case(draft.structures[structure])
    description = draft.description or ""
    prompt = _instruction(draft, paraphrase_pick, use_paraphrase).format(
        text=text, function=draft.function, description=description,
        description_lower=description[:1].lower() + description[1:])
    schema, reference, variants = draft.schema, draft.reference, []
    if augmentation.schema_variants and variant < P_SCHEMA_VARIANT:
        schema, reference, variants = vary(schema, reference, draft.synonyms, variant_rng)
    words: list[str] = []
    if augmentation.schema_words:
        offered = offer_unstated(schema, draft, words_rng)
        words = ["unstated_optional"] if offered is not schema else []
        schema = offered
        if words_draw < P_SCHEMA_WORDS:
            schema, reference, described = describe(schema, reference, words_rng)
            words = sorted({*words, *described})
    if key_style != "snake_case" and collides(schema, _styler(key_style, draft)):
        key_style = "snake_case"  # two keys would get one label
    if key_style != "snake_case":
        schema, reference = rename(schema, reference, _styler(key_style, draft))
        notes = STYLE_NOTES[key_style]
        prompt = f"{prompt} {notes[int(note_pick * len(notes)) if use_paraphrase else 0]}"

    # Every structure writes the same counts, so whether words were used does not depend on which one was picked.
    applied = {
        "paraphrase_instruction": use_paraphrase,
        "shuffle_facts": use_shuffle,
        "numbers_as_words": say.used_in(text),
        "key_styles": key_style != "snake_case",
        "schema_variants": bool(variants),
        "schema_words": bool(words),
    }
    meta = {
        "domain": domain,
        "shape": draft.shape,
        "task": draft.task,
        "augmentations": [name for name, used in applied.items() if used],
        "key_style": key_style,
        "schema_variants": variants,
        "schema_words": words,
    }
    return {"id": f"{domain}-{index:04d}", "prompt": prompt, "reference": copy.deepcopy(reference),
            "schema": copy.deepcopy(schema), "meta": meta}


def offer_unstated(schema: dict, draft: Draft, rng: random.Random) -> dict:
    """`schema` with, for a share of records by task, 1 to MOST_UNSTATED of the domain's fields the text never
    states added as optional keys of the entity (inside its wrapper); the input is not changed, and comes back
    as it is (the same object) when nothing was added."""
    spare = sorted(draft.unstated)
    if not spare or rng.random() >= P_UNSTATED.get(draft.task, 0.0):
        return schema
    original, schema = schema, copy.deepcopy(schema)
    entity = schema
    if len(schema.get("properties", {})) == 1:
        (only,) = schema["properties"].values()
        entity = only if isinstance(only.get("properties"), dict) else schema
    chosen = [key for key in rng.sample(spare, min(len(spare), rng.randint(1, MOST_UNSTATED)))
              if key not in entity["properties"]]
    if not chosen:
        return original
    for key in chosen:
        entity["properties"][key] = copy.deepcopy(draft.unstated[key])
    return schema


def _schema_free_record(domain: str, index: int, draft: Draft, say: Numbers, augment_rng_draws: tuple[float, ...],
                        augmentation: Augmentation, keys_named: bool, keys_pick: float) -> dict:
    """A record with no schema: the answer is the draft's own (unwrapped, snake_case) object, its keys named
    in the prompt when `keys_named`, else left to the domain's conventions."""
    paraphrase, paraphrase_pick, shuffle, shuffle_pick = augment_rng_draws
    use_paraphrase = augmentation.paraphrase_instruction and paraphrase < P_PARAPHRASE
    use_shuffle = augmentation.shuffle_facts and shuffle < P_SHUFFLE
    text = sentence_case(draft.structures[_pick(shuffle_pick, len(draft.structures)) if use_shuffle else 0])
    prompt = _instruction(draft, paraphrase_pick, use_paraphrase).format(text=text)
    reference = draft.stated or draft.reference
    if len(reference) == 1 and isinstance(next(iter(reference.values())), dict):
        reference = next(iter(reference.values()))  # {"order": {...}} is {...} when no schema asks for the wrapper
    if keys_named:
        keys = [f"'{key}'" for key in reference]
        named = ", ".join(keys[:-1]) + f" and {keys[-1]}" if len(keys) > 1 else keys[0]
        prompt = f"{prompt} {KEYS_NOTES[int(keys_pick * len(KEYS_NOTES))].format(keys=named)}"
    applied = {"paraphrase_instruction": use_paraphrase, "shuffle_facts": use_shuffle,
               "numbers_as_words": say.used_in(text), "schema_free": True}
    meta = {"domain": domain, "shape": draft.shape, "task": "schema_free",
            "augmentations": [name for name, used in applied.items() if used], "key_style": "snake_case",
            "schema_variants": [], "schema_words": [], "keys_named": keys_named}
    return {"id": f"{domain}-{index:04d}", "prompt": prompt, "reference": copy.deepcopy(reference), "meta": meta}


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

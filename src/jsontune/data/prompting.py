"""How a record becomes model input, and what the model learns to answer.

A model with a chat template gets chat messages (a system turn only when the recipe sets one); a
model without one (OPT) gets the plain format below. The training target is the compact JSON of the
reference followed by the end-of-turn token (the tokenizer's EOS), and the loss covers only that.
The settings used in training are saved beside the model, so evaluation and generation prompt a
trained model exactly the way it was trained.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from jsontune.data.schema_rendering import INTRODUCTIONS, SCHEMA_FORMATS, SchemaFormat, render_schema
from jsontune.files import write_json
from jsontune.run_dir import PROMPT_CONFIG_FILE

# The plain-text format for models without a chat template. The answer starts after "JSON:\n".
PLAIN_SYSTEM = "{system}\n\n"
PLAIN_USER = "### Request:\n{prompt}\n\n### JSON:\n"
SCHEMA_SUFFIX = "\n\n{introduction}\n{schema}"
# A record's schema is shown in its prompt unless a recipe says otherwise, as a typed template: on the dev split
# of recipes/schema/formats-dev.yaml (`jsontune bench-schema-formats`, README "Prompt rendering") it gave the
# best field F1 on held-out domains for half the prompt tokens and training time of the JSON Schema itself.
DEFAULT_SCHEMA_IN_PROMPT = True
DEFAULT_SCHEMA_FORMAT = "template"


@dataclass(frozen=True)
class PromptConfig:
    """How a record is rendered: the format, a system prompt, and whether (and how, `schema_format`, see
    `jsontune.data.schema_rendering`) the record's schema is written after its prompt."""

    format: Literal["chat", "plain"]
    system_prompt: str | None = None
    # The defaults say what a settings file saved before these keys existed meant (new ones always write them).
    schema_in_prompt: bool = False
    schema_format: SchemaFormat = "json_schema"

    def save(self, directory: str | Path) -> Path:
        return write_json(Path(directory) / PROMPT_CONFIG_FILE, asdict(self))

    @classmethod
    def load(cls, directory: str | Path) -> PromptConfig | None:
        """The prompt settings saved with a trained model, or None for a model jsontune did not train."""
        path = Path(directory) / PROMPT_CONFIG_FILE
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text()))


def choose_prompt_config(tokenizer, prompt_format: str = "auto", system_prompt: str | None = None,
                         schema_in_prompt: bool = DEFAULT_SCHEMA_IN_PROMPT,
                         schema_format: str = DEFAULT_SCHEMA_FORMAT) -> PromptConfig:
    """Resolve 'auto' to 'chat' when the tokenizer has a chat template, else 'plain'."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if prompt_format == "auto":
        prompt_format = "chat" if has_template else "plain"
    if prompt_format == "chat" and not has_template:
        raise ValueError("prompt_format 'chat' needs a tokenizer with a chat template; use 'plain' or 'auto'")
    if schema_format not in SCHEMA_FORMATS:
        raise ValueError(f"schema_format must be one of {', '.join(SCHEMA_FORMATS)}, not {schema_format!r}")
    return PromptConfig(format=prompt_format, system_prompt=system_prompt, schema_in_prompt=schema_in_prompt,
                        schema_format=schema_format)


def compact_json(value: Any) -> str:
    """The training target's serialisation: compact separators, keys in the reference's order, UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def user_text(record: dict, config: PromptConfig) -> str:
    text = record["prompt"]
    if config.schema_in_prompt and record.get("schema"):
        text += SCHEMA_SUFFIX.format(introduction=INTRODUCTIONS[config.schema_format],
                                     schema=render_schema(record["schema"], config.schema_format))
    return text


def chat_messages(record: dict, config: PromptConfig) -> list[dict[str, str]]:
    """A record as chat messages: its system prompt, if any (a record's own `system`, a conversational row's
    system message, stands in for the recipe's), then its user message."""
    system_prompt = record.get("system") or config.system_prompt
    user = {"role": "user", "content": user_text(record, config)}
    return [{"role": "system", "content": system_prompt}, user] if system_prompt else [user]


def render_prompt(tokenizer, record: dict, config: PromptConfig) -> str:
    """The full prompt text, ending where the model's answer begins (`chat_messages`, in the model's format)."""
    messages = chat_messages(record, config)
    if config.format == "plain":
        system = PLAIN_SYSTEM.format(system=messages[0]["content"]) if len(messages) > 1 else ""
        return system + PLAIN_USER.format(prompt=messages[-1]["content"])
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def prompt_ids(tokenizer, record: dict, config: PromptConfig) -> list[int]:
    # A chat template writes its own special tokens; the plain format gets the tokenizer's (e.g. OPT's BOS).
    return tokenizer(render_prompt(tokenizer, record, config), add_special_tokens=config.format == "plain")["input_ids"]


def end_of_turn_id(tokenizer) -> int:
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token: jsontune needs one to end each answer")
    return tokenizer.eos_token_id


def tokenize_example(tokenizer, record: dict, config: PromptConfig) -> dict[str, list[int]]:
    """input_ids of prompt + answer + end-of-turn, and the mask of the tokens that carry the loss."""
    prompt = prompt_ids(tokenizer, record, config)
    answer = tokenizer(compact_json(record["reference"]), add_special_tokens=False)["input_ids"]
    answer.append(end_of_turn_id(tokenizer))
    return {"input_ids": prompt + answer, "completion_mask": [0] * len(prompt) + [1] * len(answer)}

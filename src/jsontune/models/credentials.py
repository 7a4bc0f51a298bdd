"""Credentials stay out of everything jsontune writes or says: recipes, run folders, logs and messages.

A Hub token comes from the environment (HF_TOKEN) or `hf auth login`, where huggingface_hub reads it, and
is handed to HfApi and nowhere else. A recipe is saved with its run (recipe.yaml, and training_args.bin,
a pickle of every training argument), so a token written into one would be written out again: recipes and
overrides that carry one are refused (`secret_in`), naming where it is but never echoing it. `redact`
masks anything shaped like a token in a message or a log line, for the token that came by another road.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

# Keys through which transformers, TRL and huggingface_hub take a token: TrainingArguments.hub_token and its
# retired push_to_hub_token, and the `token` / `use_auth_token` of every from_pretrained (model_init_kwargs).
SECRET_KEYS = frozenset({"hub_token", "push_to_hub_token", "token", "use_auth_token", "hf_token", "api_key",
                         "access_token"})
# A Hugging Face user access token: "hf_" and 30+ letters and digits (34 today).
TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{30,}")
MASK = "hf_***"


def redact(text: str) -> str:
    """The text with every token-shaped substring masked."""
    return TOKEN_PATTERN.sub(MASK, text)


def is_secret_key(name: str, known: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether a key or an option names a credential, spelt any way argparse would take it: `--hub-token`,
    `hub_token=...`, or a prefix such as `--hub_tok` that is not itself one of the `known` keys
    (`push_to_hub` is a key of its own, not a prefix of push_to_hub_token)."""
    key = name.lstrip("-").split("=", 1)[0].replace("-", "_").lower()
    if key in SECRET_KEYS:
        return True
    return key not in known and len(key) >= 5 and any(secret.startswith(key) for secret in SECRET_KEYS)


def secret_in(value: Any, where: str = "") -> str | None:
    """Where in a recipe value (nested mappings and lists) a credential is: a key of `SECRET_KEYS`, or a
    token-shaped string; None when there is none. `where` prefixes the answer (a key path such as
    model_init_kwargs.token)."""
    if isinstance(value, str) and TOKEN_PATTERN.search(value):
        return where or "a value"
    for path, key, leaf in _walk(value, where):
        if key is not None and key.lower() in SECRET_KEYS:
            return path
        if isinstance(leaf, str) and TOKEN_PATTERN.search(leaf):
            return path or "a value"
    return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, str | None, Any]]:
    """(path, key or None, value) of every node below value."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), item
            yield from _walk(item, child)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            child = f"{path}[{index}]"
            yield child, None, item
            yield from _walk(item, child)


class RedactingFilter(logging.Filter):
    """Masks token-shaped text in every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

"""What one generation may use, checked before a model loads: the batch, the token budget, and the room a
prompt leaves in the model's context.

A prompt and its answer share the context: a prompt longer than the context less the token budget would
be cut by the position embeddings, or run for minutes at quadratic cost before failing, so it is refused,
each one named by where it came from (file:line for a record read from a file). Nothing is truncated
quietly: which part of a long prompt may go is the user's decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from jsontune.data.contract import location
from jsontune.errors import JsontuneError

# How many over-long prompts a message lists before it counts the rest.
MAX_LISTED = 10


class BudgetError(JsontuneError):
    """A generation setting is out of range, or prompts do not fit the model's context."""


def check_settings(batch_size: int, max_new_tokens: int) -> None:
    """Both are counts of at least 1."""
    for name, value in (("batch size", batch_size), ("token budget (max_new_tokens)", max_new_tokens)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BudgetError(f"the {name} must be a whole number of at least 1, not {value!r}")


def check_prompts_fit(prompts: Sequence[Sequence[int]], records: Sequence[dict], context: int | None,
                      max_new_tokens: int) -> None:
    """Every prompt leaves `max_new_tokens` of room in a context of `context` tokens (None: unknown, unchecked)."""
    if context is None:
        return
    room = context - max_new_tokens
    if room < 1:
        raise BudgetError(f"the token budget {max_new_tokens} leaves no room for a prompt in the model's context "
                          f"of {context} tokens: lower max_new_tokens")
    long = [(record, len(prompt)) for prompt, record in zip(prompts, records) if len(prompt) > room]
    if not long:
        return
    listed = "\n".join(f"  {location(record)}: {length} tokens" for record, length in long[:MAX_LISTED])
    more = f"\n  ... and {len(long) - MAX_LISTED} more" if len(long) > MAX_LISTED else ""
    raise BudgetError(f"{len(long)} prompt(s) longer than the {room} tokens the model's context ({context}) leaves "
                      f"beside the token budget ({max_new_tokens}); shorten them, or lower max_new_tokens:\n"
                      f"{listed}{more}")

"""The options of `jsontune serve`, with their defaults (light to import: the command line shows them in --help)."""

from __future__ import annotations

from dataclasses import dataclass

from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.defaults import DEFAULT_BACKEND


@dataclass(frozen=True)
class ServeOptions:
    """What `jsontune serve` takes besides the model (its defaults are the command's).

    A row holds `max_prompt_tokens + max_tokens` positions of key/value cache while it decodes; the batch takes
    fewer than `max_batch_size` rows when that many would not fit in a quarter of the free memory.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_key_env: str | None = None
    served_model_name: str | None = None
    max_batch_size: int = 32
    max_queue: int = 64
    max_tokens: int = 512
    max_prompt_tokens: int = 1536
    timeout_s: float = 120.0
    max_body_bytes: int = 1 << 20
    grammar_backend: str = DEFAULT_BACKEND
    # What a schema leaves unbounded is bounded as in evaluation (strings of 64 characters, arrays of 4 items):
    # raise them for data that needs more.
    bounds: Bounds = Bounds()
    merge_adapter: bool = True

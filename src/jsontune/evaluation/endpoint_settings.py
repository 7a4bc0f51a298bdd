"""What `jsontune eval --endpoint` asks of an endpoint, checked before anything is asked; the command line's defaults.

Kept apart from `jsontune.evaluation.endpoint` (the asking and the scoring) so that the command line reads its
defaults without importing the model stack.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from jsontune.data.prompting import PromptConfig
from jsontune.data.schema_rendering import SCHEMA_FORMATS
from jsontune.decoding.defaults import DEFAULT_MAX_NEW_TOKENS
from jsontune.errors import JsontuneError

RESPONSE_FORMATS = ("json_schema", "json_object", "none")
# How the record's schema is written into the user message: "auto" (not written under json_schema, as JSON
# Schema otherwise), "none", or one of jsontune's renderings (`jsontune.data.schema_rendering`).
PROMPT_SCHEMAS = ("auto", "none", *SCHEMA_FORMATS)


class EndpointError(JsontuneError):
    """The endpoint cannot answer any row (a refused key, an unknown model), or OUT holds another run."""


@dataclass(frozen=True)
class EndpointSettings:
    """What is asked of the endpoint; everything but `concurrency` must match for a run to resume."""

    url: str
    model: str
    response_format: str = "json_schema"
    prompt_schema: str = "auto"
    system: str | None = None
    strict: bool = True
    max_tokens: int = DEFAULT_MAX_NEW_TOKENS
    api_key_env: str | None = None
    timeout_s: float = 60.0
    retries: int = 4
    concurrency: int = 4

    def check(self) -> None:
        """Every setting's value, before anything is asked (the key's variable included)."""
        if self.response_format not in RESPONSE_FORMATS:
            raise EndpointError(f"--response-format must be one of {', '.join(RESPONSE_FORMATS)}, not "
                                f"{self.response_format!r}")
        if self.prompt_schema not in PROMPT_SCHEMAS:
            raise EndpointError(f"--prompt-schema must be one of {', '.join(PROMPT_SCHEMAS)}, not "
                                f"{self.prompt_schema!r}")
        if not self.url.startswith(("http://", "https://")):
            raise EndpointError(f"--endpoint {self.url!r}: give the API's base URL, e.g. http://localhost:8000/v1")
        for name, value in (("--max-new-tokens", self.max_tokens), ("--concurrency", self.concurrency)):
            if value < 1:
                raise EndpointError(f"{name} must be at least 1, not {value}")
        if self.timeout_s <= 0 or self.retries < 0:
            raise EndpointError("--timeout must be above 0 and --retries at least 0")
        if self.api_key_env is not None and not os.environ.get(self.api_key_env):
            raise EndpointError(f"--api-key-env {self.api_key_env}: that environment variable is not set (the key "
                                "is read from the environment only)")

    def prompt_config(self) -> PromptConfig:
        """How each user message is written (`PromptConfig` is jsontune's one place for it)."""
        rendering = self.prompt_schema
        if rendering == "auto":
            rendering = "none" if self.response_format == "json_schema" else "json_schema"
        return PromptConfig(format="chat", system_prompt=self.system, schema_in_prompt=rendering != "none",
                            schema_format=rendering if rendering != "none" else "json_schema")

    def key(self) -> str:
        """The API key, from the environment (a placeholder where the endpoint takes none)."""
        return os.environ[self.api_key_env] if self.api_key_env else "unused"

    def without_key(self, text: str) -> str:
        """`text` with the key masked, should a server echo it back in an error."""
        return text.replace(self.key(), "***") if self.api_key_env else text

    def resumable(self) -> dict[str, Any]:
        settings = asdict(self)
        settings.pop("concurrency")
        return settings

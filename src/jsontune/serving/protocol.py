"""The OpenAI chat-completions wire format, as far as a JSON model serves it: the request, the answer, the errors.

A request body is parsed here (`parse_chat_request`) and every mistake becomes an `ApiError`: the HTTP status and
the OpenAI error object, `{"error": {"message", "type", "param", "code"}}`, whose `param` names the field
(`messages[1].role`, `response_format.json_schema.schema`, `max_tokens`), so a client sees which field to fix.
Fields of the OpenAI API that a JSON model has no use for (`top_p`, `user`, `logprobs`, ...) are accepted and
ignored, as vLLM does; those whose meaning the server cannot honour (`n` above 1) are refused.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROLES = ("system", "developer", "user")  # "developer" is the OpenAI API's newer name for "system"
SYSTEM_ROLES = ("system", "developer")
# torch.Generator takes seeds in this range; outside it a seed would fail the decoding step, not the request.
SEEDS = (-(2**63), 2**64 - 1)


class ApiError(Exception):
    """A request the server refuses, with its HTTP status and the OpenAI error object's fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextPart(_Loose):
    type: Literal["text"]
    text: str


class Message(_Loose):
    role: str
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class JsonSchemaFormat(_Loose):
    name: str = "response"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(_Loose):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Loose):
    include_usage: bool = False


class ChatRequest(_Loose):
    model: str
    messages: list[Message] = Field(min_length=1)
    response_format: ResponseFormat | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None  # the OpenAI API's newer name for max_tokens
    temperature: float | None = Field(None, ge=0, le=2)
    seed: int | None = Field(None, ge=SEEDS[0], le=SEEDS[1])
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None

    def token_budget(self) -> tuple[str, int | None]:
        """(the field that sets the answer's budget, its value): max_completion_tokens wins over max_tokens."""
        if self.max_completion_tokens is not None:
            return "max_completion_tokens", self.max_completion_tokens
        return "max_tokens", self.max_tokens


def parse_chat_request(body: bytes) -> ChatRequest:
    """The request in `body`, checked; an `ApiError` (400) naming the field and the reason otherwise."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"the request body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(400, "the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {type(data).__name__}")
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as err:
        # Of a union's errors, the deepest is the branch the value was meant for (a list of parts, not a string).
        first = max(err.errors(), key=lambda error: len(error["loc"]))
        raise ApiError(400, f"{_field(first['loc']) or 'the request'}: {first['msg']}", _field(first["loc"])) from None
    _check_fields(request)
    return request


def _check_fields(request: ChatRequest) -> None:
    for i, message in enumerate(request.messages):
        if message.role not in (*ROLES, "assistant"):
            raise ApiError(400, f"messages[{i}].role: {message.role!r} is not a role this model answers "
                                f"({', '.join(ROLES)})", f"messages[{i}].role")
    last = len(request.messages) - 1
    if request.messages[last].role != "user":
        raise ApiError(400, f"messages[{last}].role: the last message must be the user's, not "
                            f"{request.messages[last].role!r}", f"messages[{last}].role")
    for i, message in enumerate(request.messages[:last]):
        if i > 0 or message.role not in SYSTEM_ROLES:
            raise ApiError(400, f"messages[{i}].role: this model answers one user message (after an optional system "
                                f"message), not a conversation", f"messages[{i}].role")
    if not request.messages[last].text().strip():
        raise ApiError(400, f"messages[{last}].content: the user's message is empty", f"messages[{last}].content")
    form = request.response_format
    if form is not None and form.type == "json_schema" and form.json_schema is None:
        raise ApiError(400, "response_format.json_schema: required when the type is 'json_schema'",
                       "response_format.json_schema")
    if request.n != 1:
        raise ApiError(400, f"n: this server writes one answer per request, not {request.n}", "n")
    name, budget = request.token_budget()
    if budget is not None and budget < 1:
        raise ApiError(400, f"{name}: must be at least 1, not {budget}", name)


def _field(location: tuple) -> str:
    """('messages', 0, 'role') -> 'messages[0].role'; pydantic's alias 'schema' stays 'schema'."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in ("str", "list[TextPart]", "function-after"):
            text += f".{part}" if text else str(part)
    return text


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion_body(model: str, text: str, finished: bool, prompt_tokens: int, completion_tokens: int) -> dict:
    """A `chat.completion` object with one choice and real token counts."""
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop" if finished else "length", "logprobs": None}],
        "usage": usage_body(prompt_tokens, completion_tokens),
    }


def chunk_body(completion_id: str, model: str, created: int, delta: dict, finish_reason: str | None = None,
               usage: dict | None = None) -> dict:
    """One `chat.completion.chunk` of a stream; the usage chunk has no choices."""
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                          "logprobs": None}]}
    if usage:
        body["usage"] = usage
    return body


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def models_body(model: str, created: int) -> dict:
    return {"object": "list", "data": [{"id": model, "object": "model", "created": created, "owned_by": "jsontune"}]}

"""The HTTP side: an OpenAI-compatible API over the model worker, on FastAPI (Starlette) and uvicorn.

Why FastAPI: it is the stack vLLM's and SGLang's OpenAI servers run on, asynchronous (one event loop holds
every waiting client for free while the model thread works), and its test client and uvicorn are well kept.

Endpoints: `GET /health` (no key needed: the model thread's figures, for load balancers and the bench),
`GET /v1/models`, `POST /v1/chat/completions` (whole, or streamed as server-sent events:
`jsontune.serving.streaming`). Every error is an OpenAI error object
(`jsontune.serving.protocol`), never a traceback: 400 for a bad field, 401 for a missing or wrong key, 404 for
an unknown model or path, 413 for a body over the limit, 503 with `Retry-After` when the queue is full or more
requests are open than the server takes (`RequestLimit`, before their bodies are read), 504 when an answer takes
longer than the server's timeout, 500 (logged here, its message generic) for a bug.

The event loop never runs the model or compiles a grammar: preparing a request (tokenizing, compiling its
schema, building its first grammar state) runs in a thread of the pool, decoding on the model thread. The
timeout counts from the end of the body's upload and covers the preparing too. A client that disconnects
while its answer is decoded is noticed within a quarter of a second and its row leaves the batch.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from jsontune.serving.chat import ChatModel
from jsontune.serving.protocol import ApiError, completion_body, models_body, parse_chat_request
from jsontune.serving.streaming import stream_answer
from jsontune.serving.worker import ModelWorker, QueueFull, WorkerStopped

logger = logging.getLogger(__name__)

# How often a waiting request checks whether its client is still there.
DISCONNECT_POLL_S = 0.25
RETRY_AFTER_S = 1


@dataclass(frozen=True)
class ServerSettings:
    model_name: str  # what clients put in `model`
    timeout_s: float  # the longest a request may wait for its answer, queue included
    max_body_bytes: int
    api_key: str | None = field(repr=False)  # None: no key asked
    max_open_requests: int | None = None  # None: no limit (see RequestLimit)


class RequestLimit:
    """ASGI middleware: at most `limit` HTTP requests open at once; the next get the busy error object.

    It answers before the app reads a body, so a flood of slow uploads cannot hold memory, and it answers in the
    API's own shape (an OpenAI error object with `Retry-After`), where uvicorn's `limit_concurrency` would answer
    a plain-text 503.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        self.open = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.open >= self.limit:
            busy = _busy()
            await JSONResponse(busy.body(), status_code=busy.status, headers=busy.headers)(scope, receive, send)
            return
        self.open += 1  # one event loop: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1


class _Disconnected(Exception):
    pass


def create_app(chat: ChatModel, worker: ModelWorker, settings: ServerSettings) -> FastAPI:
    """The app; it starts the model thread when it starts and stops it when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker.start()
        yield
        await run_in_threadpool(worker.stop)

    app = FastAPI(title="jsontune", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    if settings.max_open_requests is not None:
        app.add_middleware(RequestLimit, limit=settings.max_open_requests)
    created = int(time.time())
    key = settings.api_key.encode() if settings.api_key else None

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError):
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException):
        return JSONResponse(ApiError(err.status_code, str(err.detail)).body(), status_code=err.status_code,
                            headers=getattr(err, "headers", None))

    @app.exception_handler(_Disconnected)
    async def disconnected(request: Request, err: _Disconnected):
        return Response(status_code=499)  # nobody reads it: nginx's code for "the client closed the request"

    @app.exception_handler(Exception)
    async def bug(request: Request, err: Exception):
        logger.exception("an unexpected error answering %s", request.url.path)
        return JSONResponse(ApiError(500, "the server failed to answer this request", kind="server_error").body(),
                            status_code=500)

    def authorize(request: Request) -> None:
        if key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key):
            raise ApiError(401, "a valid API key is needed: Authorization: Bearer KEY", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    @app.get("/health")
    async def health():
        engine = worker.engine
        body = {"status": "ok" if worker.alive else "stopped", "model": settings.model_name, "slots": worker.slots,
                "in_flight": worker.in_flight, "completed": worker.completed, "steps": engine.steps,
                "rows_stepped": engine.rows_stepped}
        return JSONResponse(body, status_code=200 if worker.alive else 503)

    @app.get("/v1/models")
    async def models(request: Request):
        authorize(request)
        return models_body(settings.model_name, created)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        authorize(request)
        chat_request = parse_chat_request(await _body(request, settings.max_body_bytes))
        if chat_request.model != settings.model_name:
            raise ApiError(404, f"model: {chat_request.model!r} is not served here; this server serves "
                                f"{settings.model_name!r}", "model", "model_not_found")
        began = asyncio.get_running_loop().time()
        try:
            prepared = await asyncio.wait_for(run_in_threadpool(chat.prepare, chat_request), settings.timeout_s)
        except asyncio.TimeoutError:
            raise _timeout(settings.timeout_s) from None
        remaining = settings.timeout_s - (asyncio.get_running_loop().time() - began)
        if chat_request.stream:
            include_usage = bool(chat_request.stream_options and chat_request.stream_options.include_usage)
            try:
                return stream_answer(worker, prepared, chat.tokenizer, chat.stop_token, settings.model_name,
                                     include_usage, remaining, settings.timeout_s)
            except QueueFull:
                raise _busy() from None
            except WorkerStopped:
                raise _stopped() from None
        answer = await _answer(request, worker, prepared.request, remaining, settings.timeout_s)
        return completion_body(settings.model_name, answer.text, answer.finished, prepared.prompt_tokens,
                               answer.new_tokens)

    return app


def _busy() -> ApiError:
    return ApiError(503, "the server is at capacity; retry later", code="server_busy", kind="server_error",
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def _stopped() -> ApiError:
    return ApiError(503, "the server's model thread has stopped; see the server's log", code="server_stopped",
                    kind="server_error")


def _timeout(timeout_s: float) -> ApiError:
    return ApiError(504, f"no answer within this server's timeout of {timeout_s:g} s", code="timeout",
                    kind="server_error")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    too_big = ApiError(413, f"the request body is larger than this server's limit of {limit} bytes",
                       code="request_too_large")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
    except ClientDisconnect:
        raise _Disconnected() from None
    return b"".join(chunks)


async def _answer(request: Request, worker: ModelWorker, engine_request, remaining_s: float, timeout_s: float):
    """The engine's answer to one request; the row is dropped if its client leaves or its time runs out."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def settle(result=None, error=None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        ticket = worker.submit(engine_request, lambda answer: loop.call_soon_threadsafe(settle, answer),
                               lambda error: loop.call_soon_threadsafe(settle, None, error))
    except QueueFull:
        raise _busy() from None
    except WorkerStopped:
        raise _stopped() from None
    deadline = loop.time() + remaining_s
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _timeout(timeout_s)
            try:
                return await asyncio.wait_for(asyncio.shield(future), min(DISCONNECT_POLL_S, remaining))
            except asyncio.TimeoutError:
                if await request.is_disconnected():
                    raise _Disconnected() from None
    except BaseException:
        if not future.done():
            worker.cancel(ticket)
        raise

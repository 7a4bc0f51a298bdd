"""`stream: true`: a chat completion as server-sent events, text sent as the model writes it.

The engine tells each token as it is chosen (`Request.on_token`, on the model thread); the events reach the
event loop through `call_soon_threadsafe`, in the order the model thread sent them, so the last token comes
before the answer's end. Text is sent as it becomes whole characters (`TextDeltas`): a token that ends in
the middle of a UTF-8 character waits for the next one. The stream is the OpenAI API's: a first chunk with
the role, chunks of `delta.content`, a last one with `finish_reason`, a usage chunk when
`stream_options.include_usage` asks, then `data: [DONE]`.

Once the first event is sent the status is 200, so a failure or the server's timeout after that is sent as
an `error` event, as the OpenAI API does. A client that leaves cancels the stream, and its row leaves the batch.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi.responses import StreamingResponse

from jsontune.serving.protocol import chunk_body, completion_id, usage_body
from jsontune.serving.worker import ModelWorker


class TextDeltas:
    """The new text of an answer after each token (the stop token and special tokens write none).

    Only a window of the latest tokens is decoded each time (from the start of the last text sent), so a long
    answer costs each token the same: decoding the whole answer again would grow with its length.
    """

    def __init__(self, tokenizer, stop_token: int):
        self.tokenizer = tokenizer
        self.stop_token = stop_token
        self.tokens: list[int] = []
        self._start = 0  # the window's first token
        self._sent = 0  # tokens [start, sent) are already sent as text

    def add(self, token: int) -> str:
        if token == self.stop_token:
            return ""
        self.tokens.append(token)
        return self._delta(final=False)

    def rest(self) -> str:
        """What is left once the answer has ended (a character the model never finished included)."""
        return self._delta(final=True)

    def _delta(self, final: bool) -> str:
        decode = self.tokenizer.decode
        before = decode(self.tokens[self._start:self._sent], skip_special_tokens=True)
        now = decode(self.tokens[self._start:], skip_special_tokens=True)
        if len(now) <= len(before) or (now.endswith("\ufffd") and not final):  # part of a character: wait
            return ""
        self._start, self._sent = self._sent, len(self.tokens)
        return now[len(before):]


def _event(body: dict) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def stream_answer(worker: ModelWorker, prepared, tokenizer, stop_token: int, model: str, include_usage: bool,
                  remaining_s: float, timeout_s: float) -> StreamingResponse:
    """Submit the request (a full queue raises `QueueFull` here, before any byte is sent) and stream its answer."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue = asyncio.Queue()

    def post(kind: str):
        return lambda value: loop.call_soon_threadsafe(events.put_nowait, (kind, value))

    prepared.request.on_token = post("token")
    ticket = worker.submit(prepared.request, post("done"), post("error"))
    identity, created = completion_id(), int(time.time())

    def chunk(delta: dict, finish_reason: str | None = None, usage: dict | None = None) -> str:
        return _event(chunk_body(identity, model, created, delta, finish_reason, usage))

    async def events_of_the_answer():
        ended = False
        deadline = loop.time() + remaining_s
        deltas = TextDeltas(tokenizer, stop_token)
        try:
            yield chunk({"role": "assistant", "content": ""})
            while True:
                try:
                    kind, value = await asyncio.wait_for(events.get(), max(0.0, deadline - loop.time()))
                except asyncio.TimeoutError:
                    yield _event({"error": {"message": f"no answer within this server's timeout of {timeout_s:g} s",
                                            "type": "server_error", "param": None, "code": "timeout"}})
                    return
                if kind == "token":
                    text = deltas.add(value)
                    if text:
                        yield chunk({"content": text})
                    continue
                ended = True
                if kind == "error":
                    yield _event({"error": {"message": "the server failed to answer this request",
                                            "type": "server_error", "param": None, "code": None}})
                    return
                rest = deltas.rest()
                if rest:
                    yield chunk({"content": rest})
                yield chunk({}, "stop" if value.finished else "length")
                if include_usage:
                    yield chunk({}, usage=usage_body(prepared.prompt_tokens, value.new_tokens))
                yield "data: [DONE]\n\n"
                return
        finally:
            if not ended:
                worker.cancel(ticket)

    return StreamingResponse(events_of_the_answer(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})

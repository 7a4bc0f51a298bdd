"""More requests open than the server takes: refused at once, in the API's error shape, before the body is read."""

from __future__ import annotations

import asyncio
import json

from jsontune.serving.app import RequestLimit

SCOPE = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}


def test_a_request_past_the_open_request_limit_gets_a_503_error_object_with_retry_after() -> None:
    release = asyncio.Event()
    bodies_read: list[bytes] = []

    async def slow_app(scope, receive, send) -> None:
        bodies_read.append((await receive())["body"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    async def request(limited: RequestLimit, body: bytes) -> tuple[int, dict, bytes]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await limited(dict(SCOPE), receive, send)
        start, *chunks = sent
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return start["status"], headers, b"".join(chunk.get("body", b"") for chunk in chunks)

    async def burst():
        limited = RequestLimit(slow_app, limit=2)
        kept = [asyncio.create_task(request(limited, b"kept")) for _ in range(2)]
        while len(bodies_read) < 2:
            await asyncio.sleep(0.01)
        refused = await request(limited, b"never read")
        release.set()
        answered = await asyncio.gather(*kept)
        after = asyncio.create_task(request(limited, b"after"))
        return refused, answered, await after

    (status, headers, body), answered, after = asyncio.run(burst())
    assert status == 503 and headers["retry-after"] == "1" and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "server_busy"
    assert [a[0] for a in answered] == [200, 200] and after[0] == 200, "a freed place takes the next request"
    assert bodies_read == [b"kept", b"kept", b"after"], "the refused request's body is never read"

"""The front of the application: a plain ASGI layer that measures every request for
Prometheus and answers single-score requests (``POST /v1/rubrics/{id}/score``) itself.

A score request is the one a platform sends thousands of times a day, so it skips the
framework's middleware, routing, dependency injection and response classes: the same
steps (the key, the rate limit, the body under its size limit, the scoring, the record)
run from plain ASGI messages. The route stays declared in the FastAPI application, so the
OpenAPI document describes it as before, and every other request goes to FastAPI
unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

from .metrics import Metrics
from .problems import Problem

__all__ = ["SCORE_ROUTE", "Front", "Headers", "read_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCORE_ROUTE: Final = "/v1/rubrics/{rubric_id}/score"
_ERROR_START: Final = {
    "type": "http.response.start",
    "status": 500,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")],
}
_ERROR_BODY: Final = {"type": "http.response.body", "body": b"Internal Server Error"}
_SCORE_PATH: Final = re.compile(r"/v1/rubrics/([^/]+)/score")


class Headers:
    """The few request headers the score route reads, found in one pass (the first of
    each, as Starlette's ``headers.get`` gives it)."""

    __slots__ = ("accept_language", "authorization", "content_length")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        authorization = accept_language = content_length = None
        for name, value in raw:
            if name == b"authorization":
                authorization = authorization or value
            elif name == b"accept-language":
                accept_language = accept_language or value
            elif name == b"content-length":
                content_length = content_length or value
        self.authorization = authorization.decode("latin-1") if authorization else ""
        self.accept_language = accept_language.decode("latin-1") if accept_language else ""
        self.content_length = content_length.decode("latin-1") if content_length else None


async def read_body(receive: Receive, limit: int, declared: str | None) -> bytes:
    """The request body, refused (413) past ``limit`` bytes without reading the rest."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "too-large", limit=limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too-large", limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def query_value(scope: Scope, name: str) -> str | None:
    """The last value of ``name`` in the query string (as Starlette reads it), or None."""
    raw = scope.get("query_string", b"")
    if not raw:
        return None
    found = None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key == name:
            found = value
    return found


#: How the score route answers: (scope, receive, send, rubric id) -> the status sent.
ScoreRoute = Callable[[Scope, Receive, Send, str], Awaitable[int]]


class Front:
    """Measures every HTTP request (route, method, status, seconds) and answers the
    score route itself; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, score: ScoreRoute) -> None:
        self.app = app
        self.metrics = metrics
        self.score = score

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        found = _SCORE_PATH.fullmatch(path) if scope["method"] == "POST" else None
        if found is not None:
            started = False

            async def answering(message: Message) -> None:
                nonlocal started
                started = True
                await send(message)

            try:
                status = await self.score(scope, receive, answering, found.group(1))
            except Exception:
                # as the framework does: a plain 500, and the error to the server's log
                if not started:
                    await send(_ERROR_START)
                    await send(_ERROR_BODY)
                raise
            finally:
                self.metrics.observe(SCORE_ROUTE, "POST", status, time.perf_counter() - start)
            return

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - start)

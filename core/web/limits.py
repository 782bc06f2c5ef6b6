"""The console's caps on request bodies, applied before anything parses them.

Every form of the console is a few fields: the login a password, the others an id or a name. A body
over the cap gets 413 at once when its Content-Length says so, and as soon as the cap is passed when it
streams (chunked); a body under it is read here (at most the cap, in memory) and handed on whole.
So an anonymous flood of big forms costs no memory, and no upload is ever spooled to a temporary file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

LOGIN_BYTES = 4 * 1024
FORM_BYTES = 64 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]


def limit_for(scope: Scope) -> int:
    """How many bytes of body a request may carry: a few KB for the login, a small form for the rest."""
    return LOGIN_BYTES if scope.get("path") == "/login" else FORM_BYTES


class BodyLimits:
    """ASGI middleware: 413 for a body over ``limit(scope)`` bytes, before the application sees it."""

    def __init__(self, app: Any, limit: Callable[[Scope], int] = limit_for) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, b"bad Content-Length\n")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, _too_large(limit))
            return
        if declared == 0 or (declared is None and not _has_body(scope)):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _answer(send, 413, _too_large(limit))
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Callable[[], Awaitable[Message]]) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when there is none, -1 when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


def _has_body(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", []))


def _too_large(limit: int) -> bytes:
    return f"request body too large: this console accepts at most {limit // 1024} KB here\n".encode()


async def _answer(send: Callable[[Message], Awaitable[None]], status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

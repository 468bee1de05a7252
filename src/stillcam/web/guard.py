"""The web app's door, as plain ASGI middleware (no FastAPI): the access token and the size of
request bodies.

When the server has a token, every request but the page itself (``/`` and ``/static/``) must
carry it, ``/docs`` and ``/openapi.json`` included: ``Authorization: Bearer <token>`` or
``?token=<token>``, compared in constant time on bytes (a non-ASCII token is just wrong: 401).

Bodies are counted as they arrive, whether or not the client sent a ``Content-Length``
(``Transfer-Encoding: chunked`` has none): a ``Content-Length`` over the limit is refused at
once and a body that passes the limit stops being read there. Either way the answer is 413 and
no more than the limit is ever buffered or spooled to disk.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths anyone may fetch: the page holds no data (it asks the API, with the token).
OPEN_PATHS = ("/", "/favicon.ico")
OPEN_PREFIXES = ("/static/",)


class BodyTooLarge(Exception):
    """A request body passed its limit while it was being read."""


def token_ok(scope: Scope, token: str | None) -> bool:
    """Whether the request carries ``token`` (always true without one); constant time."""
    if not token:
        return True
    expected = token.encode("utf-8")
    headers = dict(scope.get("headers") or ())
    header = headers.get(b"authorization", b"")
    if header[:7].lower() == b"bearer ":
        given = header[7:].strip()
    else:
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        values = [v for k, v in parse_qsl(query, errors="replace") if k == "token"]
        given = values[0].encode("utf-8", "replace") if values else b""
    return hmac.compare_digest(given, expected)


def guarded(path: str) -> bool:
    """Whether ``path`` needs the token (everything but the page and its static files)."""
    return path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)


class Guard:
    """ASGI middleware around ``app``: the token (:func:`token_ok`) and body limits, where
    ``limit(path)`` is the most bytes a body to ``path`` may have and ``too_large(path)`` the
    message of the 413."""

    def __init__(
        self, app: App, *, token: str | None, limit: Callable[[str], int], too_large: Callable[[str], str]
    ) -> None:
        self.app, self.token, self.limit, self.too_large = app, token, limit, too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if guarded(path) and not token_ok(scope, self.token):
            await _answer(send, 401, "missing or wrong access token")
            return
        limit = self.limit(path)
        length = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _answer(send, 413, self.too_large(path))
            return
        body = _CountedBody(receive, send, limit, self.too_large(path))
        try:
            await self.app(scope, body.receive, body.send)
        except BodyTooLarge:
            if not body.started:
                await _answer(send, 413, body.detail)


class _CountedBody:
    """``receive`` that counts body bytes and stops at ``limit``, and ``send`` that turns the
    app's answer to a cut body (whatever it made of it) into the 413 ``detail``."""

    def __init__(self, receive: Receive, send: Send, limit: int, detail: str) -> None:
        self._receive, self._send, self.limit, self.detail = receive, send, limit, detail
        self.read, self.over, self.started = 0, False, False

    async def receive(self) -> Message:
        message = await self._receive()
        if message.get("type") == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                self.over = True
                raise BodyTooLarge(self.detail)
        return message

    async def send(self, message: Message) -> None:
        starts = message["type"] == "http.response.start"
        if self.over:
            if starts and not self.started:
                self.started = True
                await _answer(self._send, 413, self.detail)
            return
        self.started = self.started or starts
        await self._send(message)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

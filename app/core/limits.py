"""Hosts this service serves (400); request body size limit (413) enforced on the stream, not
only on Content-Length; URLs with NUL characters (which PostgreSQL text cannot hold) refused
up front (400); request headers above a total size refused (431); JSON nesting measured
before parsing."""

from __future__ import annotations

import re
from itertools import accumulate

from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http import simple_problem

MAX_JSON_DEPTH = 32  # Rounds' deepest document (a story's criteria in a variable) is ~5
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
# opening brackets → +1, closing → -1 (as signed bytes); everything else is removed before
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_too_deep(body: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects deeper than `max_depth`, found without
    parsing it (a recursive parser would exhaust the stack first): strings out, brackets
    only, the running depth's maximum. C-level passes (~25 ms for 1 MB of brackets);
    malformed text is left to the parser."""
    raw = body.encode() if isinstance(body, str) else body
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKET)
    return max(accumulate(memoryview(brackets).cast("b")), default=0) > max_depth


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing re-raises it as is (not as a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {limit} bytes.")


class RequestLimits:
    """One pure-ASGI layer for the checks every request passes before anything parses it
    (one layer instead of two: each layer costs a call, a closure and an await per message):

    1. the Host header names a host this service serves (ALLOWED_HOSTS; "*", the default,
       skips the check): Starlette's TrustedHostMiddleware decides, a problem+json 400
       answers (its own answer is plain text); a websocket is closed (1008);
    2. no NUL in the URL (400), request headers within `max_header_bytes` (431);
    3. the body within `max_bytes` (413), by Content-Length and on the stream."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_header_bytes: int = 64 * 1024,
        allowed_hosts: list[str] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes
        hosts = allowed_hosts or ["*"]
        self.any_host = "*" in hosts
        self.host_check = TrustedHostMiddleware(
            self._accepted, allowed_hosts=hosts, www_redirect=False
        )

    @staticmethod
    async def _accepted(scope: Scope, _receive: Receive, _send: Send) -> None:
        scope["rounds.trusted_host"] = True

    @staticmethod
    async def _discard(_message: Message) -> None:
        return None

    async def _trusted(self, scope: Scope, receive: Receive) -> bool:
        if self.any_host:
            return True
        await self.host_check(scope, receive, self._discard)
        return bool(scope.pop("rounds.trusted_host", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind != "websocket" or await self._trusted(scope, receive):
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if not await self._trusted(scope, receive):
            response = simple_problem(
                400, "The Host header names a host this service does not serve."
            )
            await response(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            response = simple_problem(400, "The URL must not contain NUL (%00) characters.")
            await response(scope, receive, send)
            return
        headers = scope.get("headers", ())
        # uvicorn's httptools parser accepts megabytes of headers: refuse them before any
        # handler parses them (tokens, cookies, forwarded chains).
        size = 0
        too_big = False
        for k, v in headers:
            size += len(k) + len(v) + 4
            if k == b"content-length":
                try:
                    too_big = too_big or int(v) > self.max_bytes
                except ValueError:
                    pass
        if size > self.max_header_bytes:
            response = simple_problem(
                431, f"The request headers exceed the limit of {self.max_header_bytes} bytes."
            )
            await response(scope, receive, send)
            return
        if too_big:
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = simple_problem(
            413, f"The request body exceeds the limit of {self.max_bytes} bytes."
        )
        await response(scope, receive, send)

"""Request body size limit (413) enforced on the stream, not only on Content-Length; URLs
with NUL characters (which PostgreSQL text cannot hold) refused up front (400); request
headers above a total size refused (431); JSON nesting measured before parsing."""

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


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_header_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            response = simple_problem(400, "The URL must not contain NUL (%00) characters.")
            await response(scope, receive, send)
            return
        headers = scope.get("headers", ())
        # uvicorn's httptools parser accepts megabytes of headers: refuse them before any
        # handler parses them (tokens, cookies, forwarded chains).
        if sum(len(k) + len(v) + 4 for k, v in headers) > self.max_header_bytes:
            response = simple_problem(
                431, f"The request headers exceed the limit of {self.max_header_bytes} bytes."
            )
            await response(scope, receive, send)
            return
        for k, v in headers:
            if k == b"content-length":
                try:
                    too_big = int(v) > self.max_bytes
                except ValueError:
                    too_big = False
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


class TrustedHosts:
    """Starlette's TrustedHostMiddleware deciding, a problem+json 400 answering (its own
    answer is plain text). ALLOWED_HOSTS="*" (the default) skips the check."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.any = "*" in allowed_hosts
        self.check = TrustedHostMiddleware(
            self._accepted, allowed_hosts=allowed_hosts, www_redirect=False
        )

    @staticmethod
    async def _accepted(scope: Scope, _receive: Receive, _send: Send) -> None:
        scope["rounds.trusted_host"] = True

    @staticmethod
    async def _discard(_message: Message) -> None:
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self.check(scope, receive, self._discard)
        if scope.pop("rounds.trusted_host", False):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            response = simple_problem(
                400, "The Host header names a host this service does not serve."
            )
            await response(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1008})

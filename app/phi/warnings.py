"""The `PHI-Redacted` response header: which non-PHI free-text fields of a write had
identifiers redacted before they were stored (app/phi/scan.py, docs/phi.md)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"phi-redacted"
_READS = frozenset(("GET", "HEAD", "OPTIONS"))


class PhiRedactedHeader:
    """Adds `PHI-Redacted: title, tags` to a successful response whose request redacted
    those fields (names only, never values). Reads never redact, so they pass straight
    through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                record = scope.get("state", {}).get("audit")
                names = getattr(record, "phi_redacted", None)
                if names:
                    headers = [*message.get("headers", []), (HEADER, ", ".join(names).encode())]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)

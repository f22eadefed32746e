"""The outermost pure-ASGI middleware: request id, access log, metrics, security headers.

Per request it generates the request id (a caller's own X-Request-Id is kept only beside it,
as `client_request_id`), times the response, labels metrics with the matched route template
(never the raw path: it may carry ids or, on unmatched routes, anything a caller typed),
writes one JSON access-log line, and adds the security headers of SPEC §11 to the response:
nosniff, Referrer-Policy, HSTS in production, a CSP (strict for API answers; for the two HTML
pages, /docs and GraphiQL, one that allows their own inline script by hash and their CDN
fallbacks), and `Cache-Control: no-store` on everything that carries PHI.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.core.routing import route_template
from app.ops.logs import access_log
from app.ops.metrics import Metrics

# A client-supplied X-Request-Id is kept (beside ours) only when it is a plain token.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Responses under these carry PHI (or a rendition derived from it) whoever asks: never cached.
PHI_PREFIXES = ("/api/v1/interviews", "/api/v1/insights", "/api/v1/audit-events")

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI (/docs) loads from jsDelivr until it is self-hosted; GraphiQL's fallback without
# npm at install time is unpkg; FastAPI's Swagger page takes its favicon from fastapi.tiangolo.com.
PAGE_CDNS = "https://cdn.jsdelivr.net https://unpkg.com"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def page_csp(body: bytes) -> bytes:
    """CSP of an HTML page: its inline scripts allowed by hash, nothing else inline."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
        for m in _INLINE_SCRIPT.findall(body)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes} {PAGE_CDNS}; "
        f"style-src 'self' 'unsafe-inline' {PAGE_CDNS}; "
        "img-src 'self' data: https://fastapi.tiangolo.com; "
        f"font-src 'self' data: {PAGE_CDNS}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ).encode()


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = settings.access_log
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        if settings.is_production:
            common.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.common = common
        self.common_names = frozenset(k for k, _ in common)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = secrets.token_hex(16)  # 32 hex characters, like uuid4().hex, cheaper
        client_id = header(scope, b"x-request-id")
        if client_id is not None and not CLIENT_REQUEST_ID.fullmatch(client_id):
            client_id = None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_request_id"] = client_id
        status = 500
        held: Message | None = None  # an HTML page's start, sent with its CSP once the body is in
        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal status, held
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers, html = self._headers(scope, message)
                message = {**message, "headers": headers}
                if html:
                    held = message
                    return
            elif kind == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                start, held = held, None
                await send(
                    {
                        **start,
                        "headers": [
                            *start["headers"],
                            (b"content-security-policy", page_csp(body)),
                        ],
                    }
                )
                message = {"type": "http.response.body", "body": body}
            await send(message)

        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            # Other rounds.* records of this request carry its id (structlog contextvars).
            tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                structlog.contextvars.reset_contextvars(**tokens)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            if metrics is not None:
                metrics.in_flight.dec()
                metrics.observe_request(scope["method"], route, status, elapsed)
            if self.access_log:
                audit = state.get("audit")
                access_log.info(
                    "request",
                    request_id=request_id,
                    client_request_id=client_id,
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    actor_sub=getattr(audit, "actor_sub", None),
                )

    def _headers(self, scope: Scope, message: Message) -> tuple[list[tuple[bytes, bytes]], bool]:
        """The response's headers with ours added, and whether it is an HTML page."""
        headers = list(message.get("headers", ()))
        present = set()
        html = False
        for k, v in headers:
            k = k.lower()
            present.add(k)
            if k == b"content-type" and v.startswith(b"text/html"):
                html = True
        headers.extend(h for h in self.common if h[0] not in present)
        if not html and b"content-security-policy" not in present:
            headers.append((b"content-security-policy", API_CSP))
        if b"cache-control" not in present:
            audit = scope.get("state", {}).get("audit")
            if getattr(audit, "phi_accessed", False) or scope["path"].startswith(PHI_PREFIXES):
                headers.append((b"cache-control", b"no-store"))
        return headers, html

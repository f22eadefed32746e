"""One webhook attempt: Standard Webhooks signature, SSRF re-check, pinned address, 10 s, no
redirects, response body ignored."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
from standardwebhooks import Webhook

from app.config import Settings
from app.feed import ssrf

USER_AGENT = "Rounds-Webhooks/1.0"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: str  # success | http_error | timeout | connect_error | refused | error
    status_code: int | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


def signed_headers(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """webhook-id / webhook-timestamp / webhook-signature (v1, HMAC-SHA256 of id.ts.body)."""
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def client(settings: Settings) -> httpx.AsyncClient:
    """The delivery client: no redirects, no environment proxies, bounded pool."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(settings.webhook_timeout_seconds),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )


async def attempt(
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    url: str,
    secret: str,
    event: dict[str, Any],
    at: datetime,
) -> Result:
    """POST the event to `url`; a 2xx within the timeout is success, anything else is not."""
    started = time.monotonic()

    def done(outcome: str, status: int | None = None) -> Result:
        return Result(outcome, status, int((time.monotonic() - started) * 1000))

    try:
        target = await ssrf.resolve(
            url,
            allow_private=settings.webhook_allow_private,
            require_https=settings.is_production,
        )
    except ssrf.UnsafeTarget:
        return done("refused")
    body = orjson.dumps(event)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        **signed_headers(secret, event["id"], at, body),
    }
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            async with http.stream(
                "POST",
                target.pinned_url(target.addresses[0]),
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            ) as response:
                status = response.status_code  # the body is never read
    except (TimeoutError, httpx.TimeoutException):
        return done("timeout")
    except httpx.TransportError:
        return done("connect_error")
    except Exception:
        return done("error")
    return done("success" if 200 <= status < 300 else "http_error", status)

"""Rate limits (SPEC §11) on the `limits` package: moving windows in memory by default, in
Redis when REDIS_URL is set (then every worker and instance shares one budget per key).

- /oauth/token: per source IP and per client id (each wrong secret costs ~0.2 s of scrypt);
- /api and /graphql: per authenticated principal (RATE_LIMIT_API; off by default outside
  production so tests and benchmarks are not throttled);
- /api/v1/integrations/*: per source IP, by path prefix (RateLimitMiddleware).

A refused request is a 429 problem+json with Retry-After, audited like any other (the limits
run inside the audit middleware) as access_denied/denied. When Redis cannot be reached the
limit fails open (logged, counted): an outage of the counter store must not take the API down.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import orjson
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.core.errors import AppError, problem

log = logging.getLogger("rounds.ratelimit")

INTEGRATIONS_PREFIX = "/api/v1/integrations/"


class RateLimited(AppError):
    # GraphQL never sees it as a field error (it is raised while authenticating, answered as
    # HTTP 429 problem+json); the code is the nearest of SPEC §8's list.
    status, code, title, slug = 429, "BAD_USER_INPUT", "Too many requests", "rate-limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Rate limit exceeded; retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def _item(spec: str) -> RateLimitItem | None:
    return parse(spec) if spec and spec.strip() else None


def create_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        uri = settings.redis_url.replace("redis://", "async+redis://", 1).replace(
            "rediss://", "async+rediss://", 1
        )
        return RedisStorage(uri, implementation="redispy", key_prefix=settings.rate_limit_namespace)
    return MemoryStorage()


class RateLimiter:
    """The limits of one app (app.state.rate_limiter)."""

    def __init__(self, settings: Settings, metrics: Any = None) -> None:
        self.storage = create_storage(settings)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.namespace = settings.rate_limit_namespace
        self.token_ip = _item(settings.rate_limit_oauth_per_ip)
        self.token_client = _item(settings.rate_limit_oauth_per_client)
        self.integrations = _item(settings.rate_limit_integrations_per_source)
        self.api = _item(settings.effective_rate_limit_api)
        self.metrics = metrics

    async def hit(self, name: str, item: RateLimitItem | None, key: str | None) -> None:
        """Count one request against `item` for `key`; RateLimited when over the limit."""
        if item is None or not key:
            return
        try:
            allowed = await self.strategy.hit(item, self.namespace, name, key)
            if allowed:
                return
            stats = await self.strategy.get_window_stats(item, self.namespace, name, key)
        except Exception as exc:
            log.error("rate limit storage failed (limit not applied): %s", type(exc).__name__)
            return
        if self.metrics is not None:
            self.metrics.rate_limited.labels(name).inc()
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def token_request(self, source_ip: str | None, client_id: str | None) -> None:
        """POST /oauth/token: per source IP, then per client id."""
        await self.hit("token_ip", self.token_ip, source_ip)
        await self.hit("token_client", self.token_client, client_id[:64] if client_id else None)

    async def principal(self, sub: str) -> None:
        """An authenticated API or GraphQL call."""
        await self.hit("api", self.api, sub)


class RateLimitMiddleware:
    """Per-source limits by path prefix (the integration endpoints). Runs inside the audit
    middleware, which records the 429 (source_ip comes from its record)."""

    def __init__(self, app: ASGIApp, *, limiter_getter: Any) -> None:
        self.app = app
        self.limiter_getter = limiter_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(INTEGRATIONS_PREFIX):
            limiter: RateLimiter = self.limiter_getter()
            record = scope.get("state", {}).get("audit")
            source = getattr(record, "source_ip", None) or (scope.get("client") or ("",))[0]
            try:
                await limiter.hit("integrations", limiter.integrations, source)
            except RateLimited as exc:
                await _send_429(send, exc)
                return
        await self.app(scope, receive, send)


async def _send_429(send: Send, exc: RateLimited) -> None:
    body = orjson.dumps(problem(exc.status, exc.title, exc.detail, slug=exc.slug))
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(exc.retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""install_operations(): wires SPEC §11 into an app (called once from create_app)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from app.config import Settings
from app.ops.logs import configure_logging
from app.ops.metrics import Metrics, metrics_endpoint
from app.ops.observe import ObserveMiddleware
from app.ops.ratelimit import RateLimiter, RateLimitMiddleware
from app.ops.tracing import setup_tracing

EXPOSED_HEADERS = ["ETag", "Link", "X-Request-Id", "Location", "Retry-After"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-Id"]


def cors_origins(settings: Settings) -> list[str]:
    return [o.strip() for o in settings.cors_origins.split(",") if o.strip()]


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Metrics, logs, tracing, rate limits, security headers and CORS. Call it after the
    audit middleware is added: CORS and ObserveMiddleware go outside it, the per-source rate
    limit inside it (so a 429 is audited)."""
    configure_logging(settings)
    metrics = Metrics(lambda: app.state.engine) if settings.metrics_enabled else None
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(settings, metrics)
    if metrics is not None:
        app.add_route(
            "/metrics", metrics_endpoint(settings), methods=["GET"], include_in_schema=False
        )
        batcher = getattr(app.state, "batcher", None)
        if batcher is not None:
            batcher.on_batch = metrics.audit_batch.observe
        # Webhook delivery outcomes of this process's workers (app/feed/worker.py).
        from app.feed.worker import OUTCOME_HOOKS

        OUTCOME_HOOKS.append(lambda outcome: metrics.webhook_deliveries.labels(outcome).inc())
        # How GraphQL executions were answered (app/graphql/fastpath.py).
        fastpath = getattr(getattr(app.state, "graphql_schema", None), "fastpath", None)
        if fastpath is not None:
            fastpath.on_outcome = metrics.graphql_outcome
    # Innermost (user_middleware[0] is the outermost): inside the audit middleware.
    app.user_middleware.append(
        Middleware(RateLimitMiddleware, limiter_getter=lambda: app.state.rate_limiter)
    )
    origins = cors_origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,  # Bearer tokens, no cookies
            max_age=600,
        )
    app.add_middleware(ObserveMiddleware, settings=settings, metrics=metrics)
    app.state.tracer_provider = setup_tracing(app, settings)


def audit_failure_hook(app: FastAPI):
    """For RequestMiddleware(on_failure=…): counts events that could not be written."""

    def on_failure() -> None:
        metrics = getattr(app.state, "metrics", None)
        if metrics is not None:
            metrics.audit_failures.inc()

    return on_failure


class SealerMetrics:
    """The sealer's observer (app/audit/sealer.py SealerObserver)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def sealed(self, n: int) -> None:
        import time

        metrics = getattr(self.app.state, "metrics", None)
        if metrics is not None:
            metrics.sealed.inc(n)
            metrics.sealer_last_success.set(time.time())

    def failed(self) -> None:
        metrics = getattr(self.app.state, "metrics", None)
        if metrics is not None:
            metrics.sealer_failures.inc()

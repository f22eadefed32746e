"""Prometheus metrics of one app: a registry of its own (tests build many apps in one
process), label values from route templates and status codes only, never a raw path."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from app.config import Settings
from app.core.http import simple_problem

# Seconds; API answers are mostly single-digit milliseconds (bench/README.md).
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class PoolCollector(Collector):
    """DB pool use, read at scrape time from SQLAlchemy's pool (size, checked out, overflow)."""

    def __init__(self, engine_getter: Any) -> None:
        self.engine_getter = engine_getter

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = getattr(self.engine_getter(), "pool", None)
        values = {}
        for name in ("size", "checkedout", "overflow", "checkedin"):
            fn = getattr(pool, name, None)
            if callable(fn):
                try:
                    values[name] = float(fn())
                except Exception:  # noqa: S112 - a pool class without the statistic
                    continue
        for name, value in values.items():
            g = GaugeMetricFamily(f"rounds_db_pool_{name}", f"SQLAlchemy pool {name}()")
            g.add_metric([], value)
            yield g


class Metrics:
    """Every metric Rounds exports; one instance per app (app.state.metrics)."""

    def __init__(self, engine_getter: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "rounds_http_requests",
            "HTTP requests by method, route template and status",
            ("method", "route", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "rounds_http_request_duration_seconds",
            "Time to the end of the response, by method, route template and status",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "rounds_http_requests_in_flight", "Requests being served", registry=r
        )
        self.audit_batch = Histogram(
            "rounds_audit_batch_size",
            "Audit events per group commit (PostgreSQL, app/audit/batcher.py)",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.audit_failures = Counter(
            "rounds_audit_write_failures",
            "Requests answered 503 because their audit event could not be written",
            registry=r,
        )
        self.sealer_last_success = Gauge(
            "rounds_audit_sealer_last_success_timestamp_seconds",
            "Unix time of the last sealer pass that completed",
            registry=r,
        )
        self.sealed = Counter("rounds_audit_sealed_events", "Events chained", registry=r)
        self.sealer_failures = Counter(
            "rounds_audit_sealer_failures", "Sealer passes that failed", registry=r
        )
        self.rate_limited = Counter(
            "rounds_rate_limited",
            "Requests refused with 429, by limit",
            ("limit",),
            registry=r,
        )
        # Fed by the webhook workers (app/feed/worker.py OUTCOME_HOOKS, app/ops/install.py).
        self.webhook_deliveries = Counter(
            "rounds_webhook_deliveries",
            "Webhook delivery attempts by outcome (success, http_error, timeout, …)",
            ("outcome",),
            registry=r,
        )
        # Fed by the GraphQL fast path (app/graphql/fastpath.py FastPath.on_outcome).
        self.graphql_fastpath = Counter(
            "rounds_graphql_fastpath",
            "GraphQL executions by how they were answered: served by a compiled plan, or why"
            " graphql-core answered instead (not_applicable, unsupported, error, database,"
            " unexpected)",
            ("outcome",),
            registry=r,
        )
        if engine_getter is not None:
            r.register(PoolCollector(engine_getter))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._outcomes: dict[str, Any] = {}

    def graphql_outcome(self, outcome: str) -> None:
        """Count one GraphQL execution's outcome (FastPath.on_outcome); children cached."""
        child = self._outcomes.get(outcome)
        if child is None:
            child = self._outcomes[outcome] = self.graphql_fastpath.labels(outcome)
        child.inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one request. The labelled children are cached per label set (a
        bounded set: route templates × methods × statuses): labels() validates and locks."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        """The text format; with PROMETHEUS_MULTIPROC_DIR set, the sum over worker processes."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def metrics_endpoint(settings: Settings):
    """GET /metrics; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`."""
    expected = (settings.metrics_token or "").encode()

    async def metrics(request: Request) -> Response:
        if expected:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), expected
            ):
                return simple_problem(
                    401, "A valid metrics Bearer token is required.", {"WWW-Authenticate": "Bearer"}
                )
        body = request.app.state.metrics.exposition()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics

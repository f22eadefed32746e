"""OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: a span per request
(FastAPI instrumentation, route template as the span name), per SQL statement (SQLAlchemy,
this app's engine) and per asyncpg call (the audit path writes through the driver directly).
Spans carry no query strings and no raw paths: the request hook reduces the URL attributes to
scheme and host (the route template is `http.route` and the span name), the user agent is
scanned like the audit trail's, and SQL spans carry statements without parameters."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.audit.middleware import safe_user_agent
from app.config import Settings

# Attributes the ASGI instrumentation fills from the raw request: the URL with its query
# string and the raw path (either may carry PHI), the caller-controlled user agent.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target")
_DROPPED = ("url.query", "url.path")


def _scrub_request_span(span: Any, scope: dict[str, Any]) -> None:
    """Overwrite what the instrumentation copied from the request line; the route template
    arrives as `http.route` when routing is done."""
    if span is None or not span.is_recording():
        return
    server = scope.get("server") or ("", None)
    origin = f"{scope.get('scheme', 'http')}://{server[0]}" + (f":{server[1]}" if server[1] else "")
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, origin if name != "http.target" else "")
    for name in _DROPPED:
        if name in attributes:
            span.set_attribute(name, "")
    for name in ("http.user_agent", "user_agent.original"):
        if name in attributes:
            span.set_attribute(name, safe_user_agent(attributes[name]) or "")


def setup_tracing(app: FastAPI, settings: Settings) -> Any:
    """Instrument `app` and its engine; returns the TracerProvider (app.state.tracer_provider)
    or None when tracing is off."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="health/live,health/ready,metrics",
        server_request_hook=_scrub_request_span,
    )
    engine = app.state.engine
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine,
        tracer_provider=provider,
        enable_commenter=False,
        # The instrumentation declares sqlalchemy < 2.1 while it works with 2.1 through the
        # same public event API; tests/ops/test_tracing.py fails if that stops being true.
        skip_dep_check=True,
    )
    if engine.dialect.name == "postgresql":
        instrumentor = AsyncPGInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    return provider

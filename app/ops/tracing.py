"""OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: a span per request
(FastAPI instrumentation, route template as the span name), per SQL statement (SQLAlchemy,
this app's engine) and per asyncpg call (the audit path writes through the driver directly).
Spans carry no query strings: the request URL attribute is reduced to scheme, host and path
template by the instrumentation's sanitizers, and SQL statements carry no parameters."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.config import Settings


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
        # Bodies and query strings are never recorded; no request/response hooks.
    )
    engine = app.state.engine
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, enable_commenter=False
    )
    if engine.dialect.name == "postgresql":
        instrumentor = AsyncPGInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    return provider

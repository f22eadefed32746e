"""OpenTelemetry: off without OTEL_EXPORTER_OTLP_ENDPOINT; with it, a span per request named
by route template and spans for SQL, exported over OTLP/HTTP."""

from __future__ import annotations

import http.server
import threading

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import IS_PG


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        _Collector.received.append((self.path, self.headers.get("content-type", "")))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def collector():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_tracing_is_off_by_default(app):
    assert app.state.tracer_provider is None


async def test_spans_per_request_and_sql_exported_over_otlp(app_with, auth, collector):
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    memory = InMemorySpanExporter()
    try:
        async with app_with(otel_exporter_otlp_endpoint=collector) as (app, c):
            provider = app.state.tracer_provider
            assert provider is not None
            provider.add_span_processor(SimpleSpanProcessor(memory))
            pm = auth("engineer", "traced")
            r = await c.get("/api/v1/products?limit=3&sort=-updated_at", headers=pm)
            assert r.status_code == 200
            provider.force_flush()
            spans = memory.get_finished_spans()
            names = [s.name for s in spans]
            server = [s for s in spans if s.attributes.get("http.route") == "/api/v1/products"]
            assert server, names
            # The request's SQL is in the request's trace (the background sealer's is not).
            trace = server[0].context.trace_id
            in_trace = [s for s in spans if s.context.trace_id == trace]
            assert any(
                s.attributes.get("db.system") in ("postgresql", "sqlite") for s in in_trace
            ), names
            # No query string in any attribute (it may carry PHI).
            for s in spans:
                assert "sort=-updated_at" not in str(dict(s.attributes)), s.name
            provider.shutdown()
        assert any(path == "/v1/traces" for path, _ in _Collector.received)
    finally:
        SQLAlchemyInstrumentor().uninstrument()
        if IS_PG:
            AsyncPGInstrumentor().uninstrument()
        FastAPIInstrumentor().uninstrument()

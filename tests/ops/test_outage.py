"""Database outage (SPEC §11): requests fail fast with 503 problem+json, /health/ready says
so, and nothing is half-written. PostgreSQL: the app's engine points at a port where no
server listens, the way a database that went away looks to a running service."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from tests.api.factories import assert_problem
from tests.conftest import IS_PG

pytestmark = pytest.mark.skipif(not IS_PG, reason="the outage scenario runs on PostgreSQL")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # released on close: nothing listens there


async def test_database_down_fails_fast_with_503(app_with, database_url, auth):
    down = (
        make_url(database_url)
        .set(host="127.0.0.1", port=_closed_port())
        .render_as_string(hide_password=False)
    )
    async with app_with(database_url=down) as (_, c):
        pm = auth("product_manager", "outage-pm")
        for method, url, kw in (
            ("GET", "/api/v1/products", {}),
            ("POST", "/api/v1/products", {"json": {"key": "DOWN", "name": "Down"}}),
            ("POST", "/graphql", {"json": {"query": "{ products { totalCount } }"}}),
        ):
            started = time.monotonic()
            r = await c.request(method, url, headers=pm, **kw)
            elapsed = time.monotonic() - started
            assert elapsed < 2.0, (url, elapsed)
            if url == "/graphql" and r.status_code == 200:
                pytest.fail(f"GraphQL answered 200 with the database down: {r.text[:200]}")
            assert_problem(r, 503)
            assert "Traceback" not in r.text
        started = time.monotonic()
        ready = await c.get("/health/ready")
        assert time.monotonic() - started < 2.0
        body = assert_problem(ready, 503)
        assert "database" in body["detail"].lower()
        live = await c.get("/health/live")
        assert live.status_code == 200  # the process itself is fine


async def test_connection_killed_under_the_app_fails_fast_then_recovers(app_with, auth, raw):
    """The database drops the app's connection (restart, failover): the request that finds it
    dead answers 503 quickly, with nothing written, and the next one reconnects by itself."""
    from sqlalchemy import text

    async with app_with(db_pool_size=1, audit_group_commit=False) as (app, c):
        pm = auth("product_manager", "outage-kill")
        assert (await c.get("/api/v1/products", headers=pm)).status_code == 200
        async with app.state.engine.connect() as conn:  # the pool's only connection
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        await raw.run(("SELECT pg_terminate_backend(:pid)", {"pid": pid}))
        key = "KILL" + str(pid)[-4:]
        started = time.monotonic()
        r = await c.post("/api/v1/products", json={"key": key, "name": "Killed"}, headers=pm)
        assert time.monotonic() - started < 2.0
        # Whoever uses the dead connection first fails and invalidates the pool: this request
        # (503, nothing written) or the background sealer's pass (then this one reconnects).
        stored = await raw.scalar("SELECT count(*) FROM product WHERE key = :k", k=key)
        if r.status_code == 503:
            assert_problem(r, 503)
            assert stored == 0
        else:
            assert (r.status_code, stored) == (201, 1), r.text
        recovered = await c.get("/api/v1/products", headers=pm)
        assert recovered.status_code == 200
        assert (await c.get("/health/ready")).status_code == 200

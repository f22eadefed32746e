"""The statements a request sends, and PostgreSQL's EXPLAIN of them, for the plan tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url


@contextmanager
def sent_statements(app, on: Callable[[str, Sequence[Any]], None]) -> Iterator[None]:
    """Calls `on(statement, positional parameters)` for every statement sent while inside:
    through SQLAlchemy, and straight to asyncpg (app/db/prepared.py: `PreparedRead` runs
    cached SELECTs with Connection.fetch; SQLAlchemy's adapter never calls it)."""

    def before(conn, cursor, statement, parameters, context, executemany):
        on(statement, parameters)

    fetch = asyncpg.Connection.fetch

    async def fetching(self, query, *args, **kwargs):
        on(query, args)
        return await fetch(self, query, *args, **kwargs)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    asyncpg.Connection.fetch = fetching  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncpg.Connection.fetch = fetch  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", before)


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


async def generic_plan(settings, statement: str, params: Sequence[Any]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of `statement` run as a prepared statement on its generic plan (the
    one PostgreSQL caches), sequential scans off so that the answer does not depend on the
    planner's view of a tiny table."""
    url = make_url(settings.database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute("SET enable_seqscan = off")
        await conn.execute(f"PREPARE explained AS {statement}")
        args = ", ".join(_literal(v) for v in params)
        call = f"EXECUTE explained({args})" if params else "EXECUTE explained"
        plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {call}")
    finally:
        await conn.close()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def rows_read(plan: dict[str, Any], table: str) -> int:
    """Rows a plan node tree read from `table`: returned plus filtered out, every loop."""
    loops = plan.get("Actual Loops", 1)
    own = 0
    if plan.get("Relation Name") == table:
        own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    return own + sum(rows_read(p, table) for p in plan.get("Plans", ()))

"""The statements a request sends, and PostgreSQL's EXPLAIN of them, for the plan tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.db import explain


def sent_statements(app, on: Callable[[str, Sequence[Any]], None]):
    """Every statement the app sends while inside (app/db/explain.py)."""
    return explain.sent_statements(app.state.engine, on)


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
        call = explain.execute_call(params)
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

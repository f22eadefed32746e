"""Reading PostgreSQL's EXPLAIN (ANALYZE, FORMAT JSON) output in the plan tests."""

from __future__ import annotations

from typing import Any


def rows_read(plan: dict[str, Any], table: str) -> int:
    """Rows a plan node tree read from `table`: returned plus filtered out, every loop."""
    loops = plan.get("Actual Loops", 1)
    own = 0
    if plan.get("Relation Name") == table:
        own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    return own + sum(rows_read(p, table) for p in plan.get("Plans", ()))

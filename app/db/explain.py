"""The statements a piece of code sends, for the plan tests and `bench/cpu_profile.py --explain`.

Not used by the app at run time: a diagnostic that both the tests and the benchmark tools need,
kept here once so they see the same statements (including the ones `PreparedRead` sends
straight to asyncpg) and write parameters for `EXECUTE` the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def sent_statements(
    engine: AsyncEngine, on: Callable[[str, Sequence[Any]], None]
) -> Iterator[None]:
    """Calls `on(statement, parameters)` for every statement sent while inside: through
    SQLAlchemy, and straight to asyncpg (app/db/prepared.py: `PreparedRead` runs cached SELECTs
    with Connection.fetch, which SQLAlchemy's adapter never calls)."""

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        on(statement, parameters)

    fetch = asyncpg.Connection.fetch

    async def fetching(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        on(query, args)
        return await fetch(self, query, *args, **kwargs)

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before)
    asyncpg.Connection.fetch = fetching
    try:
        yield
    finally:
        asyncpg.Connection.fetch = fetch
        event.remove(sync_engine, "before_cursor_execute", before)


def literal(value: Any) -> str:
    """A parameter as an SQL literal, for `EXECUTE name(...)` (which takes no bound
    parameters); a list or tuple becomes an array literal."""
    if isinstance(value, list | tuple):
        return literal("{" + ",".join(str(v) for v in value) + "}")
    return "'" + str(value).replace("'", "''") + "'"


def execute_call(params: Sequence[Any], name: str = "explained") -> str:
    """`EXECUTE name(literals…)` for a statement prepared as `name`."""
    return f"EXECUTE {name}" + (f"({', '.join(map(literal, params))})" if params else "")

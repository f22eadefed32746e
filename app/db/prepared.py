"""Hot Core SELECTs run on the session's asyncpg connection, compiled once by SQLAlchemy.

A cached Core statement (`Repository._page` keeps one per list shape) still costs SQLAlchemy's
execution machinery on every run: the compiled-cache lookup, an execution context, the
cursor adapter, result metadata and a Row per row, several times what asyncpg spends on the
statement itself (bench/README.md, "Session 6: fixed cost"). `PreparedRead` compiles the
statement once with the engine's own dialect (the SQL text SQLAlchemy sends, casts
included) and then hands asyncpg that text and the bound values, which asyncpg prepares once
per connection, as the audit writer's INSERT does. It runs under the lock with which
SQLAlchemy's adapter serializes a connection's statements (GraphQL resolvers share a
request's session concurrently): `_execute_mutex`, the one private name used here,
guarded by tests/api/test_prepared_read.py. Rows come back as named tuples with the
statement's column keys: read-only rows like SQLAlchemy's (attribute and index access,
`_fields`), converted by the type result processors SQLAlchemy would apply (none, for the
types of the lists this serves on asyncpg).

Only where it changes nothing: the asyncpg driver, a session that reads in autocommit (the
GET sessions, `create_read_sessionmaker`; in a transaction SQLAlchemy's adapter would have
to open it first), statements without expanding or literal-execute parameters. When the
driver raises, the statement is run again through SQLAlchemy, so a failure is reported,
wrapped and handled (a dead connection invalidating the pool) as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import is_autocommit_session


class PreparedRead:
    """One SELECT compiled for the asyncpg dialect; `rows()` runs it (see the module)."""

    __slots__ = ("_binders", "_compiled", "_processors", "_row", "sql", "statement")

    def __init__(self, statement: Select, dialect: Any, *, positional: bool = False) -> None:
        """`positional`: rows as plain tuples (by index only), for a statement whose
        column keys are not names (`Repository.json_pages_by`'s)."""
        compiled = statement.compile(dialect=dialect)
        self.statement = statement
        self.sql = compiled.string
        self._compiled = compiled
        binds = compiled.binds
        names = compiled.positiontup or []
        self._binders = tuple((name, binds[name].type.bind_processor(dialect)) for name in names)
        columns = statement.selected_columns
        # A row of the values: a named tuple, or a plain one (positional).
        named: Any = None if positional else namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]  # keys known at run time
        self._row: Callable[[Any], Any] = tuple if named is None else named._make
        processors = tuple(c.type.result_processor(dialect, None) for c in columns)
        self._processors = processors if any(processors) else None

    @staticmethod
    def usable(statement: Select, dialect: Any, *, positional: bool = False) -> bool:
        """Whether `statement` can run this way on `dialect` (asyncpg; no expanding IN, no
        literal-execute parameters, unique column keys unless `positional`)."""
        if dialect.driver != "asyncpg":
            return False
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or any(b.expanding for b in compiled.binds.values()):
            return False
        if positional:
            return True
        keys = [c.key or "" for c in statement.selected_columns]
        return len(set(keys)) == len(keys) and all(k and not k.startswith("_") for k in keys)

    async def rows(self, session: AsyncSession, values: dict[str, Any]) -> list[Any]:
        """The statement's rows with `values` bound, on `session`'s connection."""
        conn = await session.connection()
        if not is_autocommit_session(session):
            return list((await conn.execute(self.statement, values)).all())
        params = self._compiled.construct_params(values)
        args = [
            params[name] if bind is None else bind(params[name]) for name, bind in self._binders
        ]
        raw = await conn.get_raw_connection()
        # SQLAlchemy's asyncpg adapter runs one statement at a time per connection under
        # this lock (GraphQL resolvers share a request's session concurrently): take it too.
        mutex = getattr(raw.dbapi_connection, "_execute_mutex", None)
        if mutex is None or raw.driver_connection is None:
            return list((await conn.execute(self.statement, values)).all())
        try:
            async with mutex:
                records = await raw.driver_connection.fetch(self.sql, *args)
        except Exception:
            # SQLAlchemy reports, wraps and handles the failure as it always has.
            return list((await conn.execute(self.statement, values)).all())
        return self._make(records)

    def _make(self, records: Sequence[Any]) -> list[Any]:
        make = self._row
        processors = self._processors
        if processors is None:
            return [make(r) for r in records]
        return [
            make(v if p is None else p(v) for p, v in zip(processors, r, strict=True))
            for r in records
        ]

"""Engine, session factory and the per-request unit of work."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import CursorResult, Result, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings
from app.db.phi import bind_keyring
from app.phi.crypto import keyring_for


def rowcount(result: Result[Any]) -> int:
    """The rows an INSERT/UPDATE/DELETE matched: its result is a CursorResult, which
    SQLAlchemy's `Session.execute` signature does not say."""
    assert isinstance(result, CursorResult)
    return result.rowcount


async def driver_connection(conn: AsyncConnection) -> Any:
    """The DBAPI driver's own connection under `conn` (asyncpg's, on PostgreSQL): for the
    few hot statements sent without SQLAlchemy's statement machinery."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # None only for a connection already closed
    return driver


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine for DATABASE_URL whose PHI columns use the settings' keyring."""
    engine = _create_engine(settings)
    bind_keyring(engine, lambda: keyring_for(settings))
    return engine


def _create_engine(settings: Settings) -> AsyncEngine:
    """SQLite gets foreign keys, WAL and a busy timeout."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: SQL errors and echo never print bound values (they may be PHI).
        engine = create_async_engine(
            url, echo=settings.db_echo, hide_parameters=True, connect_args={"timeout": 30}
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Freed content is zeroed, so a purged value leaves no bytes behind in the file.
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(
        url,
        echo=settings.db_echo,
        hide_parameters=True,
        # JSON columns (criteria, labels, audit ids) decode on every list read; orjson is
        # several times faster than the stdlib and returns the same structures.
        json_deserializer=orjson.loads,
        # A fixed pool: overflow connections are closed as soon as they are returned, so
        # under sustained load above pool_size nearly every request would open a new
        # PostgreSQL backend (a fork plus auth). Requests beyond the pool wait for one.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        # No pre-ping (a round trip on every checkout, ~10% of a list request): a connection
        # found dead when used invalidates the whole pool, so after a database restart one
        # request fails (503, nothing half-written) and the following ones reconnect.
        pool_pre_ping=False,
        # No JIT: PostgreSQL compiles a plan whose estimated cost passes jit_above_cost on
        # every execution (~20-40 ms), and the nested-page statements of a large table pass
        # it while running in ~1 ms. An OLTP service never wins that trade.
        connect_args={"server_settings": {"jit": "off"}},
    )


def create_sessionmaker(
    engine: AsyncEngine, *, numbers: AsyncEngine | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests and commands; with `numbers` (`create_numbers_engine`), their
    story numbers are taken in short transactions of their own (`session.info["numbers"]`)."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info={"numbers": numbers}
    )


def create_numbers_engine(engine: AsyncEngine) -> AsyncEngine | None:
    """PostgreSQL: a small pool of its own for taking story numbers outside the request's
    transaction (`ProductRepository.next_story_number`): one autocommitted statement each,
    that waits only for the same statement of other requests, never for a request, so two
    connections serve any number of writers and the requests' pool cannot starve it. Its
    commits do not wait for a WAL flush: a story's own commit flushes the WAL before it,
    counter included, so a number in a committed story is never handed out again. SQLite
    (one writer at a time) takes numbers in the request's transaction: None."""
    if engine.dialect.name != "postgresql":
        return None
    numbers = create_async_engine(
        engine.url,
        hide_parameters=True,
        pool_size=2,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "server_settings": {
                "jit": "off",
                "synchronous_commit": "off",
                "application_name": "rounds-numbers",
            }
        },
    )

    # Closed with the engine it serves (in its dispose, which runs where this may await).
    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose_numbers(_engine: Any) -> None:
        numbers.sync_engine.dispose()

    return numbers


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read (GET/HEAD). On PostgreSQL their connection is in
    autocommit mode: no BEGIN/COMMIT round trips, each statement commits when it returns, so
    the request's audit event is durable before the response starts. Under READ COMMITTED a
    transaction already gives every statement its own snapshot, so a read sees nothing it
    would not see in one. Sound only because GET handlers never write (tested in
    tests/api/test_read_only.py). SQLite keeps the transactional sessions."""
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
        info={_ENGINE: engine, _AUTOCOMMIT: True},
    )


_ENGINE = "rounds.transactional_engine"
_AUTOCOMMIT = "rounds.autocommit"


def is_autocommit(maker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether `maker` makes autocommit sessions (create_read_sessionmaker on PostgreSQL)."""
    return bool(maker.kw.get("info", {}).get(_AUTOCOMMIT))


def is_autocommit_session(session: AsyncSession) -> bool:
    """Whether `session` reads in autocommit (a GET's, or a GraphQL query's once switched by
    `UnitOfWork.read_only`): each statement commits as it runs, no transaction to open."""
    return bool(session.info.get(_AUTOCOMMIT))


def transactional_engine(session: AsyncSession) -> AsyncEngine:
    """The engine of `session` in transactional mode (for an autocommit read session, the
    same pool without autocommit): for work started from a GET that needs a transaction of
    its own, like the audit sealer's lock or a server-side cursor."""
    engine = session.info.get(_ENGINE) or session.bind
    assert isinstance(engine, AsyncEngine)
    return engine


class UnitOfWork:
    """One request's transaction: opened lazily, committed or rolled back by the audit
    middleware when the response starts, so the data change and its audit event land in
    the same transaction and nothing is answered before its event is durable."""

    __slots__ = ("_maker", "_session", "autocommit")

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker
        self._session: AsyncSession | None = None
        # True when every statement commits as it runs (the autocommit read session): the
        # request then has nothing to commit together with its audit event, which may go
        # alone (group commit). Whoever switches a request to such a session sets it.
        self.autocommit = is_autocommit(maker)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._maker()
        return self._session

    @property
    def started(self) -> bool:
        return self._session is not None

    @property
    def pending(self) -> bool:
        """The session holds ORM changes not yet flushed to the database."""
        s = self._session
        return s is not None and bool(s.new or s.dirty or s.deleted)

    def read_only(self, maker: async_sessionmaker[AsyncSession]) -> bool:
        """Run the rest of a request that turned out to only read (a GraphQL query, known
        once its document is parsed) like a GET: in the autocommit sessions of `maker`
        (create_read_sessionmaker). Only before it has used the database; a request that
        already has (a service account's revocation check) keeps its transaction. The
        session object stays the same (services hold it): what changes is the engine it
        will connect with. Returns whether the request now reads in autocommit."""
        if self.autocommit or not is_autocommit(maker):
            return self.autocommit
        session = self._session
        if session is None:
            self._maker = maker
        elif session.in_transaction() or self.pending:
            return False
        else:
            session.sync_session.bind = maker.kw["bind"].sync_engine
            session.sync_session.info.update(maker.kw.get("info") or {})
        self.autocommit = True
        return True

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

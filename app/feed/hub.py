"""Fan-out of committed change events inside one process: live GraphQL subscribers and the
delivery worker's wake-up.

PostgreSQL: a trigger on `feed_event` sends each committed row with NOTIFY (`rounds_feed`,
delivered at commit, to every listening process); the hub LISTENs on a dedicated asyncpg
connection (add_listener) and reconnects when it drops. SQLite (one process): the session
that wrote events pokes the hubs after its commit, and the hub reads the new rows by seq
(SQLite serializes writers, so seq order is commit order)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.feed.events import public
from app.feed.repository import OutboxRepository

log = logging.getLogger("rounds.feed")
CHANNEL = "rounds_feed"
QUEUE_SIZE = 1000

_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("feed_written", False):
        for hub in list(_HUBS):
            hub.poke()


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("feed_written", None)


def _row(e: Any) -> dict[str, Any]:
    return {
        c: getattr(e, c)
        for c in (
            "id",
            "type",
            "occurred_at",
            "product_id",
            "resource_type",
            "resource_id",
            "version",
            "changed_fields",
            "actor_sub",
        )
    }


class Hub:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.maker = async_sessionmaker(engine, expire_on_commit=False)
        self.subscribers: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.wake = asyncio.Event()  # the worker waits on this
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_seq = 0
        self._poked = asyncio.Event()
        self._stopping = False
        self._fetches: set[asyncio.Future[None]] = set()
        self._own_engine: AsyncEngine | None = None

    # -- subscribers -------------------------------------------------------------------------

    def subscribe(self, product_id: uuid.UUID) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.setdefault(product_id, set()).add(queue)
        return queue

    def unsubscribe(self, product_id: uuid.UUID, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self.subscribers.get(product_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[product_id]

    def publish(self, event: dict[str, Any]) -> None:
        """Hand a committed event (public shape) to the subscribers of its product."""
        self.wake.set()
        pid = event.get("product_id")
        if pid is None:
            return
        for queue in list(self.subscribers.get(uuid.UUID(pid), ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled client loses events, not the process
                log.warning("live subscriber queue full; event dropped")

    # -- lifecycle ---------------------------------------------------------------------------

    async def ensure_started(self) -> None:
        """Start once, on first use (the app's lifespan, or the first live subscriber when
        the lifespan does not run, as under httpx.ASGITransport)."""
        if self._loop is None:
            await self.start()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.pg:
            self._task = asyncio.create_task(self._listen())
        else:
            # Its own connection: the hub's reads never take one from requests' pool.
            self._own_engine = create_async_engine(
                self.engine.url, poolclass=NullPool, connect_args={"timeout": 30}
            )
            self.maker = async_sessionmaker(self._own_engine, expire_on_commit=False)
            async with self.maker() as session:
                self._last_seq = await OutboxRepository(session).last_seq()
            _HUBS.add(self)
            self._task = asyncio.create_task(self._read_loop())

    async def stop(self) -> None:
        self._loop = None
        self._stopping = True
        _HUBS.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._own_engine is not None:
            await self._own_engine.dispose()
            self._own_engine = None

    def poke(self) -> None:
        """Called after a commit that wrote events (any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._poked.set)

    # -- SQLite: read new rows when poked ----------------------------------------------------

    async def _read_loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):  # a fallback: commits poke the hub
                    await self._poked.wait()
            self._poked.clear()
            self.wake.set()
            try:
                async with self.maker() as session:
                    rows = await OutboxRepository(session).events_after(self._last_seq)
            except Exception as exc:
                log.error("feed hub read failed: %s", type(exc).__name__)
                continue
            for row in rows:
                self._last_seq = max(self._last_seq, row.seq)
                self.publish(public(_row(row)))

    # -- PostgreSQL: LISTEN ------------------------------------------------------------------

    async def _listen(self) -> None:
        import asyncpg

        url = make_url(self.engine.url)
        while not self._stopping:
            conn = None
            try:
                conn = await asyncpg.connect(
                    host=url.host,
                    port=url.port or 5432,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.wake.set()  # catch up on what was committed while not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("feed listener failed: %s", type(exc).__name__)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(1.0)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            row = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if "type" not in row:  # too large for NOTIFY: only the id was sent
            task = asyncio.ensure_future(self._fetch(row.get("id")))
            self._fetches.add(task)
            task.add_done_callback(self._fetches.discard)
            return
        self.publish(public(row))

    async def _fetch(self, event_id: str | None) -> None:
        if not event_id:
            return
        async with self.maker() as session:
            rows = await OutboxRepository(session).events_by_id([uuid.UUID(event_id)])
        for row in rows:
            self.publish(public(_row(row)))

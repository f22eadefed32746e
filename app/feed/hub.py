"""Fan-out of committed change events inside one process: live GraphQL subscribers and the
delivery worker's wake-up.

PostgreSQL: after a transaction that wrote events commits, its process hands them to its own
subscribers and worker at once, and NOTIFYs them (`rounds_feed`, JSON arrays of events,
coalesced, outside the request's transaction: a NOTIFY inside it would hold PostgreSQL's notify
lock through every writer's commit and serialize them) to the other processes. The hub sends
on a dedicated asyncpg connection and reconnects when it drops. It LISTENs on that connection
only from the moment its process has someone to tell (the first live subscriber, or a delivery
worker): a process that only serves requests pays nothing for the other processes' writes.
It ignores its own notifications (already handed out). Live updates are at most once (a
process that dies between commit and NOTIFY loses that notification); webhook delivery never
depends on them (the worker reads the outbox table).

SQLite (one process): the session that wrote events pokes the hubs after its commit, and the
hub reads the new rows by seq (SQLite serializes writers, so seq order is commit order)."""

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

from app.feed.events import public_of
from app.feed.repository import OutboxRepository

log = logging.getLogger("rounds.feed")
CHANNEL = "rounds_feed"
QUEUE_SIZE = 1000
LISTEN_WAIT = 5.0  # seconds a new subscriber waits for the LISTEN to be in place
# After a NOTIFY, the next one waits this long (Settings.feed_notify_every_seconds) and
# carries everything committed meanwhile: each NOTIFY is a transaction of its own on the
# database, and under a stream of writes one per write cost the writes about as much as the
# outbox row itself (bench/README.md, outbox). A quiet process's first event still goes out at
# once; other processes' live subscribers hear of a busy period's events up to this later.
NOTIFY_EVERY = 0.05

_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    events = session.info.pop("feed_events", None)
    if not session.info.pop("feed_written", False):
        return
    bind = session.bind
    engine = getattr(bind, "engine", bind)
    for hub in list(_HUBS):
        if not hub.pg:
            hub.poke()
        elif events and hub.engine.sync_engine is engine:
            hub.notify_soon(events)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("feed_written", None)
    session.info.pop("feed_events", None)


MAX_PAYLOAD = 7900  # NOTIFY payloads stop at 8000 bytes


def _payloads(events: list[dict[str, Any]]) -> list[str]:
    """JSON arrays of events, each under the NOTIFY size limit."""
    out: list[str] = []
    chunk: list[str] = []
    size = 2
    for event in events:
        text = orjson.dumps(event).decode()
        if len(text) > MAX_PAYLOAD:
            text = orjson.dumps({"id": event["id"]}).decode()
        if chunk and size + len(text) + 1 > MAX_PAYLOAD:
            out.append("[" + ",".join(chunk) + "]")
            chunk, size = [], 2
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        out.append("[" + ",".join(chunk) + "]")
    return out


class Hub:
    def __init__(self, engine: AsyncEngine, *, notify_every: float = NOTIFY_EVERY) -> None:
        self.engine = engine
        self.notify_every = notify_every
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
        self._conn: Any = None  # PostgreSQL: the NOTIFY connection, LISTENing when wanted
        self._wants_listen = False
        self._listening = asyncio.Event()
        self._conn_busy = asyncio.Lock()  # asyncpg runs one operation at a time
        self._outgoing: list[dict[str, Any]] = []
        self._outgoing_ready = asyncio.Event()
        self._notifier: asyncio.Task[None] | None = None
        _HUBS.add(self)

    # -- subscribers -------------------------------------------------------------------------

    def subscribe(self, product_id: uuid.UUID) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.setdefault(product_id, set()).add(queue)
        self.want_other_processes()
        return queue

    def want_other_processes(self) -> None:
        """From now on, hear the events other processes commit (PostgreSQL: LISTEN). Called
        by the first live subscriber and by a delivery worker; a process that only serves
        requests never listens."""
        if self.pg and not self._wants_listen:
            self._wants_listen = True
            if self._conn is not None and not self._conn.is_closed():
                task = asyncio.ensure_future(self._listen_on(self._conn))
                self._fetches.add(task)
                task.add_done_callback(self._fetches.discard)

    @property
    def hears_others(self) -> bool:
        """PostgreSQL: whether the hub currently LISTENs for other processes' events."""
        return self._listening.is_set()

    async def listening(self) -> None:
        """Wait until the hub hears other processes (PostgreSQL), at most LISTEN_WAIT s."""
        if self.pg and self._wants_listen:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LISTEN_WAIT):
                    await self._listening.wait()

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
            self._notifier = asyncio.create_task(self._notify_loop())
        else:
            # Its own connection: the hub's reads never take one from requests' pool.
            self._own_engine = create_async_engine(
                self.engine.url, poolclass=NullPool, connect_args={"timeout": 30}
            )
            self.maker = async_sessionmaker(self._own_engine, expire_on_commit=False)
            async with self.maker() as session:
                self._last_seq = await OutboxRepository(session).last_seq()
            self._task = asyncio.create_task(self._read_loop())

    async def stop(self) -> None:
        self._loop = None
        self._stopping = True
        _HUBS.discard(self)
        for task in (self._task, self._notifier):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._notifier = None
        if self._own_engine is not None:
            await self._own_engine.dispose()
            self._own_engine = None

    def notify_soon(self, events: list[dict[str, Any]]) -> None:
        """PostgreSQL: queue committed events for NOTIFY (called after a commit, any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            here = asyncio.get_running_loop() is loop
        except RuntimeError:
            here = False
        if here:  # the usual case: the commit ran on the hub's loop
            self._queue(events)
        else:
            loop.call_soon_threadsafe(self._queue, events)

    def _queue(self, events: list[dict[str, Any]]) -> None:
        for event in events:  # this process's own subscribers and worker: no round trip
            self.publish(event)
        self._outgoing.extend(events)
        self._outgoing_ready.set()

    async def _notify_loop(self) -> None:
        while not self._stopping:
            await self._outgoing_ready.wait()
            self._outgoing_ready.clear()
            batch, self._outgoing = self._outgoing, []
            for payload in _payloads(batch):
                try:
                    if self._conn is None or self._conn.is_closed():
                        raise ConnectionError("no listener connection")
                    async with self._conn_busy:
                        await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                except Exception as exc:
                    log.error("feed notify failed: %s", type(exc).__name__)
            await asyncio.sleep(self.notify_every)

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
                self.publish(public_of(row))

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
                    # A NOTIFY commits a transaction of its own (it takes an xid), which by
                    # default waits for a WAL flush: a second fsync for every write's events.
                    # Not needed: notifications are not durable in PostgreSQL anyway, and each
                    # one announces events whose own transaction has already committed.
                    server_settings={
                        "synchronous_commit": "off",
                        "application_name": "rounds-feed",
                    },
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                if self._wants_listen:
                    await self._add_listener(conn)
                self._conn = conn
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("feed listener failed: %s", type(exc).__name__)
            finally:
                self._listening.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(1.0)

    async def _listen_on(self, conn: Any) -> None:
        """LISTEN on the live connection; on failure drop it, and `_listen` reconnects."""
        try:
            await self._add_listener(conn)
        except Exception as exc:
            log.error("feed listener failed: %s", type(exc).__name__)
            with contextlib.suppress(Exception):
                conn.terminate()

    async def _add_listener(self, conn: Any) -> None:
        async with self._conn_busy:
            if self._listening.is_set():
                return
            await conn.add_listener(CHANNEL, self._on_notify)
            self._listening.set()
        self.wake.set()  # catch up on what was committed while not listening

    def _on_notify(self, conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == conn.get_server_pid():
            return  # this process's own events, handed out when they were queued
        try:
            events = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        for event in events if isinstance(events, list) else [events]:
            if "type" not in event:  # too large for NOTIFY: only the id was sent
                task = asyncio.ensure_future(self._fetch(event.get("id")))
                self._fetches.add(task)
                task.add_done_callback(self._fetches.discard)
            else:
                self.publish(event)

    async def _fetch(self, event_id: str | None) -> None:
        if not event_id:
            return
        async with self.maker() as session:
            rows = await OutboxRepository(session).events_by_id([uuid.UUID(event_id)])
        for row in rows:
            self.publish(public_of(row))

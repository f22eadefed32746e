"""Group commit of audit events that commit on their own (PostgreSQL).

The event of a read (autocommit session) or of a failed request (its work rolled back) has
nothing to commit with; written alone, each one pays a round trip, statement overhead and a
WAL flush. Here concurrent ones share all three: a request queues its event and waits; one
flush at a time takes everything queued, writes it in one transaction on one pool connection
and then wakes each waiter. There is no artificial delay: a batch is whatever queued while
the previous flush was in flight (one event when the service is idle).

A waiter returns only once its event is committed, and gets the exception when it could not
be written (the middleware then answers 503, as for an event written on the request's own
connection). A failed batch is retried event by event, each in its own transaction, so one
event the database refuses fails only its own request. Events of successful writes never
come here: they must commit in the transaction of their change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.writer import insert_pg, pg_args
from app.db.session import driver_connection

log = logging.getLogger("rounds.audit")

# Bounds one flush's statement and the latency of the waiters at its head; the queue itself
# is bounded by the requests in flight.
MAX_BATCH = 500
DRAIN_TIMEOUT = 30.0

_Item = tuple[list[Any], asyncio.Future[None]]


class EventBatcher:
    """Writes queued audit events in shared transactions, one flush at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._queue: list[_Item] = []
        self._task: asyncio.Task[None] | None = None
        # Counters (for tests and benchmarks): flushes run, events committed, largest flush,
        # flushes that failed and were retried event by event.
        self.batches = 0
        self.events = 0
        self.largest = 0
        self.retried = 0
        # Metrics hook (app/ops): called with the size of every committed flush.
        self.on_batch: Callable[[int], None] | None = None

    @property
    def queued(self) -> int:
        """Events waiting for the next flush."""
        return len(self._queue)

    @property
    def flushing(self) -> bool:
        """A flush task is running (or about to)."""
        return self._task is not None

    async def append(self, values: dict[str, Any]) -> None:
        """Queue one event (`event_values(...)`) and return once it is committed; raises
        when it could not be written."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((pg_args(values), fut))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-batcher")
        # Shielded: a request cancelled here (client gone) must not cancel the future that
        # the flush resolves; its event is written all the same.
        await asyncio.shield(fut)

    async def append_all(self, rows: list[dict[str, Any]]) -> None:
        """Queue several events of one request (`event_rows(...)`) into the same flush and
        return once all are committed; raises when one could not be written."""
        if len(rows) == 1:
            await self.append(rows[0])
            return
        loop = asyncio.get_running_loop()
        futs: list[asyncio.Future[None]] = []
        for values in rows:
            fut: asyncio.Future[None] = loop.create_future()
            self._queue.append((pg_args(values), fut))
            futs.append(fut)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-batcher")
        await asyncio.shield(asyncio.gather(*futs))

    async def drain(self, grace: float = DRAIN_TIMEOUT) -> None:
        """Wait until every queued event is written (shutdown, before the engine goes)."""
        task = self._task
        while task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
            except TimeoutError:
                # The database hangs: fail the waiters (their requests answer 503) rather
                # than keep the process from stopping.
                log.error("audit batcher did not drain in %.0f s", grace)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return
            task = self._task

    async def _run(self) -> None:
        """Flush until the queue is empty; a new append then starts a new task."""
        batch: list[_Item] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    await self._flush(batch)
                except Exception as exc:
                    # No connection (database down, pool timeout): these waiters fail, the
                    # next batch tries again.
                    log.error("audit batch not written: %s", type(exc).__name__)
                    _fail(batch, exc)
        except BaseException:
            # Cancelled (drain timed out): nobody may wait forever.
            queued, self._queue = batch + self._queue, []
            _fail(queued, RuntimeError("audit batch cancelled"))
            raise
        finally:
            # No await between the empty-queue check and here, so no append is stranded.
            self._task = None

    async def _flush(self, batch: list[_Item]) -> None:
        """Write `batch` in one transaction, or each event alone if that fails."""
        async with self.engine.connect() as conn:
            driver = await driver_connection(conn)
            try:
                await _insert_many(driver, [args for args, _ in batch])
            except Exception as exc:
                log.warning("audit batch of %d failed: %s", len(batch), type(exc).__name__)
                self.retried += 1
                if driver.is_closed():
                    # A dead connection fails every retry: drop it and take another.
                    await conn.invalidate()
                    async with self.engine.connect() as fresh:
                        driver = await driver_connection(fresh)
                        await self._one_by_one(driver, batch)
                else:
                    await self._one_by_one(driver, batch)
                return
            self._record(len(batch))
            for _, fut in batch:
                _resolve(fut, None)

    async def _one_by_one(self, driver: Any, batch: list[_Item]) -> None:
        """Each event in its own transaction; each waiter gets its own outcome."""
        for args, fut in batch:
            try:
                await _insert_many(driver, [args])
            except Exception as exc:
                # Type only: driver messages may quote the event's values.
                log.error("audit event not written: %s", type(exc).__name__)
                _resolve(fut, exc)
            else:
                self._record(1)
                _resolve(fut, None)

    def _record(self, n: int) -> None:
        self.batches += 1
        self.events += n
        self.largest = max(self.largest, n)
        if self.on_batch is not None:
            self.on_batch(n)


async def _insert_many(driver: Any, rows: list[list[Any]]) -> None:
    """Insert `rows` in one transaction, committed (durable) when this returns.

    asyncpg's executemany sends every Bind/Execute and then a single Sync; outside an
    explicit transaction PostgreSQL runs them as one implicit transaction that commits at
    that Sync, and asyncpg rolls it back when encoding an argument fails midway (documented
    as atomic since asyncpg 0.22; see `_bind_execute_many_fail` in its coreproto.pyx). So it
    is all or nothing in one round trip, without BEGIN and COMMIT round trips of their own.
    The connection comes straight from the pool (SQLAlchemy's adapter opens a transaction
    only when it runs a statement itself); inside a transaction nothing would commit here."""
    if driver.is_in_transaction():
        raise RuntimeError("audit batch connection is inside a transaction")
    await insert_pg(driver, rows)


def _resolve(fut: asyncio.Future[None], exc: BaseException | None) -> None:
    if fut.done():  # pragma: no cover - futures are shielded; kept for safety
        return
    if exc is None:
        fut.set_result(None)
    else:
        fut.set_exception(exc)


def _fail(batch: list[_Item], exc: BaseException) -> None:
    for _, fut in batch:
        _resolve(fut, exc)


def create_batcher(engine: AsyncEngine, *, enabled: bool) -> EventBatcher | None:
    """A batcher for PostgreSQL engines when group commit is on; None keeps the event on the
    request's own connection (SQLite: one writer at a time, nothing to group)."""
    if not enabled or engine.dialect.name != "postgresql":
        return None
    return EventBatcher(engine)


@contextlib.asynccontextmanager
async def running_batcher(batcher: EventBatcher | None) -> AsyncIterator[None]:
    """For the app's lifespan: flushes start on demand; on the way out, drain the queue."""
    try:
        yield
    finally:
        if batcher is not None:
            await batcher.drain()

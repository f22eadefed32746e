"""The sealer: gives committed audit events their place in the hash chain, off the request path.

Request transactions only INSERT into audit_event (a trigger queues the id in audit_pending),
so writers never wait on each other or on the chain. The sealer, in its own short
transaction, takes the one cluster-wide sealer lock (PostgreSQL advisory transaction lock;
SQLite's write lock), reads the chain tail and a batch of queued events in a stable order,
appends their chain rows and dequeues them. Correctness does not depend on the lock alone:
audit_chain.seq is the primary key and event_id is unique, so a second sealer working from a
stale tail fails on insert and rolls back instead of forking the chain.

It runs every SEAL_INTERVAL seconds as a background task of each app process (only one of
them seals at a time; the others find the lock taken and skip), and on demand before the
compliance endpoints answer so their results are current.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit import repository
from app.audit.chain import GENESIS, link_hash
from app.audit.checkpoint import Checkpoints
from app.db.types import utcnow

log = logging.getLogger("rounds.audit")

SEAL_BATCH = 1000
SEAL_INTERVAL = 0.5


async def seal(engine: AsyncEngine, *, wait: bool = False, batch: int = SEAL_BATCH) -> int:
    """Chain up to `batch` queued events in one transaction; returns how many were handled
    (0 when nothing is queued or, with wait=False, another sealer holds the lock)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        # Cheap look before taking any lock, so idle ticks never contend with writers.
        if not await repository.pending_exists(session):
            await session.rollback()
            return 0
        await session.rollback()
        async with session.begin():
            if not await repository.take_sealer_lock(session, wait=wait):
                return 0
            rows = await repository.pending_batch(session, batch)
            if not rows:
                return 0
            tail = await repository.chain_tail(session)
            seq, prev = tail if tail else (0, GENESIS)
            now = utcnow()
            links: list[dict[str, Any]] = []
            for row in rows:
                m = row._mapping
                if m["chained_seq"] is not None:
                    continue  # chained by an earlier seal; only its queue entry is left
                seq += 1
                digest = link_hash(prev, m)
                links.append(
                    {
                        "seq": seq,
                        "event_id": m["id"],
                        "prev_hash": prev,
                        "hash": digest,
                        "sealed_at": now,
                    }
                )
                prev = digest
            await repository.append_chain(session, links)
            await repository.dequeue(session, [row.id for row in rows])
        return len(rows)


async def seal_all(engine: AsyncEngine, *, wait: bool = False, max_batches: int = 1000) -> int:
    """Seal until the queue is empty (or the lock is busy with wait=False)."""
    total = 0
    for _ in range(max_batches):
        n = await seal(engine, wait=wait)
        total += n
        if n < SEAL_BATCH:
            break
    return total


async def checkpoint_head(engine: AsyncEngine, checkpoints: Checkpoints) -> bool:
    """Write a signed checkpoint of the chain head, unless the chain no longer agrees with
    the latest checkpoint (then it is left as evidence for verify, and an error logged)."""
    async with AsyncSession(engine) as session:
        tail = await repository.chain_tail(session)
        if tail is None:
            return False
        latest = await asyncio.to_thread(checkpoints.latest)
        if latest is not None:
            at = await repository.chain_hash_at(session, latest.seq)
            if at != latest.hash:
                log.error(
                    "audit chain disagrees with checkpoint seq %d; run audit verify", latest.seq
                )
                return False
    # RSA signing and a file write: off the event loop.
    return await asyncio.to_thread(checkpoints.write, *tail) is not None


async def run_sealer(
    engine: AsyncEngine,
    stop: asyncio.Event,
    *,
    interval: float = SEAL_INTERVAL,
    checkpoints: Checkpoints | None = None,
    observer: SealerObserver | None = None,
) -> None:
    """Seal every `interval` seconds until `stop` is set; errors are logged and retried.
    With `checkpoints`, the chain head is checkpointed every AUDIT_CHECKPOINT_SECONDS."""
    while not stop.is_set():
        try:
            sealed = await seal_all(engine)
            if checkpoints is not None and checkpoints.due():
                await checkpoint_head(engine, checkpoints)
            if observer is not None:
                observer.sealed(sealed)
        except Exception as exc:
            # Type only: driver messages may quote row values.
            log.warning("audit sealer pass failed: %s", type(exc).__name__)
            if observer is not None:
                observer.failed()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


class SealerObserver(Protocol):
    """Metrics hook (app/ops): told after every pass."""

    def sealed(self, n: int) -> None: ...

    def failed(self) -> None: ...


@contextlib.asynccontextmanager
async def background_sealer(
    engine: AsyncEngine,
    *,
    enabled: bool = True,
    checkpoints: Checkpoints | None = None,
    observer: SealerObserver | None = None,
) -> AsyncIterator[None]:
    """Run the sealer for the lifetime of the app (the lifespan enters this)."""
    if not enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_sealer(engine, stop, checkpoints=checkpoints, observer=observer), name="audit-sealer"
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

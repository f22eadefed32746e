"""All SQL of the audit trail: the chain (sealer, verify), the compliance queries, export."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    Uuid,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditChain, AuditEvent, AuditPending
from app.audit.schemas import AuditFilters
from app.core.pagination import Page, SortSpec, apply_keyset, make_page
from app.core.repository import ListQuery

# One sealer per database at a time, cluster-wide (all workers and instances).
SEALER_LOCK_KEY = 0x526F756E6473  # "Rounds"

event_t = AuditEvent.__table__
chain_t = AuditChain.__table__
pending_t = AuditPending.__table__

SORTABLE = {"occurred_at": AuditEvent.occurred_at}
DEFAULT_SORT = "-occurred_at"


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --- sealer -------------------------------------------------------------------------------


async def pending_exists(session: AsyncSession) -> bool:
    return (await session.scalar(select(exists().select_from(pending_t)))) is True


async def take_sealer_lock(session: AsyncSession, *, wait: bool) -> bool:
    """Begin the sealer's transaction holding the one sealer lock; False if it is taken.

    PostgreSQL: a transaction-scoped advisory lock (released at commit/rollback).
    SQLite: BEGIN IMMEDIATE takes the database's write lock up front, so the chain tail
    read below cannot go stale before the append (waits up to the busy timeout)."""
    if _dialect(session) == "postgresql":
        fn = func.pg_advisory_xact_lock if wait else func.pg_try_advisory_xact_lock
        got = await session.scalar(select(fn(SEALER_LOCK_KEY)))
        return got is not False
    if wait:
        await session.execute(text("BEGIN IMMEDIATE"))
        return True
    # Not waiting matters when the caller's own request transaction may hold the write lock.
    timeout = await session.scalar(text("PRAGMA busy_timeout"))
    await session.execute(text("PRAGMA busy_timeout = 0"))
    try:
        await session.execute(text("BEGIN IMMEDIATE"))
        return True
    except OperationalError:
        return False
    finally:
        await session.execute(text(f"PRAGMA busy_timeout = {int(timeout or 0)}"))


async def chain_tail(session: AsyncSession) -> tuple[int, str] | None:
    row = (
        await session.execute(
            select(chain_t.c.seq, chain_t.c.hash).order_by(chain_t.c.seq.desc()).limit(1)
        )
    ).first()
    return (row.seq, row.hash) if row else None


async def chain_hash_at(session: AsyncSession, seq: int) -> str | None:
    """The hash of the chain row at `seq` (None when there is none)."""
    return await session.scalar(select(chain_t.c.hash).where(chain_t.c.seq == seq))


async def pending_batch(session: AsyncSession, limit: int) -> Sequence[Row]:
    """Up to `limit` queued events in a stable order (uuid7 ids are time-ordered), each with
    the seq it already has if a previous seal chained it (then it only needs dequeuing)."""
    stmt = (
        select(*event_t.c, chain_t.c.seq.label("chained_seq"))
        .select_from(pending_t)
        .join(event_t, event_t.c.id == pending_t.c.event_id)
        .outerjoin(chain_t, chain_t.c.event_id == pending_t.c.event_id)
        .order_by(pending_t.c.event_id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def append_chain(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(chain_t), rows)


async def dequeue(session: AsyncSession, event_ids: list[uuid.UUID]) -> None:
    if not event_ids:
        return
    if _dialect(session) == "postgresql":
        # `= ANY(array)`: one statement text whatever the batch size, where an IN list of n
        # parameters is a new prepared statement for every n.
        ids = bindparam("ids", event_ids, type_=ARRAY(Uuid()))
        await session.execute(delete(pending_t).where(pending_t.c.event_id == any_(ids)))
    else:
        await session.execute(delete(pending_t).where(pending_t.c.event_id.in_(event_ids)))


# --- verify -------------------------------------------------------------------------------


async def chain_slice(session: AsyncSession, *, after_seq: int, limit: int) -> Sequence[Row]:
    """Chain rows after `after_seq` in seq order, each with its event's columns (NULL when
    the event row is gone)."""
    stmt = (
        select(chain_t.c.seq, chain_t.c.prev_hash, chain_t.c.hash, *event_t.c)
        .select_from(chain_t)
        .outerjoin(event_t, event_t.c.id == chain_t.c.event_id)
        .where(chain_t.c.seq > after_seq)
        .order_by(chain_t.c.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def unchained_unqueued_exists(session: AsyncSession) -> bool:
    """An event that is neither in the chain nor waiting for it: its chain row was removed."""
    stmt = select(
        exists()
        .select_from(event_t)
        .where(
            ~exists().where(chain_t.c.event_id == event_t.c.id),
            ~exists().where(pending_t.c.event_id == event_t.c.id),
        )
    )
    return (await session.scalar(stmt)) is True


# --- compliance queries -------------------------------------------------------------------


def events_with_chain(filters: AuditFilters, dialect: str) -> Select:
    """Events (all columns) with their chain position, filtered; seq/hash NULL while pending."""
    stmt = select(*event_t.c, chain_t.c.seq, chain_t.c.prev_hash, chain_t.c.hash).outerjoin(
        chain_t, chain_t.c.event_id == event_t.c.id
    )
    for name in ("actor_sub", "resource_type", "action", "outcome"):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(event_t.c[name] == value)
    if filters.since is not None:
        stmt = stmt.where(event_t.c.occurred_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(event_t.c.occurred_at < filters.until)
    if filters.resource_id is not None:
        rid = str(filters.resource_id)
        if dialect == "postgresql":
            # Matches the GIN index ix_audit_event_resource_ids.
            stmt = stmt.where(cast(event_t.c.resource_ids, JSONB).contains([rid]))
        else:
            each = func.json_each(event_t.c.resource_ids).table_valued("value")
            stmt = stmt.where(exists(select(literal_column("1")).where(each.c.value == rid)))
    return stmt


async def list_events(session: AsyncSession, filters: AuditFilters, query: ListQuery) -> Page[Row]:
    sort = SortSpec.parse(query.sort, SORTABLE, DEFAULT_SORT)
    stmt = apply_keyset(
        events_with_chain(filters, _dialect(session)),
        column=SORTABLE[sort.field],
        id_column=AuditEvent.id,
        sort=sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    rows = list((await session.execute(stmt)).all())
    return make_page(rows, sort=sort, limit=query.limit, sort_attr=sort.field)


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> Row | None:
    stmt = events_with_chain(AuditFilters(), _dialect(session)).where(event_t.c.id == event_id)
    return (await session.execute(stmt)).first()


def export_statement(filters: AuditFilters, dialect: str) -> Select:
    """The export in chain order (pending events last, by id)."""
    return events_with_chain(filters, dialect).order_by(
        chain_t.c.seq.asc().nulls_last(), event_t.c.id
    )

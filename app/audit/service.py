"""Audit-trail use cases for compliance officers: list, read, verify, export (FHIR NDJSON).

Each one seals queued events first (in the sealer's own transaction), so what it answers
includes everything committed before the call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit import repository
from app.audit.chain import VerifyResult, verify_with_head
from app.audit.checkpoint import Checkpoints
from app.audit.fhir import ndjson_line
from app.audit.schemas import AuditFilters
from app.audit.sealer import seal_all
from app.authz import Permission, authorize
from app.core.context import Ctx
from app.core.pagination import Page
from app.core.repository import ListQuery
from app.db.session import transactional_engine

EXPORT_BATCH = 500


def _engine(ctx: Ctx) -> AsyncEngine:
    # The request session's engine (the sealer and the export use their own connections,
    # with transactions even when the request's session is an autocommit read).
    return transactional_engine(ctx.session)


async def list_events(ctx: Ctx, filters: AuditFilters, query: ListQuery) -> Page[Row]:
    """Audit events, newest first, filtered and keyset-paginated."""
    authorize(ctx.principal, Permission.audit_read)
    # Do not wait for a sealer that is already running: at worst a few rows show seq null.
    await seal_all(_engine(ctx), wait=False)
    page = await repository.list_events(ctx.session, filters, query)
    ctx.audit.touch("search", "audit_event", [row.id for row in page.items])
    return page


async def get_event(ctx: Ctx, event_id: uuid.UUID) -> Row:
    """One audit event with its chain position."""
    authorize(ctx.principal, Permission.audit_read)
    await seal_all(_engine(ctx), wait=False)
    row = await repository.get_event(ctx.session, event_id)
    if row is None:
        raise ctx.not_found("audit_event", event_id, "No audit event with that id.")
    ctx.audit.touch("read", "audit_event", [row.id])
    return row


async def verify_trail(ctx: Ctx) -> VerifyResult:
    """Seal what is queued, then recompute the whole chain against the latest signed
    checkpoint; an intact chain's head becomes the next checkpoint."""
    authorize(ctx.principal, Permission.audit_read)
    await seal_all(_engine(ctx), wait=True)
    result = await verify_against_checkpoint(ctx.session, Checkpoints(ctx.settings))
    ctx.audit.touch("read", "audit_chain")
    return result


async def verify_against_checkpoint(
    session: AsyncSession,
    checkpoints: Checkpoints,
    *,
    progress: Callable[[int], object] | None = None,
) -> VerifyResult:
    """verify() with the latest checkpoint; writes a new checkpoint when the chain holds."""
    latest = await asyncio.to_thread(checkpoints.latest)
    result, head = await verify_with_head(session, checkpoint=latest, progress=progress)
    if result["ok"] and head is not None:
        await asyncio.to_thread(checkpoints.write, *head)
    return result


async def export_events(ctx: Ctx, filters: AuditFilters) -> AsyncIterator[bytes]:
    """Authorize and seal now; return the NDJSON stream of FHIR AuditEvents.

    The stream reads through its own connection with a server-side cursor in batches, so
    memory stays constant; it runs after the request's own audit event has committed."""
    authorize(ctx.principal, Permission.audit_read)
    engine = _engine(ctx)
    await seal_all(engine, wait=True)
    ctx.audit.touch("export", "audit_event")
    stmt = repository.export_statement(filters, engine.dialect.name)

    async def lines() -> AsyncIterator[bytes]:
        async with engine.connect() as conn:
            result = await conn.stream(stmt.execution_options(yield_per=EXPORT_BATCH))
            async for rows in result.partitions(EXPORT_BATCH):
                yield b"".join(ndjson_line(row._mapping) for row in rows)

    return lines()

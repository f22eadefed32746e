"""Change-feed events derived from the request's audit record, written to the outbox in the
transaction of the change (the audit middleware calls `write_events` just before it writes
the request's audit event and commits both).

Every service write already calls `ctx.audit.touch(action, resource_type, ids, product_id=,
changed=)`; the record keeps those touches (`AuditRecord.writes`), and each one becomes one
event per id here (docs/change-feed.md has the table). No domain service knows about the feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.record import AuditRecord
from app.db.base import Base
from app.db.session import driver_connection
from app.db.types import utcnow, uuid7
from app.feed.models import FeedEvent

# (touch action, touch resource type) -> (event resource type, event verb)
_VERBS = {"create": "created", "update": "updated", "delete": "archived"}
_RESOURCES = {
    "product": "product",
    "roadmap_item": "roadmap_item",
    "story": "story",
    "interview": "interview",
    "insight": "insight",
}
_SPECIAL = {
    ("approve", "roadmap_item"): "approved",
    ("review", "story"): "reviewed",
    ("purge", "interview"): "purged",
}
_MEMBER = {"create": "member.added", "delete": "member.removed"}

EVENT_TYPES: tuple[str, ...] = (
    *(
        f"{r}.{v}"
        for r in ("product", "roadmap_item", "story", "interview", "insight")
        for v in ("created", "updated", "archived")
    ),
    "roadmap_item.approved",
    "roadmap_item.approval_stale",
    "story.reviewed",
    "story.review_reset",
    "interview.purged",
    "member.added",
    "member.removed",
)
# Tables whose rows carry a `version` (the event reports the version the change produced).
_VERSIONED = frozenset(_RESOURCES.values())

# What a principal must be able to read to be told about an event of each resource type.
READ_PERMISSION = {
    "product": "product:read",
    "roadmap_item": "roadmap:read",
    "story": "story:read",
    "interview": "interview:read",
    "insight": "insight:read",
    "member": "product:read",
}


@dataclass(frozen=True, slots=True)
class Pending:
    """An event about to be written (its version is read in the same statement)."""

    type: str
    product_id: str | None
    resource_type: str
    resource_id: str
    changed_fields: tuple[str, ...]
    version: int | None = None


def events_of(record: AuditRecord) -> list[Pending]:
    """The events of a request's write touches, in the order the services made them."""
    out: list[Pending] = []
    for action, rtype, ids, product_id, changed in record.writes:
        out.extend(_events_of_touch(action, rtype, ids, product_id, changed))
    return out


def _events_of_touch(
    action: str, rtype: str, ids: Sequence[str], product_id: str | None, changed: Sequence[str]
) -> Iterable[Pending]:
    if action.startswith("emit:"):  # app.feed.emit: an explicit event type
        for rid in ids:
            yield Pending(action[5:], product_id, rtype, rid, tuple(changed))
        return
    if rtype == "membership":
        if action in _MEMBER:
            for subject in ids:
                yield Pending(_MEMBER[action], product_id, "member", subject, tuple(changed))
        return
    resource = _RESOURCES.get(rtype)
    if resource is None or not ids:
        return
    verb = _SPECIAL.get((action, rtype)) or _VERBS.get(action)
    if verb is None:
        return
    if verb != "created" and not changed:
        return  # nothing changed (a repeated approval, an archive of an archived row)
    if verb == "purged":
        # The purge touch names the interview first, then the insights whose quotes it
        # erased ("insight.quote" among the changed names).
        own = tuple(c for c in changed if not c.startswith("insight."))
        yield Pending("interview.purged", product_id, "interview", ids[0], own)
        for insight_id in ids[1:]:
            yield Pending("insight.updated", product_id, "insight", insight_id, ("quote",))
        return
    for rid in ids:
        yield Pending(f"{resource}.{verb}", product_id, resource, rid, tuple(changed))


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The event as clients see it (webhook body, subscription payload): SPEC §10 fields."""
    pid = row.get("product_id")
    occurred = row["occurred_at"]
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "occurred_at": (
            occurred.replace("+00:00", "Z") if isinstance(occurred, str) else _iso(occurred)
        ),
        "product_id": None if pid is None else str(pid),
        "resource_type": row["resource_type"],
        "resource_id": str(row["resource_id"]),
        "version": row.get("version"),
        "changed_fields": list(row.get("changed_fields") or []),
        "actor_sub": row.get("actor_sub"),
    }


# The SPEC §10 fields of an event, as `public` renders them.
PUBLIC_FIELDS = (
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


def public_of(event: Any) -> dict[str, Any]:
    """`public` of an outbox row read through the ORM (a FeedEvent)."""
    return public({f: getattr(event, f) for f in PUBLIC_FIELDS})


def _iso(dt: Any) -> str:
    return dt.isoformat().replace("+00:00", "Z")


_COLUMNS = (
    "id, type, occurred_at, product_id, resource_type, resource_id, version, changed_fields, "
    "actor_sub, request_id, dispatched"
)


def _pg_insert(table: str | None) -> str:
    # Table names come from a fixed map, never from a request.
    version = f"(SELECT version FROM {table} WHERE id = $7::uuid)" if table else "$7::int"  # noqa: S608
    return (
        f"INSERT INTO feed_event ({_COLUMNS}) "  # noqa: S608 - table names from a fixed map
        f"VALUES ($1, $2, $3, $4, $5, $6, {version}, $8, $9, $10, false) RETURNING version"
    )


_PG_INSERTS = {t: _pg_insert(t) for t in _VERSIONED} | {None: _pg_insert(None)}


async def write_events(session: AsyncSession, record: AuditRecord) -> int:
    """Write the request's change events in `session`'s transaction (the caller commits them
    with the change and its audit event). Returns how many were written."""
    pending = events_of(record)
    if not pending:
        return 0
    if session.new or session.dirty or session.deleted:
        await session.flush()
    now = utcnow()
    pg = session.get_bind().dialect.name == "postgresql"
    committed: list[dict[str, Any]] = []
    if pg:
        driver = await driver_connection(await session.connection())
    for ev in pending:
        event_id = uuid7()
        table = ev.resource_type if ev.resource_type in _VERSIONED else None
        pid = uuid.UUID(ev.product_id) if ev.product_id else None
        changed = orjson.dumps(list(ev.changed_fields)).decode()
        if pg:
            version = await driver.fetchval(
                _PG_INSERTS[table],
                event_id,
                ev.type,
                now,
                pid,
                ev.resource_type,
                ev.resource_id,
                uuid.UUID(ev.resource_id) if table else ev.version,
                changed,
                record.actor_sub,
                record.request_id,
            )
            committed.append(
                public(
                    {
                        "id": event_id,
                        "type": ev.type,
                        "occurred_at": now,
                        "product_id": pid,
                        "resource_type": ev.resource_type,
                        "resource_id": ev.resource_id,
                        "version": version,
                        "changed_fields": ev.changed_fields,
                        "actor_sub": record.actor_sub,
                    }
                )
            )
        else:
            version = ev.version
            if table:
                t = Base.metadata.tables[table]
                version = (
                    select(t.c.version).where(t.c.id == uuid.UUID(ev.resource_id)).scalar_subquery()
                )
            await session.execute(
                insert(FeedEvent.__table__).values(
                    id=event_id,
                    type=ev.type,
                    occurred_at=now,
                    product_id=pid,
                    resource_type=ev.resource_type,
                    resource_id=ev.resource_id,
                    version=version,
                    changed_fields=list(ev.changed_fields),
                    actor_sub=record.actor_sub,
                    request_id=record.request_id,
                    dispatched=False,
                )
            )
    if any(ev.type == "interview.purged" for ev in pending):
        from app.feed.idempotency import forget_purged

        await forget_purged(session, [ev.resource_id for ev in pending])
    # After the commit (app/feed/hub.py): PostgreSQL NOTIFYs these events (outside the
    # transaction), SQLite pokes the in-process hubs; nothing when the transaction rolls back.
    session.info["feed_written"] = True
    if committed:
        session.info.setdefault("feed_events", []).extend(committed)
    return len(pending)

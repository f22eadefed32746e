"""Turning a finished request's AuditRecord into a stored AuditEvent."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.audit.record import AuditRecord
from app.db.session import driver_connection
from app.db.types import utcnow, uuid7

_METHOD_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


# REST collection -> resource type, for requests that failed before a service touched one.
_COLLECTIONS = {
    "products": "product",
    "roadmap-items": "roadmap_item",
    "stories": "story",
    "interviews": "interview",
    "insights": "insight",
    "audit-events": "audit_event",
}


def resource_type_for(path: str) -> str | None:
    """The resource type a REST path addresses (`/api/v1/stories/…` -> story)."""
    parts = path.split("/", 4)
    if len(parts) > 3 and parts[1] == "api" and parts[2] == "v1":
        return _COLLECTIONS.get(parts[3])
    return None


def outcome_for(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403, 404, 429):
        return "denied"
    return "error"


def action_for(record: AuditRecord, status: int) -> str:
    if status == 401:
        return "auth_failed"
    if status in (403, 429):  # 429: refused by a rate limit
        return "access_denied"
    return record.action or _METHOD_ACTIONS.get(record.http_method, "read")


def event_values(record: AuditRecord, status: int) -> dict[str, Any]:
    """The column values of one request's event; names of changed fields only, never their
    values. The id (uuid7) and occurred_at are set here, not by column defaults."""
    return {
        "id": uuid7(),
        "occurred_at": utcnow(),
        "actor_sub": record.actor_sub,
        "actor_role": record.actor_role,
        "actor_type": record.actor_type,
        "client_id": record.client_id,
        "action": action_for(record, status),
        "resource_type": record.resource_type or resource_type_for(record.path),
        "resource_ids": list(record.resource_ids),
        "product_id": record.product_id,
        # A PHI read that ended in an error served nothing; still recorded as attempted.
        "phi_accessed": record.phi_accessed,
        "changed_fields": list(record.changed_fields) if status < 400 else [],
        "outcome": outcome_for(status),
        "http_method": record.http_method,
        # The middleware stores the route template with validated ids (audit_path); CLI
        # records name their command.
        "path": record.path.replace("\x00", "\ufffd")[:2048],
        "status_code": status,
        "request_id": record.request_id,
        "source_ip": record.source_ip,
        "user_agent": (record.user_agent or "").replace("\x00", "\ufffd")[:512] or None,
        "graphql_operation": record.graphql_operation,
        "client_request_id": record.client_request_id,
    }


def event_rows(record: AuditRecord, status: int) -> list[dict[str, Any]]:
    """Every event of one request: its main event (`event_values`), then

    - refusals (`AuditRecord.refuse`: ids asked for and not found or not readable), as
      `access_denied`/`denied` events, one per resource type. When the request failed as a
      whole and its event names no ids yet, the refused ids of its resource type go into
      that event instead (a REST 404 names the id it refused);
    - companion events (`AuditRecord.also`) of a request that succeeded.

    All share the request's actor, request id, path and status."""
    main = event_values(record, status)
    rows = [main]
    if not record.refused and not record.companions:
        return rows
    refused = dict(record.refused)
    if status >= 400 and not main["resource_ids"]:
        # The request failed as a whole: its own event names what it was refused.
        rtype = main["resource_type"] if main["resource_type"] in refused else None
        if rtype is None and main["resource_type"] is None:
            rtype = next(iter(refused), None)
        if rtype is not None:
            main["resource_type"] = rtype
            main["resource_ids"] = list(refused.pop(rtype))
    for resource_type, ids in refused.items():
        rows.append(
            main
            | {
                "id": uuid7(),
                "action": "access_denied",
                "outcome": "denied",
                "resource_type": resource_type,
                "resource_ids": list(ids),
                "product_id": None,
                "phi_accessed": False,
                "changed_fields": [],
            }
        )
    if status < 400:
        for c in record.companions:
            rows.append(
                main
                | {
                    "id": uuid7(),
                    "action": c.action,
                    "resource_type": c.resource_type,
                    "resource_ids": list(c.resource_ids),
                    "product_id": c.product_id,
                    "phi_accessed": False,
                    "changed_fields": list(c.changed_fields),
                }
            )
    return rows


_COLUMNS = tuple(c.name for c in AuditEvent.__table__.columns)
_JSON_COLUMNS = frozenset(("resource_ids", "changed_fields"))
# The statement text is constant, so asyncpg prepares it once per connection and caches it.
_PG_INSERT = (
    f"INSERT INTO audit_event ({', '.join(_COLUMNS)}) "  # noqa: S608 - fixed column names
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
)


async def append_event(session: AsyncSession, record: AuditRecord, status: int) -> dict[str, Any]:
    """Write the request's event in `session`'s transaction; the caller commits it with the
    data change, with its refusal and companion events (`event_rows`). Returns the main
    event's column values.

    This runs on every request, so on PostgreSQL it is one prepared INSERT on the session's
    asyncpg connection (SQLAlchemy's statement and parameter machinery cost several times
    the insert itself). Pending ORM changes are flushed first: the flush opens the
    connection's transaction, so the event always lands in the transaction of the change.
    With nothing written before it, the event commits on its own (an autocommit read, or a
    request that failed before touching the database), so call it last, after the work it
    records, as the middleware and the CLI commands do. Elsewhere: a Core INSERT."""
    rows = event_rows(record, status)
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(insert(AuditEvent.__table__), rows)
        return rows[0]
    if session.new or session.dirty or session.deleted:
        await session.flush()
    driver = await driver_connection(await session.connection())
    await insert_pg(driver, [pg_args(r) for r in rows])
    return rows[0]


async def insert_pg(driver: Any, args: list[list[Any]]) -> None:
    """INSERT audit events on an asyncpg connection, one prepared statement: `args` holds
    one `pg_args` list per event. Outside a transaction, several rows commit together."""
    if len(args) == 1:
        await driver.execute(_PG_INSERT, *args[0])
    else:
        await driver.executemany(_PG_INSERT, args)


def pg_args(values: dict[str, Any]) -> list[Any]:
    """The arguments of `insert_pg` for one event's column values."""
    return [orjson.dumps(values[c]).decode() if c in _JSON_COLUMNS else values[c] for c in _COLUMNS]


def operator_record(command: str) -> AuditRecord:
    """The audit record of an operator's CLI command (seed, clients, keys): there is no HTTP
    request, so the actor is the OS account that ran it and the path names the command."""
    import getpass
    import uuid

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return AuditRecord(
        request_id=uuid.uuid4().hex,
        http_method="CLI",
        path=f"cli:{command}",
        actor_sub=f"os:{user}"[:255],
        actor_type="user",
    )

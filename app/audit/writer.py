"""Turning a finished request's AuditRecord into a stored AuditEvent."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.audit.record import AuditRecord

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
    if status in (401, 403, 404):
        return "denied"
    return "error"


def action_for(record: AuditRecord, status: int) -> str:
    if status == 401:
        return "auth_failed"
    if status == 403:
        return "access_denied"
    return record.action or _METHOD_ACTIONS.get(record.http_method, "read")


def build_event(record: AuditRecord, status: int) -> AuditEvent:
    """The row for one request; names of changed fields only, never their values."""
    return AuditEvent(
        actor_sub=record.actor_sub,
        actor_role=record.actor_role,
        actor_type=record.actor_type,
        client_id=record.client_id,
        action=action_for(record, status),
        resource_type=record.resource_type or resource_type_for(record.path),
        resource_ids=list(record.resource_ids),
        product_id=record.product_id,
        # A PHI read that ended in an error served nothing; still recorded as attempted.
        phi_accessed=record.phi_accessed,
        changed_fields=list(record.changed_fields) if status < 400 else [],
        outcome=outcome_for(status),
        http_method=record.http_method,
        # PostgreSQL text cannot hold NUL; a path is the one client string stored verbatim.
        path=record.path.replace("\x00", "\ufffd")[:2048],
        status_code=status,
        request_id=record.request_id,
        source_ip=record.source_ip,
        user_agent=(record.user_agent or "").replace("\x00", "\ufffd")[:512] or None,
        graphql_operation=record.graphql_operation,
    )


async def append_event(session: AsyncSession, record: AuditRecord, status: int) -> AuditEvent:
    """Add the request's event to `session`; the caller commits it with the data change.

    A Core INSERT of the event's values (column defaults fill id and occurred_at), not
    session.add + flush: this runs on every request, and a unit-of-work flush costs more
    than the insert itself. The returned event is not attached to the session."""
    event = build_event(record, status)
    values = {k: v for k, v in vars(event).items() if not k.startswith("_")}
    await session.execute(insert(AuditEvent.__table__), values)
    return event


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

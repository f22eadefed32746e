"""GraphQL type of audit events."""

from __future__ import annotations

import datetime

import strawberry

from app.audit.schemas import AuditAction, AuditOutcome
from app.graphql.types.common import register_enums

register_enums(AuditAction, AuditOutcome)


@strawberry.type(
    name="AuditEvent",
    description="One audit event with its place in the tamper-evident chain (null while sealing).",
)
class AuditEventType:
    id: strawberry.ID
    seq: int | None
    occurred_at: datetime.datetime
    actor_sub: str | None
    actor_role: str | None
    actor_type: str
    client_id: str | None
    action: AuditAction
    resource_type: str | None
    resource_ids: list[str]
    product_id: str | None
    phi_accessed: bool
    changed_fields: list[str]
    outcome: AuditOutcome
    http_method: str
    path: str
    status_code: int
    request_id: str
    source_ip: str | None
    user_agent: str | None
    graphql_operation: str | None
    client_request_id: str | None
    prev_hash: str | None
    hash: str | None

"""GraphQL type of audit events."""

from __future__ import annotations

import strawberry

from app.audit.schemas import AuditAction, AuditEventOut, AuditOutcome
from app.graphql.types.common import from_model, register_enums

register_enums(AuditAction, AuditOutcome)


@strawberry.type(
    name="AuditEvent",
    description="One audit event with its place in the tamper-evident chain (null while sealing).",
)
@from_model(AuditEventOut)
class AuditEventType:
    action: AuditAction  # GraphQL enums; REST publishes strings
    outcome: AuditOutcome

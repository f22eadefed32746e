"""The service principals the integrations act as (SPEC §9), and stamping one onto a
request's audit record. Built here, never from a token: their grants are
INTEGRATION_GRANTS in app/authz/permissions.py (Jira) or the linked person's role (Slack)."""

from __future__ import annotations

from app.audit.record import AuditRecord
from app.auth.principal import Principal

JIRA_SUB = "integration:jira"
SLACK_SUB = "integration:slack"

JIRA = Principal(sub=JIRA_SUB, type="service", name="Jira integration")


def stamp(record: AuditRecord, sub: str) -> None:
    """Name the integration as the actor of this request's audit event."""
    record.actor_sub = sub
    record.actor_type = "service"
    record.actor_role = None
    record.client_id = None

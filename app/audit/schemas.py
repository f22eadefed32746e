from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.schemas import OutputModel


class AuditAction(StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    SEARCH = "search"
    EXPORT = "export"
    APPROVE = "approve"
    REVIEW = "review"
    PURGE = "purge"
    IMPORT = "import"  # a CSV import: one event listing the stories written (issue #16)
    LOGIN = "login"
    ACCESS_DENIED = "access_denied"
    AUTH_FAILED = "auth_failed"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"


class ExportFormat(StrEnum):
    FHIR = "fhir"


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # a timestamp without offset is read as UTC


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Filters of the audit-event list and export (REST query params, GraphQL arguments)."""

    actor_sub: str | None = None
    resource_type: str | None = None
    resource_id: uuid.UUID | str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", _utc(self.since))
        object.__setattr__(self, "until", _utc(self.until))


class AuditEventOut(OutputModel):
    """One audit event with its place in the tamper-evident chain (null while being sealed)."""

    id: uuid.UUID
    seq: int | None
    occurred_at: datetime
    actor_sub: str | None
    actor_role: str | None
    actor_type: str
    client_id: str | None
    action: str
    resource_type: str | None
    resource_ids: list[str]
    product_id: str | None
    phi_accessed: bool
    changed_fields: list[str]
    outcome: str
    http_method: str
    path: str
    status_code: int
    request_id: str
    source_ip: str | None
    user_agent: str | None
    graphql_operation: str | None
    client_request_id: str | None = None
    prev_hash: str | None
    hash: str | None


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    checkpoint_seq: int | None = Field(
        default=None,
        description="Seq of the signed checkpoint (outside the database) the chain was "
        "compared with; a chain that ends before it, or differs at it, is reported truncated",
    )

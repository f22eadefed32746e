from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import utcnow, uuid7


class AuditEvent(Base):
    """One audited request. Rows are insert-only (database triggers reject UPDATE/DELETE)."""

    __tablename__ = "audit_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_sub: Mapped[str | None] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_ids: Mapped[list] = mapped_column(default=list)
    product_id: Mapped[str | None] = mapped_column(String(36))
    phi_accessed: Mapped[bool] = mapped_column(default=False)
    changed_fields: Mapped[list] = mapped_column(default=list)
    outcome: Mapped[str] = mapped_column(String(16))
    http_method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    status_code: Mapped[int]
    request_id: Mapped[str] = mapped_column(String(64))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    graphql_operation: Mapped[str | None] = mapped_column(String(200))
    # The caller's X-Request-Id (validated), beside the server-generated request_id.
    client_request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(None, "occurred_at"),
        Index(None, "actor_sub", "occurred_at"),
        Index(None, "resource_type", "occurred_at"),
        # a product's activity stream (GET /products/{id}/activity), newest first
        Index(None, "product_id", "occurred_at", "id"),
        # No single-column index on action/outcome: a dozen values each, and the compliance
        # API always reads them in occurred_at order (the indexes above serve that); every
        # audited request would pay for maintaining them.
    )


class AuditChain(Base):
    """The tamper-evident chain: one row per sealed event, appended by the sealer only.

    `hash = sha256(prev_hash ‖ canonical(event))`; `seq` is gap-free from 1. Insert-only
    (database triggers reject UPDATE/DELETE)."""

    __tablename__ = "audit_chain"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_event.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditPending(Base):
    """Work queue of events not yet chained: filled by a database trigger on audit_event
    insert (so the request path stays one INSERT), drained by the sealer."""

    __tablename__ = "audit_pending"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_event.id"), primary_key=True)

"""Change feed tables: the outbox of events, webhook subscriptions, deliveries and their
attempts, and stored responses of Idempotency-Key requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.phi import PhiText
from app.db.types import utcnow, uuid7

SEQ = BigInteger().with_variant(Integer, "sqlite")


class FeedEvent(Base):
    """One committed change (SPEC §10), written in the transaction of the change. Ids and field
    names only, never values. `seq` orders events; `dispatched` marks those the worker has
    turned into webhook deliveries."""

    __tablename__ = "feed_event"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid7)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    product_id: Mapped[uuid.UUID | None]
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int | None]
    changed_fields: Mapped[list] = mapped_column(default=list)
    actor_sub: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))
    dispatched: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        # The dispatcher only scans open rows (partial on PostgreSQL).
        Index(None, "dispatched", "seq", postgresql_where=text("NOT dispatched")),
        Index(None, "product_id", "seq"),
    )


class WebhookSubscription(ResourceMixin, Base):
    """Where to POST which events. The signing secret is encrypted at rest (PHI keyring)."""

    __tablename__ = "webhook_subscription"

    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list] = mapped_column(default=list)
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(PhiText("webhook_subscription.secret"))
    created_by: Mapped[str] = mapped_column(String(255))
    # The owner's role at creation: deliveries never tell the owner more than it may read.
    owner_role: Mapped[str | None] = mapped_column(String(32))
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index(None, "product_id"), Index(None, "created_by"))


class WebhookDelivery(Base):
    """One event for one subscription: pending until a 2xx, retried on the backoff schedule."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscription.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feed_event.id"))
    event_seq: Mapped[int] = mapped_column(SEQ)
    resource_key: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[uuid.UUID | None]
    last_status_code: Mapped[int | None]
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index(None, "state", "next_attempt_at"),
        # Named: the generated name would pass PostgreSQL's 63-character limit.
        Index(
            "ix_webhook_delivery_claim_order",
            "subscription_id",
            "resource_key",
            "state",
            "event_seq",
        ),
    )


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery (the delivery log): status code, duration, outcome."""

    __tablename__ = "webhook_attempt"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_delivery.id"))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16), default="scheduled")

    __table_args__ = (Index(None, "delivery_id", "attempted_at"),)


class IdempotencyKey(Base):
    """A POST's Idempotency-Key per principal: in flight, then its stored response (24 h).
    The body may hold PHI (an interview created by its PM), so it is encrypted at rest and
    erased with the resource when its PHI is purged."""

    __tablename__ = "idempotency_key"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    principal: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_flight")
    claim: Mapped[uuid.UUID]
    locked_until: Mapped[datetime]
    expires_at: Mapped[datetime]
    status_code: Mapped[int | None]
    headers: Mapped[list | None]
    body: Mapped[str | None] = mapped_column(PhiText("idempotency_key.body"))
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_ids: Mapped[list | None]
    phi: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("principal", "key"), Index(None, "expires_at"))

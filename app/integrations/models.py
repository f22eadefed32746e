"""Tables of the integrations: Jira delivery ids (idempotency), Slack account links and the
one-time codes of `/rounds link`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import utcnow


class JiraDelivery(Base):
    """A processed Jira delivery (X-Atlassian-Webhook-Identifier): a retry of it is a
    duplicate. Pruned after JIRA_DELIVERY_RETENTION (app/integrations/jira/service.py)."""

    __tablename__ = "jira_delivery"

    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    issue_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index(None, "received_at"),)


class SlackLink(Base):
    """A Slack user (workspace, user) acting as a Rounds principal."""

    __tablename__ = "slack_link"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))

    __table_args__ = (Index(None, "subject"),)


class SlackLinkCode(Base):
    """A pending `/rounds link` code, stored only as its SHA-256; one use, short-lived."""

    __tablename__ = "slack_link_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "expires_at"),)

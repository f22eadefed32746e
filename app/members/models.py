from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import utcnow


class Membership(Base):
    __tablename__ = "membership"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index(None, "subject"),)


class UserAccount(Base):
    """A person seen through a token, kept so memberships and audit can show names. Recorded
    on writes that make someone part of the portfolio (creating a product, adding a member:
    UserRepository.remember), never on reads, so GET requests stay read-only."""

    __tablename__ = "user_account"

    sub: Mapped[str] = mapped_column(String(255), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

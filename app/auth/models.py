from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import utcnow, uuid7


class OAuthClient(Base):
    """A service account (OAuth2 client credentials). The secret is stored only as a hash."""

    __tablename__ = "oauth_client"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

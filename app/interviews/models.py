from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.phi import PhiText

# Columns that hold PHI (SPEC §7); the redacted renditions beside them do not.
PHI_FIELDS = ("participant_name", "participant_contact", "transcript", "summary")


class Interview(ResourceMixin, Base):
    __tablename__ = "interview"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    title: Mapped[str] = mapped_column(String(300))
    conducted_on: Mapped[date] = mapped_column(Date)
    interviewer_sub: Mapped[str] = mapped_column(String(255))
    participant_persona: Mapped[str] = mapped_column(String(32))
    site: Mapped[str | None] = mapped_column(String(200))
    consent_status: Mapped[str] = mapped_column(String(20), default="obtained")
    tags: Mapped[list] = mapped_column(default=list)
    participant_name: Mapped[str | None] = mapped_column(PhiText("interview.participant_name"))
    participant_contact: Mapped[str | None] = mapped_column(
        PhiText("interview.participant_contact")
    )
    transcript: Mapped[str | None] = mapped_column(PhiText("interview.transcript"))
    summary: Mapped[str | None] = mapped_column(PhiText("interview.summary"))
    transcript_redacted: Mapped[str | None] = mapped_column(Text)
    summary_redacted: Mapped[str | None] = mapped_column(Text)
    phi_detected: Mapped[bool] = mapped_column(default=False)
    phi_categories: Mapped[list] = mapped_column(default=list)
    purged_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index(None, "product_id", "conducted_on", "id"),
        Index(None, "interviewer_sub"),
        Index(None, "conducted_on", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "title", "id"),
    )

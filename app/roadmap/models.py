from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.types import utcnow, uuid7


def rice_score(
    reach: int | None, impact: float | None, confidence: float | None, effort: float | None
) -> float | None:
    """reach·impact·confidence/effort, or None if an input is missing."""
    if reach is None or impact is None or confidence is None or not effort:
        return None
    return round(reach * impact * confidence / effort, 4)


class RoadmapItem(ResourceMixin, Base):
    __tablename__ = "roadmap_item"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str | None] = mapped_column(String(100))
    horizon: Mapped[str] = mapped_column(String(10), default="later")
    target_quarter: Mapped[str | None] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    reach: Mapped[int | None]
    impact: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    effort: Mapped[float | None] = mapped_column(Float)
    # Stored (not computed per read) so sort=-rice_score can use an index.
    rice_score: Mapped[float | None] = mapped_column(Float)
    # The current approval only (null while there is none or it went stale); the history,
    # stale approvals included, is in roadmap_item_approval.
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None]
    approval_status: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    created_by: Mapped[str | None] = mapped_column(String(255))
    # Who drives it (a product member). Never an authorization input: it grants nothing.
    owner_sub: Mapped[str | None] = mapped_column(String(255))

    # Every UPDATE says WHERE version = <the version read>: a concurrent write in between
    # (SQLite reads outside the write transaction, so a row lock cannot cover it) fails the
    # flush instead of overwriting it — the gates judge state that is still current.
    # The services bump `version` themselves (no generator).
    __mapper_args__ = {"version_id_col": ResourceMixin.version, "version_id_generator": False}

    __table_args__ = (
        Index(None, "product_id", "status"),
        Index(None, "product_id", "horizon"),
        Index(None, "status"),
        Index(None, "horizon"),
        Index(None, "rice_score", "id"),
        Index(None, "product_id", "rice_score", "id"),
        Index(None, "product_id", "created_at", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "title", "id"),
        Index(None, "target_quarter", "id"),
        Index(None, "owner_sub", "id"),
    )


class RoadmapItemApproval(Base):
    """One exec approval of one version of a roadmap item. It counts while `stale_at` is
    null; a material change (or reopening a cancelled item) makes it stale, and it stays
    here as history. Rows are only ever inserted and then marked stale once."""

    __tablename__ = "roadmap_item_approval"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    roadmap_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roadmap_item.id"))
    version: Mapped[int]
    approver_sub: Mapped[str] = mapped_column(String(255))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    stale_at: Mapped[datetime | None]
    stale_by: Mapped[str | None] = mapped_column(String(255))
    stale_reason: Mapped[str | None] = mapped_column(String(32))
    stale_fields: Mapped[list | None]

    __table_args__ = (Index(None, "roadmap_item_id", "approved_at", "id"),)

    @property
    def current(self) -> bool:
        return self.stale_at is None

    @property
    def status(self) -> str:
        return "current" if self.stale_at is None else "stale"

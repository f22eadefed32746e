from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin


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
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(255))

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
    )

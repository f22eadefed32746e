from __future__ import annotations

import uuid

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.phi import PhiText
from app.roadmap.models import RoadmapItem
from app.stories.models import Story

insight_story = Table(
    "insight_story",
    Base.metadata,
    Column("insight_id", ForeignKey("insight.id"), primary_key=True),
    Column("story_id", ForeignKey("story.id"), primary_key=True, index=True),
)

insight_roadmap_item = Table(
    "insight_roadmap_item",
    Base.metadata,
    Column("insight_id", ForeignKey("insight.id"), primary_key=True),
    Column("roadmap_item_id", ForeignKey("roadmap_item.id"), primary_key=True, index=True),
)


class Insight(ResourceMixin, Base):
    __tablename__ = "insight"

    interview_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interview.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    title: Mapped[str] = mapped_column(String(300))
    quote: Mapped[str | None] = mapped_column(PhiText("insight.quote"))
    quote_redacted: Mapped[str | None] = mapped_column(Text)
    persona: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(default=3)
    tags: Mapped[list] = mapped_column(default=list)
    phi_detected: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index(None, "product_id", "created_at", "id"),
        Index(None, "interview_id"),
        Index(None, "severity", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "title", "id"),
    )


def _evidence_count(link: Table, column: str, target):
    return (
        select(func.count())
        .select_from(link.join(Insight, Insight.id == link.c.insight_id))
        .where(link.c[column] == target.id, Insight.archived_at.is_(None))
        .correlate_except(link, Insight)
        .scalar_subquery()
    )


# Evidence counts are computed inside the same SELECT that loads the page (one statement,
# whatever the page size) rather than stored, so they can never drift from the links.
Story.evidence_count = column_property(_evidence_count(insight_story, "story_id", Story))
RoadmapItem.evidence_count = column_property(
    _evidence_count(insight_roadmap_item, "roadmap_item_id", RoadmapItem)
)

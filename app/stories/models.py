from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.types import utcnow, uuid7


class Story(ResourceMixin, Base):
    __tablename__ = "story"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    roadmap_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("roadmap_item.id"))
    key: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    persona: Mapped[str | None] = mapped_column(String(100))
    as_a: Mapped[str | None] = mapped_column(Text)
    i_want: Mapped[str | None] = mapped_column(Text)
    so_that: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    acceptance_criteria: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="backlog")
    story_points: Mapped[int | None]
    rank: Mapped[str] = mapped_column(String(64))
    sprint: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[list] = mapped_column(default=list)
    clinical_review_required: Mapped[bool] = mapped_column(default=False)
    clinical_review: Mapped[dict | None]
    jira_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Outcome of the last Jira delivery applied (app/integrations/jira): state, detail, …
    jira_sync: Mapped[dict | None]
    created_by: Mapped[str | None] = mapped_column(String(255))
    # Who works on it (a product member). Never an authorization input: it grants nothing.
    assignee_sub: Mapped[str | None] = mapped_column(String(255))

    # Every UPDATE says WHERE version = <the version read> (see RoadmapItem): a concurrent
    # write in between fails the flush instead of being overwritten, so the clinical gate
    # judges content that is still current. The services bump `version` themselves.
    __mapper_args__ = {"version_id_col": ResourceMixin.version, "version_id_generator": False}

    __table_args__ = (
        Index(None, "product_id", "status"),
        Index(None, "product_id", "rank", "id"),
        # stories of a roadmap item in backlog order (REST filter, GraphQL edge)
        Index(None, "roadmap_item_id", "rank", "id"),
        Index(None, "status"),
        Index(None, "sprint"),
        Index(None, "rank", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "title", "id"),
        Index(None, "number", "id"),
        Index(None, "story_points", "id"),
        Index(None, "assignee_sub", "id"),
    )


class StoryReview(Base):
    """One clinical review decision on one version of a story. It is current while
    `ended_at` is null; a later review supersedes it, and a change to the reviewed content
    ends an approval (the story's review goes back to pending). Rows stay as history."""

    __tablename__ = "story_review"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    story_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("story.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    reviewer_sub: Mapped[str] = mapped_column(String(255))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(255))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    changed_fields: Mapped[list | None]

    __table_args__ = (Index(None, "story_id", "reviewed_at", "id"),)

    @property
    def current(self) -> bool:
        return self.ended_at is None

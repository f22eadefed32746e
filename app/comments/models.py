from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin
from app.db.types import utcnow, uuid7


class Comment(ResourceMixin, Base):
    """A comment on one story or one roadmap item. `body` is the redacted rendition: text the
    PHI detector flags is replaced before storing, the raw text never is; `phi_categories`
    says what was replaced. Deleting archives; edits keep the previous bodies."""

    __tablename__ = "comment"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    story_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("story.id"))
    roadmap_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("roadmap_item.id"))
    author_sub: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    phi_categories: Mapped[list] = mapped_column(default=list)
    mentions: Mapped[list] = mapped_column(default=list)

    __table_args__ = (
        CheckConstraint("(story_id IS NULL) <> (roadmap_item_id IS NULL)", name="one_parent"),
        Index(None, "story_id", "created_at", "id"),
        Index(None, "roadmap_item_id", "created_at", "id"),
    )

    @property
    def phi_redacted(self) -> bool:
        return bool(self.phi_categories)


class CommentRevision(Base):
    """A comment's body before an edit (already redacted), kept as history."""

    __tablename__ = "comment_revision"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    comment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("comment.id"))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "comment_id", "version"),)

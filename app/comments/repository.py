from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select

from app.comments.models import Comment, CommentRevision
from app.core.pagination import Page
from app.core.repository import ListQuery, Repository


class CommentRepository(Repository[Comment]):
    """Comments in conversation order (oldest first)."""

    model = Comment
    sortable = ("created_at",)
    default_sort = "created_at"

    def filtered(self, *, include_archived: bool = False, **parent: Any) -> Select:
        stmt = self.base(include_archived=include_archived)
        for attr, value in parent.items():
            stmt = stmt.where(getattr(Comment, attr) == value)
        return stmt

    async def of(self, attr: str, parent_id: uuid.UUID, query: ListQuery) -> Page[Comment]:
        parent: dict[str, Any] = {attr: parent_id}
        return await self.page(self.filtered(**parent), query)

    async def pages_of(
        self, attr: str, parent_ids: Collection[uuid.UUID], query: ListQuery
    ) -> dict[uuid.UUID, Page[Comment]]:
        """One page per parent in one statement (GraphQL Story.comments, RoadmapItem.comments)."""
        return await self.pages_by(self.base(), query, getattr(Comment, attr), parent_ids)

    async def find(self, comment_id: uuid.UUID, attr: str, parent_id: uuid.UUID) -> Comment | None:
        stmt = select(Comment).where(
            Comment.id == comment_id,
            getattr(Comment, attr) == parent_id,
            Comment.archived_at.is_(None),
        )
        return await self.session.scalar(stmt)

    async def revisions(self, comment_id: uuid.UUID) -> list[CommentRevision]:
        stmt = (
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.version)
        )
        return list((await self.session.scalars(stmt)).all())

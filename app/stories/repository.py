from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Select, select, text

from app.core.history import HistoryRepository
from app.core.pagination import Page
from app.core.repository import ListQuery, Repository
from app.stories.models import Story, StoryReview


class StoryRepository(Repository[Story]):
    model = Story
    sortable = (
        "rank",
        "created_at",
        "updated_at",
        "key",
        "title",
        "status",
        "story_points",
        "number",
    )
    default_sort = "rank"

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: uuid.UUID | None = None,
        roadmap_item_id: uuid.UUID | None = None,
        status: str | None = None,
        sprint: str | None = None,
        assignee_sub: str | None = None,
        labels: Sequence[str] = (),
        columns: Collection[str] | None = None,
    ) -> Page[Story]:
        # The hottest endpoint: read-only rows (no ORM entities).
        if labels:  # a statement per label count (not cached by shape)
            stmt = self.filtered(
                include_archived=query.include_archived,
                product_id=product_id,
                roadmap_item_id=roadmap_item_id,
                status=status,
                sprint=sprint,
                assignee_sub=assignee_sub,
            )
            return await self.page(
                self.with_labels(stmt, labels), query, as_rows=True, columns=columns
            )
        return await self.page_filtered(
            query,
            as_rows=True,
            columns=columns,
            product_id=product_id,
            roadmap_item_id=roadmap_item_id,
            status=status,
            sprint=sprint,
            assignee_sub=assignee_sub,
        )

    def with_labels(self, stmt: Select, labels: Sequence[str]) -> Select:
        """Stories carrying every one of `labels` (JSON array membership per dialect)."""
        pg = self.session.get_bind().dialect.name == "postgresql"
        for n, label in enumerate(labels):
            if pg:
                cond = text(f"CAST(story.labels AS jsonb) @> CAST(:label_{n} AS jsonb)")
                stmt = stmt.where(cond.bindparams(**{f"label_{n}": json.dumps([label])}))
            else:
                cond = text(
                    f"EXISTS (SELECT 1 FROM json_each(story.labels) WHERE value = :label_{n})"  # noqa: S608 - n is an int
                )
                stmt = stmt.where(cond.bindparams(**{f"label_{n}": label}))
        return stmt

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        roadmap_item_id: uuid.UUID | None = None,
        status: str | None = None,
        sprint: str | None = None,
        assignee_sub: str | None = None,
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if product_id is not None:
            stmt = stmt.where(Story.product_id == product_id)
        if roadmap_item_id is not None:
            stmt = stmt.where(Story.roadmap_item_id == roadmap_item_id)
        if status is not None:
            stmt = stmt.where(Story.status == status)
        if sprint is not None:
            stmt = stmt.where(Story.sprint == sprint)
        if assignee_sub is not None:
            stmt = stmt.where(Story.assignee_sub == assignee_sub)
        return stmt

    async def get_by_key(self, key: str, *, lock: bool = False) -> Story | None:
        stmt = select(Story).where(Story.key == key)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def get_by_jira_key(self, jira_key: str) -> Story | None:
        return await self.session.scalar(select(Story).where(Story.jira_key == jira_key))

    async def get_for_update(self, id_: uuid.UUID) -> Story | None:
        """The story, its row locked until the transaction ends (PostgreSQL; SQLite has one
        writer at a time anyway), re-read even if the session already holds it."""
        return await self.session.get(Story, id_, with_for_update=True, populate_existing=True)

    async def by_jira_key(self, jira_key: str) -> Story | None:
        """The story following a Jira issue, archived or not (jira_key is unique)."""
        return await self.session.scalar(select(Story).where(Story.jira_key == jira_key))

    async def jira_key_taken(self, jira_key: str, *, except_id: uuid.UUID | None = None) -> bool:
        stmt = select(Story.id).where(Story.jira_key == jira_key)
        if except_id is not None:
            stmt = stmt.where(Story.id != except_id)
        return (await self.session.scalar(stmt)) is not None


class StoryReviewRepository(HistoryRepository[StoryReview]):
    """Clinical review history: newest first; the current review is the one not ended."""

    model = StoryReview
    sortable = ("reviewed_at",)
    default_sort = "-reviewed_at"
    parent_key = "story_id"
    ended_key = "ended_at"

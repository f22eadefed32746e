from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from app.core.crud import ListQuery, Repository
from app.core.pagination import Page
from app.stories.models import Story


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
    ) -> Page[Story]:
        # The hottest endpoint: read-only rows (no ORM entities).
        return await self.page_filtered(
            query,
            as_rows=True,
            product_id=product_id,
            roadmap_item_id=roadmap_item_id,
            status=status,
            sprint=sprint,
        )

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        roadmap_item_id: uuid.UUID | None = None,
        status: str | None = None,
        sprint: str | None = None,
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
        return stmt

    async def get_by_key(self, key: str) -> Story | None:
        return await self.session.scalar(select(Story).where(Story.key == key))

    async def by_jira_key(self, jira_key: str) -> Story | None:
        """The story following a Jira issue, archived or not (jira_key is unique)."""
        return await self.session.scalar(select(Story).where(Story.jira_key == jira_key))

    async def jira_key_taken(self, jira_key: str, *, except_id: uuid.UUID | None = None) -> bool:
        stmt = select(Story.id).where(Story.jira_key == jira_key)
        if except_id is not None:
            stmt = stmt.where(Story.id != except_id)
        return (await self.session.scalar(stmt)) is not None

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Select, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page
from app.core.repository import ListQuery, Repository
from app.insights.models import Insight, insight_roadmap_item, insight_story
from app.roadmap.models import RoadmapItem
from app.stories.models import Story

# The ids an insight links to, by insight (outside the class: its `list` method shadows list).
_Links = dict[uuid.UUID, list[uuid.UUID]]


class InsightRepository(Repository[Insight]):
    model = Insight
    sortable = ("created_at", "updated_at", "severity", "title")
    default_sort = "-created_at"

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: uuid.UUID | None = None,
        interview_id: uuid.UUID | None = None,
        within: Collection[uuid.UUID] | None = None,
        story_id: uuid.UUID | None = None,
        roadmap_item_id: uuid.UUID | None = None,
    ) -> Page[Insight]:
        stmt = self.filtered(
            include_archived=query.include_archived,
            product_id=product_id,
            interview_id=interview_id,
            within=within,
            story_id=story_id,
            roadmap_item_id=roadmap_item_id,
        )
        return await self.page(stmt, query)

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        interview_id: uuid.UUID | None = None,
        within: Collection[uuid.UUID] | None = None,
        story_id: uuid.UUID | None = None,
        roadmap_item_id: uuid.UUID | None = None,
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if product_id is not None:
            stmt = stmt.where(Insight.product_id == product_id)
        if interview_id is not None:
            stmt = stmt.where(Insight.interview_id == interview_id)
        if within is not None:
            stmt = stmt.where(Insight.product_id.in_(list(within)))
        if story_id is not None:
            stmt = stmt.where(
                Insight.id.in_(
                    select(insight_story.c.insight_id).where(insight_story.c.story_id == story_id)
                )
            )
        if roadmap_item_id is not None:
            link = insight_roadmap_item
            stmt = stmt.where(
                Insight.id.in_(
                    select(link.c.insight_id).where(link.c.roadmap_item_id == roadmap_item_id)
                )
            )
        return stmt

    async def links(self, insight_ids: Collection[uuid.UUID]) -> tuple[_Links, _Links]:
        """Evidence links of many insights in two statements (never one per insight)."""
        stories: _Links = defaultdict(list)
        items: _Links = defaultdict(list)
        if insight_ids:
            ids = list(insight_ids)
            for i, s in await self.session.execute(
                select(insight_story.c.insight_id, insight_story.c.story_id)
                .where(insight_story.c.insight_id.in_(ids))
                .order_by(insight_story.c.story_id)
            ):
                stories[i].append(s)
            for i, r in await self.session.execute(
                select(insight_roadmap_item.c.insight_id, insight_roadmap_item.c.roadmap_item_id)
                .where(insight_roadmap_item.c.insight_id.in_(ids))
                .order_by(insight_roadmap_item.c.roadmap_item_id)
            ):
                items[i].append(r)
        return stories, items

    async def foreign_ids(
        self,
        model: type[Story] | type[RoadmapItem],
        ids: Collection[uuid.UUID],
        product_id: uuid.UUID,
    ) -> set[uuid.UUID]:
        """Those of `ids` that are not rows of `model` in `product_id`."""
        if not ids:
            return set()
        found = set(
            await self.session.scalars(
                select(model.id).where(model.id.in_(list(ids)), model.product_id == product_id)
            )
        )
        return set(ids) - found

    async def set_links(
        self, insight_id: uuid.UUID, table: Table, column: str, ids: Collection[uuid.UUID]
    ) -> None:
        await self.session.execute(delete(table).where(table.c.insight_id == insight_id))
        if ids:
            await self.session.execute(
                insert(table), [{"insight_id": insight_id, column: i} for i in dict.fromkeys(ids)]
            )


async def erase_quotes_of(session: AsyncSession, interview_id: uuid.UUID) -> list[uuid.UUID]:
    """Irreversibly drop the quotes of an interview's insights (its consent was withdrawn and
    it is purged); the ids of those insights."""
    ids = list(
        await session.scalars(select(Insight.id).where(Insight.interview_id == interview_id))
    )
    if ids:
        await session.execute(
            update(Insight)
            .where(Insight.interview_id == interview_id)
            .values(quote=None, quote_redacted=None, phi_detected=False)
            .execution_options(synchronize_session=False)
        )
    return ids

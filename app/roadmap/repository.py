from __future__ import annotations

import uuid

from sqlalchemy import Select

from app.core.crud import ListQuery, Repository
from app.core.pagination import Page
from app.roadmap.models import RoadmapItem


class RoadmapItemRepository(Repository[RoadmapItem]):
    model = RoadmapItem
    sortable = (
        "created_at",
        "updated_at",
        "rice_score",
        "title",
        "status",
        "horizon",
        "target_quarter",
    )
    default_sort = "created_at"

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        status: str | None = None,
        horizon: str | None = None,
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if product_id is not None:
            stmt = stmt.where(RoadmapItem.product_id == product_id)
        if status is not None:
            stmt = stmt.where(RoadmapItem.status == status)
        if horizon is not None:
            stmt = stmt.where(RoadmapItem.horizon == horizon)
        return stmt

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: uuid.UUID | None = None,
        status: str | None = None,
        horizon: str | None = None,
    ) -> Page[RoadmapItem]:
        return await self.page_filtered(
            query, product_id=product_id, status=status, horizon=horizon
        )

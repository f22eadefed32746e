from __future__ import annotations

import uuid

from sqlalchemy import Select

from app.core.history import HistoryRepository
from app.core.pagination import Page
from app.core.repository import ListQuery, Repository
from app.roadmap.models import RoadmapItem, RoadmapItemApproval


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

    async def get_for_update(self, id_: uuid.UUID) -> RoadmapItem | None:
        """The item, its row locked until the transaction ends (PostgreSQL; SQLite has one
        writer at a time anyway), re-read even if the session already holds it."""
        return await self.session.get(
            RoadmapItem, id_, with_for_update=True, populate_existing=True
        )

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        status: str | None = None,
        horizon: str | None = None,
        owner_sub: str | None = None,
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if product_id is not None:
            stmt = stmt.where(RoadmapItem.product_id == product_id)
        if status is not None:
            stmt = stmt.where(RoadmapItem.status == status)
        if horizon is not None:
            stmt = stmt.where(RoadmapItem.horizon == horizon)
        if owner_sub is not None:
            stmt = stmt.where(RoadmapItem.owner_sub == owner_sub)
        return stmt

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: uuid.UUID | None = None,
        status: str | None = None,
        horizon: str | None = None,
        owner_sub: str | None = None,
    ) -> Page[RoadmapItem]:
        return await self.page_filtered(
            query, product_id=product_id, status=status, horizon=horizon, owner_sub=owner_sub
        )


class RoadmapItemApprovalRepository(HistoryRepository[RoadmapItemApproval]):
    """Approval history: newest first; the current approval is the one not made stale (at
    most one: approving marks none stale, and a new approval is only made when there is no
    current one)."""

    model = RoadmapItemApproval
    sortable = ("approved_at",)
    default_sort = "-approved_at"
    parent_key = "roadmap_item_id"
    ended_key = "stale_at"

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Select, select

from app.core.crud import ListQuery, Repository
from app.core.pagination import Page
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


class RoadmapItemApprovalRepository(Repository[RoadmapItemApproval]):
    """Approval history: newest first; rows are never archived."""

    model = RoadmapItemApproval
    sortable = ("approved_at",)
    default_sort = "-approved_at"

    def base(self, *, include_archived: bool = False) -> Select:
        return select(RoadmapItemApproval)

    def filtered(
        self, *, include_archived: bool = False, roadmap_item_id: uuid.UUID | None = None
    ) -> Select:
        stmt = self.base()
        if roadmap_item_id is not None:
            stmt = stmt.where(RoadmapItemApproval.roadmap_item_id == roadmap_item_id)
        return stmt

    async def current(self, item_id: uuid.UUID) -> RoadmapItemApproval | None:
        """The approval that counts now (at most one: approving marks none stale, and a
        new approval is only made when there is no current one)."""
        stmt = (
            self.filtered(roadmap_item_id=item_id)
            .where(RoadmapItemApproval.stale_at.is_(None))
            .order_by(RoadmapItemApproval.approved_at.desc(), RoadmapItemApproval.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def history(self, item_id: uuid.UUID, query: ListQuery) -> Page[RoadmapItemApproval]:
        return await self.page(self.filtered(roadmap_item_id=item_id), query)

    async def histories(
        self, item_ids: Collection[uuid.UUID], query: ListQuery
    ) -> dict[uuid.UUID, Page[RoadmapItemApproval]]:
        """One history page per item, in one statement (GraphQL RoadmapItem.approvals)."""
        return await self.pages_by(
            self.base(), query, RoadmapItemApproval.roadmap_item_id, item_ids
        )

    async def count_by_item(self, item_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await self.count_by(self.base(), RoadmapItemApproval.roadmap_item_id, item_ids)

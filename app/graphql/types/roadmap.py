"""GraphQL types of roadmap items and their exec approvals."""

from __future__ import annotations

import datetime
import uuid

import strawberry

from app.graphql.fastpath import JsonPage
from app.graphql.types.comments import comments_field
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Info,
    LazyProduct,
    child_connection,
    history_query,
    register_enums,
    rendered_page,
)
from app.graphql.types.insights import insights_field
from app.graphql.types.stories import stories_field
from app.roadmap import service as roadmap_service
from app.roadmap.models import RoadmapItem
from app.roadmap.repository import RoadmapItemApprovalRepository
from app.roadmap.schemas import ApprovalEntryStatus, ApprovalStatus, Horizon, RoadmapStatus

register_enums(Horizon, RoadmapStatus, ApprovalStatus, ApprovalEntryStatus)


def roadmap_page() -> dict[str, JsonPage]:
    """A product's roadmap items rendered by the database, their stories nested in the same
    statement when those are rendered too."""
    return rendered_page(
        RoadmapItem,
        roadmap_service.roadmap_items_json_by_product,
        roadmap_service.nested_roadmap_items_json,
        ("status", "horizon"),
    )


@strawberry.type(name="RoadmapItem")
class RoadmapItemType:
    id: strawberry.ID
    product_id: uuid.UUID
    title: str
    description: str
    theme: str | None
    horizon: Horizon
    target_quarter: str | None
    status: RoadmapStatus
    reach: int | None
    impact: float | None
    confidence: float | None
    effort: float | None
    rice_score: float | None = strawberry.field(description="reach·impact·confidence/effort")
    approved_by: str | None = strawberry.field(
        description="Approver of the current approval; null if none"
    )
    approved_at: datetime.datetime | None = strawberry.field(
        description="When the current approval was given"
    )
    approval_status: ApprovalStatus = strawberry.field(
        description="none, current, or stale (approved, then materially changed)"
    )
    owner_sub: str | None
    evidence_count: int = strawberry.field(description="Insights linked as evidence")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    async def product(self, info: Info) -> LazyProduct | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field(description="Exec approvals of this item, current and stale, newest first.")
    async def approvals(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[RoadmapItemApprovalType]:
        loaders = info.context.loaders
        return await child_connection(
            loaders.approvals_by_item,
            loaders.approval_count_by_item,
            RoadmapItemApprovalRepository,
            self.id,
            history_query(first, after),
        )

    comments = comments_field("roadmap_item", "Comments on this item, oldest first.")
    stories = stories_field("roadmap_item_id")
    insights = insights_field("roadmap_item_id", "Insights linked to this item as evidence.")


@strawberry.type(name="RoadmapItemApproval", description="One exec approval of one item version.")
class RoadmapItemApprovalType:
    id: strawberry.ID
    roadmap_item_id: uuid.UUID
    version: int = strawberry.field(description="The item version that was approved")
    approver_sub: str
    approved_at: datetime.datetime
    comment: str | None
    stale_at: datetime.datetime | None
    stale_by: str | None = strawberry.field(description="Who made the change that staled it")
    stale_reason: str | None = strawberry.field(description="material_change or reopened")
    stale_fields: list[str] | None = strawberry.field(
        description="Material fields whose change staled it"
    )

    @strawberry.field
    def status(self) -> ApprovalEntryStatus:
        return ApprovalEntryStatus.CURRENT if self.stale_at is None else ApprovalEntryStatus.STALE

    @strawberry.field(description="Whether this approval still counts")
    def current(self) -> bool:
        return self.stale_at is None

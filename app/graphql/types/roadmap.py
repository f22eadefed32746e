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
    from_model,
    history_query,
    register_enums,
    rendered_page,
)
from app.graphql.types.insights import insights_field
from app.graphql.types.stories import stories_field
from app.roadmap import service as roadmap_service
from app.roadmap.models import RoadmapItem
from app.roadmap.repository import RoadmapItemApprovalRepository
from app.roadmap.schemas import (
    ApprovalEntryStatus,
    ApprovalStatus,
    Horizon,
    RoadmapItemApprovalOut,
    RoadmapItemOut,
    RoadmapStatus,
)

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
@from_model(RoadmapItemOut, descriptions={"owner_sub": None})
class RoadmapItemType:
    id: strawberry.ID  # what the resolvers read, for the type checker
    product_id: uuid.UUID

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
@from_model(RoadmapItemApprovalOut, descriptions={"stale_by": "Who made the change that staled it"})
class RoadmapItemApprovalType:
    stale_at: datetime.datetime | None  # what the resolvers read, for the type checker

    @strawberry.field
    def status(self) -> ApprovalEntryStatus:
        return ApprovalEntryStatus.CURRENT if self.stale_at is None else ApprovalEntryStatus.STALE

    @strawberry.field(description="Whether this approval still counts")
    def current(self) -> bool:
        return self.stale_at is None

"""GraphQL type of products."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.graphql.columns import requested_columns
from app.graphql.sorts import RoadmapItemSort
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Info,
    child_connection,
    from_model,
    list_query,
    register_enums,
)
from app.graphql.types.roadmap import RoadmapItemType, roadmap_page
from app.graphql.types.stories import stories_field
from app.products.schemas import (
    FdaPathway,
    Iec62304Class,
    LifecycleStage,
    ProductOut,
    SamdSignificance,
    SamdSituation,
)
from app.roadmap.repository import RoadmapItemRepository
from app.roadmap.schemas import Horizon, RoadmapStatus

register_enums(LifecycleStage, SamdSignificance, SamdSituation, FdaPathway, Iec62304Class)


@strawberry.type(name="Product")
@from_model(ProductOut)
class ProductType:
    id: strawberry.ID  # what the resolvers read, for the type checker
    performance_metrics: JSON
    jira_status_map: JSON = strawberry.field(description="Jira status name -> story status")

    @strawberry.field(metadata=roadmap_page())
    async def roadmap_items(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: RoadmapItemSort | None = None,
        include_archived: bool = False,
        status: RoadmapStatus | None = None,
        horizon: Horizon | None = None,
    ) -> Connection[RoadmapItemType]:
        loaders = info.context.loaders
        filters = (status, horizon)
        columns = requested_columns(info)
        found = await child_connection(
            loaders.roadmap_items_by_product,
            loaders.roadmap_item_count_by_product,
            RoadmapItemRepository,
            self.id,
            list_query(first, after, sort, include_archived),
            filters,
            page_key=(*filters, columns),
        )
        if columns is None:  # rows of only some columns must not answer roadmapItem(id)
            loaders.roadmap_item.prime_many({i.id: i for i in found.nodes})
        return found

    stories = stories_field("product_id")

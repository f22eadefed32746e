"""GraphQL type of insights, and the insights connection of an interview, story or item."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.graphql.sorts import InsightSort
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Info,
    LazyInterview,
    LazyProduct,
    child_connection,
    from_model,
    list_query,
)
from app.insights.repository import InsightRepository
from app.insights.schemas import InsightOut


@strawberry.type(name="Insight")
@from_model(InsightOut)
class InsightType:
    interview_id: uuid.UUID  # what the resolvers read, for the type checker
    product_id: uuid.UUID

    @strawberry.field
    async def product(self, info: Info) -> LazyProduct | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field(description="The source interview, if this caller may read interviews.")
    async def interview(self, info: Info) -> LazyInterview | None:
        return await info.context.loaders.interview.load(self.interview_id)


async def insights_connection(
    info: Info,
    parent: Any,
    node_id: strawberry.ID | uuid.UUID,
    first: int,
    after: str | None,
    sort: InsightSort | None,
    include_archived: bool,
) -> Connection[InsightType]:
    loaders = info.context.loaders
    return await child_connection(
        loaders.insights_by(parent),
        loaders.insight_count_by(parent),
        InsightRepository,
        node_id,
        list_query(first, after, sort, include_archived),
    )


def insights_field(parent: str, description: str | None = None) -> Any:
    """The `insights` connection field of a type whose rows link insights by `parent`."""

    async def insights(
        root: Any,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InsightSort | None = None,
        include_archived: bool = False,
    ) -> Connection[InsightType]:
        return await insights_connection(
            info, parent, root.id, first, after, sort, include_archived
        )

    return strawberry.field(resolver=insights, description=description)

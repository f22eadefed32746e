"""GraphQL `search(query:, types:, first:, after:)`: the same service as GET /search."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.core.errors import Invalid
from app.core.pagination import Page
from app.graphql.types import Connection, Info, connection, list_query, product_filter_arg
from app.search import service
from app.search.repository import Hit


@strawberry.enum(name="SearchType")
class SearchTypeEnum(Enum):
    STORY = "story"
    ROADMAP_ITEM = "roadmap_item"
    INSIGHT = "insight"
    INTERVIEW = "interview"


@strawberry.type(name="SearchHit")
class SearchHitType:
    type: SearchTypeEnum
    id: strawberry.ID
    title: str
    snippet: str = strawberry.field(description="Matches wrapped in ** (redacted text only)")
    product_id: strawberry.ID
    score: float


def _hit(h: Hit) -> SearchHitType:
    return SearchHitType(
        type=SearchTypeEnum(h.type),
        id=strawberry.ID(str(h.id)),
        title=h.title,
        snippet=h.snippet,
        product_id=strawberry.ID(str(h.product_id)),
        score=h.score,
    )


class _Order:
    sortable = ("score",)
    default_sort = "-score"


async def _no_count() -> int:
    raise Invalid(
        "totalCount is not available for search.",
        errors=[{"loc": ["totalCount"], "msg": "not available"}],
    )


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Full-text search over what you may read: ranked, prefix matching."
    )
    async def search(
        self,
        info: Info,
        query: str,
        types: list[SearchTypeEnum] | None = None,
        product_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[SearchHitType]:
        lq = list_query(first, after, None, False)
        page = await service.search(
            info.context.ctx,
            query,
            types=service.parse_types([t.value for t in types] if types is not None else None),
            product_id=await product_filter_arg(info, product_id),
            limit=lq.limit,
            cursor=after,
        )
        hits = Page([_hit(h) for h in page.items], page.next_cursor)
        return connection(hits, lq, _Order, _no_count)

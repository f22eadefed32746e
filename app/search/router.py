from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.responses import Paginated, page_response
from app.core.pagination import MAX_LIMIT
from app.products.params import ProductFilter
from app.search import service
from app.search.schemas import SearchHitOut

router = APIRouter(tags=["search"])


class SearchResults(Paginated[SearchHitOut]):
    pass


@router.get(
    "/search",
    response_model=SearchResults,
    openapi_extra={"parameters": [service.TYPES_PARAMETER]},
)
async def search(
    request: Request,
    ctx: Context,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=service.MAX_QUERY,
            description="Words to find (letters and digits; other characters separate them)",
        ),
    ],
    product_id: ProductFilter,
    types: Annotated[str | None, Query(include_in_schema=False)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="From next_cursor")] = None,
) -> Response:
    """Full-text search (prefix matching, ranked, highlighted snippets) over what you may read."""
    page = await service.search(
        ctx,
        q,
        types=service.parse_types(types),
        product_id=product_id,
        limit=limit,
        cursor=cursor,
    )
    return page_response(request, page, SearchHitOut)

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch
from app.api.responses import Paginated, list_query_for, location, page_response, resource_response
from app.core.repository import ListQuery
from app.insights import service
from app.insights.repository import InsightRepository
from app.insights.schemas import InsightCreate, InsightOut, InsightUpdate
from app.products.params import ProductFilter

router = APIRouter(prefix="/insights", tags=["insights"])
SortedList = Annotated[ListQuery, Depends(list_query_for(InsightRepository.sortable))]
Sparse = Annotated[Fields, Depends(fields_query(InsightOut))]


class InsightList(Paginated[InsightOut]):
    pass


@router.get("", response_model=InsightList)
async def list_insights(
    request: Request,
    ctx: Context,
    query: SortedList,
    product_id: ProductFilter,
    interview_id: uuid.UUID | None = None,
    fields: Sparse = None,
) -> Response:
    """List insights."""
    page = await service.list_insights(ctx, query, product_id=product_id, interview_id=interview_id)
    return page_response(request, page, InsightOut, fields)


@router.post("", response_model=InsightOut, status_code=201)
async def create_insight(request: Request, ctx: Context, body: InsightCreate) -> Response:
    """Create an insight from an interview."""
    insight = await service.create_insight(ctx, body)
    return resource_response(
        insight, InsightOut, status=201, location=location(request, insight.id)
    )


@router.get("/{insight_id}", response_model=InsightOut)
async def get_insight(
    ctx: Context,
    insight_id: uuid.UUID,
    fields: Sparse = None,
) -> Response:
    """Get an insight."""
    return resource_response(await service.get_insight(ctx, insight_id), InsightOut, fields=fields)


@router.patch("/{insight_id}", response_model=InsightOut)
async def update_insight(
    ctx: Context, insight_id: uuid.UUID, body: InsightUpdate, if_match: IfMatch = None
) -> Response:
    """Update an insight and its evidence links."""
    view = await service.update_insight(ctx, insight_id, body, if_match=if_match)
    return resource_response(view, InsightOut)


@router.delete("/{insight_id}", response_model=InsightOut)
async def archive_insight(
    ctx: Context, insight_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    """Archive an insight."""
    view = await service.archive_insight(ctx, insight_id, if_match=if_match)
    return resource_response(view, InsightOut)

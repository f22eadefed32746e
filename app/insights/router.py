from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import id_path
from app.api.resources import ResourceRoutes
from app.api.responses import Paginated, list_query_for, page_response
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


one = ResourceRoutes(router, "/{insight_id}", id_path("insight_id"), InsightOut)
one.create(InsightCreate, service.create_insight, "Create an insight from an interview.")
one.read(service.get_insight, "Get an insight.")
one.update(InsightUpdate, service.update_insight, "Update an insight and its evidence links.")
one.archive(service.archive_insight, "Archive an insight.")

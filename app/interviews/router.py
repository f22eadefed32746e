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
from app.interviews import service
from app.interviews.repository import InterviewRepository
from app.interviews.schemas import InterviewCreate, InterviewOut, InterviewUpdate
from app.products.params import ProductFilter

router = APIRouter(prefix="/interviews", tags=["interviews"])
SortedList = Annotated[ListQuery, Depends(list_query_for(InterviewRepository.sortable))]
Sparse = Annotated[Fields, Depends(fields_query(InterviewOut))]


class InterviewList(Paginated[InterviewOut]):
    pass


@router.get("", response_model=InterviewList)
async def list_interviews(
    request: Request,
    ctx: Context,
    query: SortedList,
    product_id: ProductFilter,
    fields: Sparse = None,
) -> Response:
    """List interviews (redacted unless the caller may see PHI)."""
    page = await service.list_interviews(ctx, query, product_id=product_id)
    return page_response(request, page, InterviewOut, fields)


@router.post("", response_model=InterviewOut, status_code=201)
async def create_interview(request: Request, ctx: Context, body: InterviewCreate) -> Response:
    """Record a research interview."""
    view = await service.create_interview(ctx, body)
    return resource_response(view, InterviewOut, status=201, location=location(request, view.id))


@router.get("/{interview_id}", response_model=InterviewOut)
async def get_interview(
    ctx: Context,
    interview_id: uuid.UUID,
    fields: Sparse = None,
) -> Response:
    """Get an interview."""
    return resource_response(
        await service.get_interview(ctx, interview_id), InterviewOut, fields=fields
    )


@router.patch("/{interview_id}", response_model=InterviewOut)
async def update_interview(
    ctx: Context, interview_id: uuid.UUID, body: InterviewUpdate, if_match: IfMatch = None
) -> Response:
    """Update an interview."""
    view = await service.update_interview(ctx, interview_id, body, if_match=if_match)
    return resource_response(view, InterviewOut)


@router.delete("/{interview_id}", response_model=InterviewOut)
async def archive_interview(
    ctx: Context, interview_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    """Archive an interview."""
    view = await service.archive_interview(ctx, interview_id, if_match=if_match)
    return resource_response(view, InterviewOut)


@router.post("/{interview_id}/purge", response_model=InterviewOut)
async def purge_interview(ctx: Context, interview_id: uuid.UUID) -> Response:
    """Erase an interview's PHI after consent was withdrawn (compliance officer)."""
    return resource_response(await service.purge_interview(ctx, interview_id), InterviewOut)

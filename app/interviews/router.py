from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import id_path
from app.api.resources import ResourceRoutes
from app.api.responses import Paginated, list_query_for, page_response, resource_response
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


one = ResourceRoutes(router, "/{interview_id}", id_path("interview_id"), InterviewOut)
one.create(InterviewCreate, service.create_interview, "Record a research interview.")
one.read(service.get_interview, "Get an interview.")
one.update(InterviewUpdate, service.update_interview, "Update an interview.")
one.archive(service.archive_interview, "Archive an interview.")


@router.post("/{interview_id}/purge", response_model=InterviewOut)
async def purge_interview(ctx: Context, interview_id: uuid.UUID) -> Response:
    """Erase an interview's PHI after consent was withdrawn (compliance officer)."""
    return resource_response(await service.purge_interview(ctx, interview_id), InterviewOut)

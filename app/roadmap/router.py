from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch
from app.api.responses import (
    HistoryQuery,
    Paginated,
    list_query_for,
    location,
    page_response,
    resource_response,
)
from app.core.repository import ListQuery
from app.products.params import ProductFilter
from app.roadmap import service
from app.roadmap.repository import RoadmapItemRepository
from app.roadmap.schemas import (
    Horizon,
    RoadmapItemApprovalInput,
    RoadmapItemApprovalOut,
    RoadmapItemCreate,
    RoadmapItemOut,
    RoadmapItemUpdate,
    RoadmapStatus,
)

Owner = Annotated[
    str | None, Query(max_length=255, description="A subject, or `me` for the items you own")
]
router = APIRouter(prefix="/roadmap-items", tags=["roadmap"])
SortedList = Annotated[ListQuery, Depends(list_query_for(RoadmapItemRepository.sortable))]
Sparse = Annotated[Fields, Depends(fields_query(RoadmapItemOut))]


class RoadmapItemList(Paginated[RoadmapItemOut]):
    pass


class RoadmapItemApprovalList(Paginated[RoadmapItemApprovalOut]):
    pass


@router.get("", response_model=RoadmapItemList)
async def list_roadmap_items(
    request: Request,
    ctx: Context,
    query: SortedList,
    product_id: ProductFilter,
    status: RoadmapStatus | None = None,
    horizon: Horizon | None = None,
    owner: Owner = None,
    fields: Sparse = None,
) -> Response:
    """List roadmap items (sort=-rice_score for RICE order)."""
    page = await service.list_roadmap_items(
        ctx, query, product_id=product_id, status=status, horizon=horizon, owner=owner
    )
    return page_response(request, page, RoadmapItemOut, fields)


@router.post("", response_model=RoadmapItemOut, status_code=201)
async def create_roadmap_item(request: Request, ctx: Context, body: RoadmapItemCreate) -> Response:
    """Create a roadmap item."""
    item = await service.create_roadmap_item(ctx, body)
    return resource_response(item, RoadmapItemOut, status=201, location=location(request, item.id))


@router.get("/{item_id}", response_model=RoadmapItemOut)
async def get_roadmap_item(
    ctx: Context,
    item_id: uuid.UUID,
    fields: Sparse = None,
) -> Response:
    """Get a roadmap item."""
    return resource_response(
        await service.get_roadmap_item(ctx, item_id), RoadmapItemOut, fields=fields
    )


@router.patch("/{item_id}", response_model=RoadmapItemOut)
async def update_roadmap_item(
    ctx: Context, item_id: uuid.UUID, body: RoadmapItemUpdate, if_match: IfMatch = None
) -> Response:
    """Update a roadmap item."""
    item = await service.update_roadmap_item(ctx, item_id, body, if_match=if_match)
    return resource_response(item, RoadmapItemOut)


@router.delete("/{item_id}", response_model=RoadmapItemOut)
async def archive_roadmap_item(
    ctx: Context, item_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    """Archive a roadmap item."""
    item = await service.archive_roadmap_item(ctx, item_id, if_match=if_match)
    return resource_response(item, RoadmapItemOut)


@router.post("/{item_id}/approve", response_model=RoadmapItemOut)
async def approve_roadmap_item(
    ctx: Context,
    item_id: uuid.UUID,
    body: Annotated[RoadmapItemApprovalInput | None, Body()] = None,
    if_match: IfMatch = None,
) -> Response:
    """Approve the item's current version (exec); optional comment; If-Match pins the version."""
    item = await service.approve_roadmap_item(ctx, item_id, body, if_match=if_match)
    return resource_response(item, RoadmapItemOut)


@router.get("/{item_id}/approvals", response_model=RoadmapItemApprovalList)
async def list_roadmap_item_approvals(
    request: Request,
    ctx: Context,
    item_id: uuid.UUID,
    query: HistoryQuery,
) -> Response:
    """List a roadmap item's approvals, current and stale, newest first."""
    page = await service.list_approvals(ctx, item_id, query)
    return page_response(request, page, RoadmapItemApprovalOut)

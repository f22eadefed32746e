from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch, id_path
from app.api.resources import ResourceRoutes
from app.api.responses import (
    Paginated,
    list_query_for,
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


one = ResourceRoutes(router, "/{item_id}", id_path("item_id"), RoadmapItemOut)
one.create(RoadmapItemCreate, service.create_roadmap_item, "Create a roadmap item.")
one.read(service.get_roadmap_item, "Get a roadmap item.")
one.update(RoadmapItemUpdate, service.update_roadmap_item, "Update a roadmap item.")
one.archive(service.archive_roadmap_item, "Archive a roadmap item.")


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


one.history(
    "/approvals",
    RoadmapItemApprovalList,
    RoadmapItemApprovalOut,
    service.list_approvals,
    "List a roadmap item's approvals, current and stale, newest first.",
    name="list_roadmap_item_approvals",
)

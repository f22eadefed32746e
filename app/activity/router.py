from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.activity import service
from app.api.deps import Context
from app.api.responses import Paginated, page_response
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.schemas import OutputModel
from app.products.params import ProductPath

router = APIRouter(tags=["activity"])


class ActivityOut(OutputModel):
    id: uuid.UUID = Field(description="The audit event")
    occurred_at: datetime
    actor_sub: str | None
    actor_role: str | None
    action: str = Field(description="create, update, delete, approve, review, import, purge")
    resource_type: str | None
    resource_ids: list[str]
    changed_fields: list[str] = Field(description="Field names only, never values")


class ActivityList(Paginated[ActivityOut]):
    pass


@router.get("/products/{product_id}/activity", response_model=ActivityList)
async def product_activity(
    request: Request,
    ctx: Context,
    product_id: ProductPath,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048, description="From next_cursor")] = None,
) -> Response:
    """Who changed what in the product, and when, newest first (names of fields, no values)."""
    page = await service.activity(ctx, product_id, limit=limit, cursor=cursor)
    return page_response(request, page, ActivityOut)

"""/api/v1/webhooks: subscriptions and their delivery log (SPEC §10)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch
from app.api.responses import HistoryQuery, Paginated, page_response, resource_response
from app.feed import service
from app.feed.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Sparse = Annotated[Fields, Depends(fields_query(WebhookOut))]


class WebhookList(Paginated[WebhookOut]):
    pass


class DeliveryList(Paginated[DeliveryOut]):
    pass


@router.get("", response_model=WebhookList)
async def list_webhooks(
    request: Request,
    ctx: Context,
    query: HistoryQuery,
    fields: Sparse = None,
) -> Response:
    """List the webhook subscriptions you manage."""
    page = await service.list_webhooks(ctx, limit=query.limit, cursor=query.cursor)
    return page_response(request, page, WebhookOut, fields)


@router.post("", response_model=WebhookCreated, status_code=201)
async def create_webhook(ctx: Context, body: WebhookCreate) -> Response:
    """Subscribe a URL to change events; the signing secret is in this response only."""
    sub, secret = await service.create_webhook(ctx, body)
    out = WebhookCreated(**WebhookOut.model_validate(sub).model_dump(), secret=secret)
    return Response(
        out.model_dump_json().encode(),
        status_code=201,
        media_type="application/json",
        headers={"ETag": f'"{sub.version}"', "Location": f"/api/v1/webhooks/{sub.id}"},
    )


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    ctx: Context,
    webhook_id: uuid.UUID,
    fields: Sparse = None,
) -> Response:
    """Get a webhook subscription (never its secret)."""
    return resource_response(await service.get_webhook(ctx, webhook_id), WebhookOut, fields=fields)


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    ctx: Context,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Change a subscription's URL, event types or active flag."""
    sub = await service.update_webhook(ctx, webhook_id, body, if_match=if_match)
    return resource_response(sub, WebhookOut)


@router.delete("/{webhook_id}", response_model=WebhookOut)
async def delete_webhook(ctx: Context, webhook_id: uuid.UUID, if_match: IfMatch = None) -> Response:
    """Delete (archive) a subscription; nothing more is delivered to it."""
    sub = await service.archive_webhook(ctx, webhook_id, if_match=if_match)
    return resource_response(sub, WebhookOut)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
async def list_webhook_deliveries(
    request: Request,
    ctx: Context,
    webhook_id: uuid.UUID,
    query: HistoryQuery,
) -> Response:
    """The delivery log: every event sent to this subscription with its attempts."""
    page = await service.list_deliveries(ctx, webhook_id, limit=query.limit, cursor=query.cursor)
    return page_response(request, page, DeliveryOut)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=202,
)
async def redeliver_webhook(
    ctx: Context, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> Response:
    """Send a delivery again now (a fresh retry schedule)."""
    out = DeliveryOut.model_validate(await service.redeliver(ctx, webhook_id, delivery_id))
    return Response(out.model_dump_json().encode(), status_code=202, media_type="application/json")

"""/api/v1/webhooks: subscriptions and their delivery log (SPEC §10)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import id_path
from app.api.resources import ResourceRoutes
from app.api.responses import HistoryQuery, Paginated, page_response
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


one = ResourceRoutes(router, "/{webhook_id}", id_path("webhook_id"), WebhookOut)
one.read(service.get_webhook, "Get a webhook subscription (never its secret).")
one.update(
    WebhookUpdate,
    service.update_webhook,
    "Change a subscription's URL, event types or active flag.",
)
one.archive(
    service.archive_webhook,
    "Delete (archive) a subscription; nothing more is delivered to it.",
    name="delete_webhook",
)


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

"""Webhook subscription use cases (SPEC §10): product managers for products they are members
of, admins for every product; the signing secret is returned once, at creation."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from app.authz import Permission, Reach, reach
from app.core.context import Ctx
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page
from app.core.repository import apply_changes, archive, check_if_match, save
from app.db.types import utcnow
from app.feed import ssrf
from app.feed.models import WebhookDelivery, WebhookSubscription
from app.feed.repository import DeliveryRepository, SubscriptionRepository
from app.feed.schemas import WebhookCreate, WebhookUpdate
from app.products.service import get_product

RESOURCE = "webhook_subscription"


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def check_url(ctx: Ctx, url: str) -> None:
    """422 unless the URL may receive webhooks (resolved and checked now, again at delivery)."""
    try:
        await ssrf.resolve(
            url,
            allow_private=ctx.settings.webhook_allow_private,
            require_https=ctx.settings.is_production,
        )
    except ssrf.UnsafeTarget as exc:
        raise Invalid(str(exc), errors=[{"loc": ["body", "url"], "msg": str(exc)}]) from exc


async def _authorize_scope(ctx: Ctx, product_id: uuid.UUID | None) -> None:
    if product_id is None:
        if reach(ctx.principal, Permission.webhooks_manage) is not Reach.any:
            raise Forbidden("Only admins may subscribe to every product; name a product_id.")
        return
    await get_product(ctx, product_id, audit=False)  # 404 when unreadable
    await ctx.authorize(Permission.webhooks_manage, product_id=product_id)


async def _visible(ctx: Ctx, sub: WebhookSubscription) -> bool:
    r = reach(ctx.principal, Permission.webhooks_manage)
    if r is Reach.any:
        return True
    if r is Reach.member and sub.product_id is not None:
        return sub.product_id in await ctx.memberships()
    return False


async def get_webhook(ctx: Ctx, sub_id: uuid.UUID, *, audit: bool = True) -> WebhookSubscription:
    """One subscription; 404 unless the caller manages it."""
    sub = await SubscriptionRepository(ctx.session).get(sub_id)
    if sub is None or not await _visible(ctx, sub):
        raise NotFound("No webhook subscription with that id.")
    if audit:
        ctx.audit.touch("read", RESOURCE, [sub.id], product_id=sub.product_id)
    return sub


async def list_webhooks(ctx: Ctx, *, limit: int, cursor: str | None) -> Page[WebhookSubscription]:
    """Subscriptions the caller manages (admins: all; product managers: their products')."""
    r = reach(ctx.principal, Permission.webhooks_manage)
    if r is None:
        raise Forbidden("Your role does not allow managing webhooks.")
    within = None if r is Reach.any else await ctx.memberships()
    page = await SubscriptionRepository(ctx.session).page(within=within, limit=limit, cursor=cursor)
    ctx.audit.touch("search", RESOURCE, [s.id for s in page.items])
    return page


async def create_webhook(ctx: Ctx, data: WebhookCreate) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to events; returns the subscription and its secret (shown once)."""
    await _authorize_scope(ctx, data.product_id)
    await check_url(ctx, data.url)
    secret = new_secret()
    sub = WebhookSubscription(
        url=data.url,
        event_types=list(data.event_types),
        product_id=data.product_id,
        active=data.active,
        secret=secret,
        created_by=ctx.principal.sub,
        owner_role=ctx.principal.role.value if ctx.principal.role else None,
    )
    await SubscriptionRepository(ctx.session).add(sub)
    ctx.audit.touch(
        "create",
        RESOURCE,
        [sub.id],
        product_id=sub.product_id,
        changed=sorted(data.model_fields_set | {"url", "secret"}),
    )
    return sub, secret


async def update_webhook(
    ctx: Ctx, sub_id: uuid.UUID, data: WebhookUpdate, *, if_match: str | None = None
) -> WebhookSubscription:
    """Change URL, event types or active; re-activating clears the failure state."""
    sub = await get_webhook(ctx, sub_id, audit=False)
    check_if_match(sub, if_match)
    changes: dict[str, Any] = data.changes()
    if "url" in changes:
        await check_url(ctx, changes["url"])
    if changes.get("active") and not sub.active:
        changes.update(failing_since=None, disabled_at=None, disabled_reason=None)
    changed = apply_changes(sub, changes)
    await save(ctx.session, sub)
    ctx.audit.touch("update", RESOURCE, [sub.id], product_id=sub.product_id, changed=changed)
    return sub


async def archive_webhook(
    ctx: Ctx, sub_id: uuid.UUID, *, if_match: str | None = None
) -> WebhookSubscription:
    """Delete (archive) a subscription: nothing more is delivered to it."""
    sub = await get_webhook(ctx, sub_id, audit=False)
    check_if_match(sub, if_match)
    changed = archive(sub)
    sub.active = False
    await save(ctx.session, sub)
    ctx.audit.touch("delete", RESOURCE, [sub.id], product_id=sub.product_id, changed=changed)
    return sub


async def list_deliveries(
    ctx: Ctx, sub_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The delivery log of a subscription, newest first, with every attempt."""
    sub = await get_webhook(ctx, sub_id, audit=False)
    page = await DeliveryRepository(ctx.session).page(sub.id, limit=limit, cursor=cursor)
    ctx.audit.touch(
        "search", "webhook_delivery", [d.id for d, _, _ in page.items], product_id=sub.product_id
    )
    return Page([_delivery(d, e, a) for d, e, a in page.items], page.next_cursor)


async def redeliver(ctx: Ctx, sub_id: uuid.UUID, delivery_id: uuid.UUID) -> dict[str, Any]:
    """Queue a delivery again now, with a fresh retry schedule (202)."""
    sub = await get_webhook(ctx, sub_id, audit=False)
    repo = DeliveryRepository(ctx.session)
    delivery = await repo.get(sub.id, delivery_id)
    if delivery is None:
        raise NotFound("No delivery with that id for this subscription.")
    now = utcnow()
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.lease_token = None
    delivery.updated_at = now
    await ctx.session.flush()
    ctx.audit.touch(
        "update", "webhook_delivery", [delivery.id], product_id=sub.product_id, changed=["state"]
    )
    event = await repo.event(delivery.event_id)
    assert event is not None
    return _delivery(delivery, event, await repo.attempts(delivery.id))


def _delivery(d: WebhookDelivery, e: Any, attempts: list[Any]) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event_type": e.type,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "state": d.state,
        "attempt_count": len(attempts),
        "next_attempt_at": d.next_attempt_at if d.state == "pending" else None,
        "last_status_code": d.last_status_code,
        "created_at": d.created_at,
        "attempts": attempts,
    }

"""A product's activity stream: who changed what, when — read from the audit trail, which
records resource types, ids, actions and changed field names, never values.

The change-feed outbox (SPEC §10) was not on main when this was built; when it lands this
can read its audit-safe events instead, with the same output."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.authz import Permission
from app.core.context import Ctx
from app.core.pagination import Page, SortSpec, apply_keyset, make_page
from app.products.service import get_product

# What a change is (reads, searches, exports and refusals are not activity).
ACTIONS = ("create", "update", "delete", "approve", "review", "import", "purge")
# Each resource type is shown to those who may read that type in the product: the stream
# must not reveal that an interview exists to someone who may not read interviews.
READ = {
    "product": Permission.product_read,
    "membership": Permission.product_read,
    "roadmap_item": Permission.roadmap_read,
    "story": Permission.story_read,
    "comment": Permission.story_read,
    "insight": Permission.insight_read,
    "interview": Permission.interview_read,
}
_ORDER = SortSpec("occurred_at", True)


async def activity(
    ctx: Ctx, product_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[AuditEvent]:
    """The product's changes, newest first, of the resource types the caller may read."""
    product = await get_product(ctx, product_id, audit=False)
    types = [t for t, p in READ.items() if await ctx.can(p, product_id=product.id)]
    stmt = select(AuditEvent).where(
        AuditEvent.product_id == str(product.id),
        AuditEvent.outcome == "success",
        AuditEvent.action.in_(ACTIONS),
        AuditEvent.resource_type.in_(types),
    )
    stmt = apply_keyset(
        stmt,
        column=AuditEvent.occurred_at,
        id_column=AuditEvent.id,
        sort=_ORDER,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await ctx.session.scalars(stmt)).all())
    ctx.audit.touch("read", "product", [product.id], product_id=product.id)
    return make_page(rows, sort=_ORDER, limit=limit, sort_attr="occurred_at")

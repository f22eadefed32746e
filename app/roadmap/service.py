"""Roadmap use cases: RICE scoring, exec approval, the in_progress gate."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from app.authz import Permission, authorize, can
from app.core.context import Ctx, touch_json_pages
from app.core.crud import (
    ListQuery,
    apply_changes,
    archive,
    check_if_match,
    not_archived,
    save,
)
from app.core.errors import Conflict, NotFound
from app.core.jsonpages import JsonMember, JsonNest
from app.core.pagination import Page
from app.db.types import utcnow
from app.products.service import get_product
from app.roadmap.models import RoadmapItem, rice_score
from app.roadmap.repository import RoadmapItemRepository
from app.roadmap.schemas import RoadmapItemCreate, RoadmapItemUpdate, RoadmapStatus

RESOURCE = "roadmap_item"


def _require_approval(item: RoadmapItem) -> None:
    if item.status == RoadmapStatus.IN_PROGRESS and item.approved_at is None:
        raise Conflict(
            "A roadmap item cannot move to in_progress until an exec has approved it.",
            extra={"allowed": ["proposed", "planned", "shipped", "cancelled"]},
        )


def _rescore(item: RoadmapItem) -> None:
    item.rice_score = rice_score(item.reach, item.impact, item.confidence, item.effort)


async def list_roadmap_items(
    ctx: Ctx,
    query: ListQuery,
    *,
    product_id: uuid.UUID | None = None,
    status: str | None = None,
    horizon: str | None = None,
) -> Page[RoadmapItem]:
    """Roadmap items, filtered and keyset-paginated."""
    authorize(ctx.principal, Permission.roadmap_read)
    page = await RoadmapItemRepository(ctx.session).list(
        query, product_id=product_id, status=status, horizon=horizon
    )
    ctx.audit.touch("search", RESOURCE, [i.id for i in page.items], product_id=product_id)
    return page


async def get_roadmap_item(ctx: Ctx, item_id: uuid.UUID, *, audit: bool = True) -> RoadmapItem:
    """One roadmap item; 404 when absent or unreadable."""
    item = await RoadmapItemRepository(ctx.session).get(item_id)
    if item is None or not can(ctx.principal, Permission.roadmap_read):
        raise NotFound("No roadmap item with that id.")
    if audit:
        ctx.audit.touch("read", RESOURCE, [item.id], product_id=item.product_id)
    return item


async def _authorize_write(ctx: Ctx, product_id: uuid.UUID) -> None:
    await ctx.authorize(Permission.roadmap_write, product_id=product_id)


async def create_roadmap_item(ctx: Ctx, data: RoadmapItemCreate) -> RoadmapItem:
    """Create a roadmap item in a product the principal may plan."""
    product = await get_product(ctx, data.product_id, audit=False)
    await _authorize_write(ctx, product.id)
    values = data.model_dump()
    item = RoadmapItem(**values, created_by=ctx.principal.sub)
    _require_approval(item)
    _rescore(item)
    await RoadmapItemRepository(ctx.session).add(item)
    ctx.audit.touch("create", RESOURCE, [item.id], product_id=product.id, changed=sorted(values))
    return item


async def update_roadmap_item(
    ctx: Ctx, item_id: uuid.UUID, data: RoadmapItemUpdate, *, if_match: str | None = None
) -> RoadmapItem:
    """Patch a roadmap item; in_progress requires exec approval (409)."""
    item = await get_roadmap_item(ctx, item_id, audit=False)
    await _authorize_write(ctx, item.product_id)
    check_if_match(item, if_match)
    not_archived(item)
    changed = apply_changes(item, data.changes())
    _require_approval(item)
    _rescore(item)
    await save(ctx.session, item)
    ctx.audit.touch("update", RESOURCE, [item.id], product_id=item.product_id, changed=changed)
    return item


async def archive_roadmap_item(
    ctx: Ctx, item_id: uuid.UUID, *, if_match: str | None = None
) -> RoadmapItem:
    """Archive a roadmap item."""
    item = await get_roadmap_item(ctx, item_id, audit=False)
    await _authorize_write(ctx, item.product_id)
    check_if_match(item, if_match)
    changed = archive(item)
    await save(ctx.session, item)
    ctx.audit.touch("delete", RESOURCE, [item.id], product_id=item.product_id, changed=changed)
    return item


async def approve_roadmap_item(ctx: Ctx, item_id: uuid.UUID) -> RoadmapItem:
    """Exec approval, which unlocks in_progress. Approving twice changes nothing."""
    item = await get_roadmap_item(ctx, item_id, audit=False)
    authorize(ctx.principal, Permission.roadmap_approve, product_id=item.product_id)
    not_archived(item)
    changed: list[str] = []
    if item.approved_at is None:
        changed = apply_changes(item, {"approved_by": ctx.principal.sub, "approved_at": utcnow()})
        await save(ctx.session, item)
    ctx.audit.touch("approve", RESOURCE, [item.id], product_id=item.product_id, changed=changed)
    return item


async def count_roadmap_items(
    ctx: Ctx,
    *,
    include_archived: bool = False,
    product_id: uuid.UUID | None = None,
    status: str | None = None,
    horizon: str | None = None,
) -> int:
    """How many roadmap items a list with these filters spans (GraphQL totalCount)."""
    authorize(ctx.principal, Permission.roadmap_read)
    repo = RoadmapItemRepository(ctx.session)
    return await repo.count(
        repo.filtered(
            include_archived=include_archived, product_id=product_id, status=status, horizon=horizon
        )
    )


async def roadmap_items_by_ids(
    ctx: Ctx, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, RoadmapItem]:
    """The readable roadmap items among `ids`, in one statement (nested GraphQL edges)."""
    if not ids or not can(ctx.principal, Permission.roadmap_read):
        return {}
    rows = await RoadmapItemRepository(ctx.session).by_ids(ids)
    ctx.audit.touch("read", RESOURCE, [i.id for i in rows])
    return {i.id: i for i in rows}


async def roadmap_items_by_product(
    ctx: Ctx,
    product_ids: Collection[uuid.UUID],
    query: ListQuery,
    *,
    status: str | None = None,
    horizon: str | None = None,
    columns: Collection[str] | None = None,
) -> dict[uuid.UUID, Page[RoadmapItem]]:
    """One page of roadmap items per product, all in one statement, as read-only rows; with
    `columns` (attribute names) the rows hold only those (see `pages_by`)."""
    authorize(ctx.principal, Permission.roadmap_read)
    stmt, shape = RoadmapItemRepository.filter_of(
        ctx.session, include_archived=query.include_archived, status=status, horizon=horizon
    )
    pages = await RoadmapItemRepository(ctx.session).pages_by(
        stmt, query, RoadmapItem.product_id, product_ids, as_rows=True, columns=columns, shape=shape
    )
    ctx.audit.touch("search", RESOURCE, [i.id for p in pages.values() for i in p.items])
    return pages


async def roadmap_items_json_by_product(
    ctx: Ctx,
    product_ids: Collection[uuid.UUID],
    query: ListQuery,
    members: tuple[JsonMember, ...],
    *,
    total: bool = False,
    status: str | None = None,
    horizon: str | None = None,
) -> dict[uuid.UUID, tuple[str, int]] | None:
    """`roadmap_items_by_product`'s first pages rendered as JSON text by the database (see
    `stories_json_by`), nested pages included; None when the rows must be read instead."""
    authorize(ctx.principal, Permission.roadmap_read)
    stmt, shape = RoadmapItemRepository.filter_of(
        ctx.session, include_archived=query.include_archived, status=status, horizon=horizon
    )
    found = await RoadmapItemRepository(ctx.session).json_pages_by(
        stmt, query, RoadmapItem.product_id, product_ids, members, shape=shape, total=total
    )
    return touch_json_pages(ctx, RESOURCE, product_ids, found)


def nested_roadmap_items_json(
    ctx: Ctx,
    query: ListQuery,
    members: tuple[JsonMember, ...],
    parts: tuple[tuple[str, Any], ...],
    *,
    status: str | None = None,
    horizon: str | None = None,
) -> JsonNest:
    """The roadmap items of each product a JSON page of products renders (see JsonNest)."""
    authorize(ctx.principal, Permission.roadmap_read)
    return RoadmapItemRepository.json_nest(
        ctx.session,
        key_attr="product_id",
        query=query,
        members=members,
        parts=parts,
        touch=lambda ids: ctx.audit.touch("search", RESOURCE, ids),
        status=status,
        horizon=horizon,
    )


async def count_roadmap_items_by_product(
    ctx: Ctx,
    product_ids: Collection[uuid.UUID],
    *,
    include_archived: bool = False,
    status: str | None = None,
    horizon: str | None = None,
) -> dict[uuid.UUID, int]:
    """Roadmap item counts per product, in one statement."""
    authorize(ctx.principal, Permission.roadmap_read)
    repo = RoadmapItemRepository(ctx.session)
    stmt = repo.filtered(include_archived=include_archived, status=status, horizon=horizon)
    return await repo.count_by(stmt, RoadmapItem.product_id, product_ids)

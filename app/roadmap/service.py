"""Roadmap use cases: RICE scoring, the status workflow and its exec-approval gate, and
approvals of a version (a material change makes the current approval stale)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from app.authz import Permission, authorize, can
from app.core.context import Ctx
from app.core.errors import Conflict
from app.core.history import History
from app.core.jsonpages import JsonMember, JsonNest
from app.core.pagination import Page
from app.core.reads import PagesBy
from app.core.repository import (
    ListQuery,
    apply_changes,
    archive,
    check_if_match,
    not_archived,
    save,
)
from app.db.types import utcnow
from app.feed import emit
from app.members.owners import require_member, resolve_me
from app.phi.scan import redact_free_text
from app.products.service import get_product
from app.roadmap import workflow
from app.roadmap.models import RoadmapItem, RoadmapItemApproval, rice_score
from app.roadmap.repository import RoadmapItemApprovalRepository, RoadmapItemRepository
from app.roadmap.schemas import (
    ApprovalStatus,
    RoadmapItemApprovalInput,
    RoadmapItemCreate,
    RoadmapItemUpdate,
)

RESOURCE = "roadmap_item"
# What an exec approves: a change to any of these makes the current approval stale.
MATERIAL_FIELDS = (
    "title",
    "description",
    "horizon",
    "target_quarter",
    "reach",
    "impact",
    "confidence",
    "effort",
)


def _move_conflict(current: str, target: str, *, approved: bool, new: bool = False) -> Conflict:
    """409 naming the moves that would work now, those only a current approval unlocks,
    and why this one was refused (`reason`: approval_required or not_allowed)."""
    if new:
        allowed, locked = list(workflow.INITIAL), []
        gated = True
        where = f"A new roadmap item cannot start in {target}"
    else:
        allowed = workflow.allowed_now(current, approved=approved)
        locked = workflow.blocked_by_approval(current, approved=approved)
        gated = target in locked
        where = f"A roadmap item cannot move from {current} to {target}"
    reason = "approval_required" if gated else "not_allowed"
    why = (
        ": approval required (no current exec approval; a material change since the last one "
        "makes it stale)"
        if gated
        else ""
    )
    detail = f"{where}{why}. Allowed: {', '.join(allowed) or 'none'}"
    if locked:
        detail += f"; with a current approval also: {', '.join(locked)}"
    return Conflict(
        detail + ".",
        extra={"allowed": allowed, "approval_required": locked, "reason": reason},
    )


def _check_move(current: str, target: str, *, approved: bool) -> None:
    if target == current:
        return
    if target not in workflow.moves(current) or (workflow.needs_approval(target) and not approved):
        raise _move_conflict(current, target, approved=approved)


def _rescore(item: RoadmapItem) -> None:
    item.rice_score = rice_score(item.reach, item.impact, item.confidence, item.effort)


def approval_went_stale(ctx: Ctx, item: RoadmapItem, approval: RoadmapItemApproval | None) -> None:
    """`roadmap_item.approval_stale` in the change feed (same transaction), so a webhook or
    Slack consumer can ask the exec to look again; `changed_fields` names what made it stale.
    The approval row (stale_at/stale_by/stale_fields) and the request's `update` audit event
    record it too."""
    fields = list(approval.stale_fields or []) if approval is not None else []
    emit(
        ctx,
        "roadmap_item.approval_stale",
        RESOURCE,
        item.id,
        product_id=item.product_id,
        changed=fields,
    )


async def list_roadmap_items(
    ctx: Ctx,
    query: ListQuery,
    *,
    product_id: uuid.UUID | None = None,
    status: str | None = None,
    horizon: str | None = None,
    owner: str | None = None,
) -> Page[RoadmapItem]:
    """Roadmap items, filtered and keyset-paginated; `owner` is a subject or `me`."""
    authorize(ctx.principal, Permission.roadmap_read)
    page = await RoadmapItemRepository(ctx.session).list(
        query,
        product_id=product_id,
        status=status,
        horizon=horizon,
        owner_sub=resolve_me(ctx, owner),
    )
    ctx.audit.touch("search", RESOURCE, [i.id for i in page.items], product_id=product_id)
    return page


async def get_roadmap_item(
    ctx: Ctx, item_id: uuid.UUID, *, audit: bool = True, lock: bool = False
) -> RoadmapItem:
    """One roadmap item; 404 when absent or unreadable. `lock`: for a change that depends on
    the item's current state (the approval gate), its row is locked until the transaction
    ends, so a concurrent approval and material change cannot both read the old state."""
    repo = RoadmapItemRepository(ctx.session)
    item = await (repo.get_for_update(item_id) if lock else repo.get(item_id))
    if item is None or not can(ctx.principal, Permission.roadmap_read):
        raise ctx.not_found(RESOURCE, item_id, "No roadmap item with that id.")
    if audit:
        ctx.audit.touch("read", RESOURCE, [item.id], product_id=item.product_id)
    return item


async def _authorize_write(ctx: Ctx, product_id: uuid.UUID) -> None:
    await ctx.authorize(Permission.roadmap_write, product_id=product_id)


async def create_roadmap_item(ctx: Ctx, data: RoadmapItemCreate) -> RoadmapItem:
    """Create a roadmap item in a product the principal may plan."""
    product = await get_product(ctx, data.product_id, audit=False)
    await _authorize_write(ctx, product.id)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    await require_member(ctx, product.id, data.owner_sub, "owner_sub")
    values = data.model_dump()
    if values["status"] not in workflow.INITIAL:
        # No approval can exist yet, so in_progress/shipped are "approval required".
        raise _move_conflict("", values["status"], approved=False, new=True)
    item = RoadmapItem(**values, created_by=ctx.principal.sub, approval_status="none")
    _rescore(item)
    await RoadmapItemRepository(ctx.session).add(item)
    ctx.audit.touch("create", RESOURCE, [item.id], product_id=product.id, changed=sorted(values))
    return item


async def update_roadmap_item(
    ctx: Ctx, item_id: uuid.UUID, data: RoadmapItemUpdate, *, if_match: str | None = None
) -> RoadmapItem:
    """Patch a roadmap item. Status moves follow the workflow, and those into in_progress or
    shipped need a current approval (409 naming the allowed moves). A material change makes
    the current approval stale — accepted in any status (an in_progress item keeps its
    status, flagged `approval_status: stale`) — and is judged before a move in the same
    PATCH, so a change cannot ride on the approval it invalidates."""
    item = await get_roadmap_item(ctx, item_id, audit=False, lock=True)
    await _authorize_write(ctx, item.product_id)
    check_if_match(item, if_match)
    not_archived(item)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    changes = data.changes()
    if changes.get("owner_sub") is not None:
        await require_member(ctx, item.product_id, changes["owner_sub"], "owner_sub")
    current, target = item.status, changes.get("status", item.status)
    approved = item.approval_status == ApprovalStatus.CURRENT
    material = [f for f in MATERIAL_FIELDS if f in changes and getattr(item, f) != changes[f]]
    reason = None
    if approved and material:
        reason = "material_change"
    elif approved and (current, target) in workflow.ENDS_APPROVAL:
        reason = "reopened"
    _check_move(current, target, approved=approved and reason is None)
    approval = None
    if reason is not None:
        approval = await RoadmapItemApprovalRepository(ctx.session).current(item.id)
        if approval is not None:
            approval.stale_at = utcnow()
            approval.stale_by = ctx.principal.sub
            approval.stale_reason = reason
            approval.stale_fields = material or ["status"]
        changes.update(
            approved_by=None, approved_at=None, approval_status=ApprovalStatus.STALE.value
        )
    changed = apply_changes(item, changes)
    _rescore(item)
    await save(ctx.session, item)
    if reason is not None:
        approval_went_stale(ctx, item, approval)
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


async def approve_roadmap_item(
    ctx: Ctx,
    item_id: uuid.UUID,
    data: RoadmapItemApprovalInput | None = None,
    *,
    if_match: str | None = None,
) -> RoadmapItem:
    """Exec approval of the item's current version, which unlocks in_progress and shipped
    until a material change makes it stale. With If-Match the exec approves exactly the
    version they read (412 otherwise). Approving an item whose approval is current changes
    nothing (and records no new approval)."""
    item = await get_roadmap_item(ctx, item_id, audit=False, lock=True)
    authorize(ctx.principal, Permission.roadmap_approve, product_id=item.product_id)
    check_if_match(item, if_match)
    not_archived(item)
    if data is not None:
        data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    changed: list[str] = []
    if item.approval_status != ApprovalStatus.CURRENT:
        now = utcnow()
        ctx.session.add(
            RoadmapItemApproval(
                roadmap_item_id=item.id,
                version=item.version,
                approver_sub=ctx.principal.sub,
                approved_at=now,
                comment=data.comment if data else None,
            )
        )
        changed = apply_changes(
            item,
            {
                "approved_by": ctx.principal.sub,
                "approved_at": now,
                "approval_status": ApprovalStatus.CURRENT.value,
            },
        )
        await save(ctx.session, item)
    ctx.audit.touch("approve", RESOURCE, [item.id], product_id=item.product_id, changed=changed)
    return item


APPROVALS = History(RoadmapItemApprovalRepository, Permission.roadmap_read, RESOURCE)
PAGES = PagesBy(RoadmapItemRepository, Permission.roadmap_read, RESOURCE)
# One approvals page, or count, per (already readable) roadmap item (GraphQL's loaders).
approvals_by_items = APPROVALS.pages
count_approvals_by_items = APPROVALS.counts


async def list_approvals(
    ctx: Ctx, item_id: uuid.UUID, query: ListQuery
) -> Page[RoadmapItemApproval]:
    """An item's approvals, current and stale, newest first; for whoever may read it."""
    item = await get_roadmap_item(ctx, item_id, audit=False)
    return await APPROVALS.page(ctx, item.id, item.product_id, query)


async def count_roadmap_items(
    ctx: Ctx,
    *,
    include_archived: bool = False,
    product_id: uuid.UUID | None = None,
    status: str | None = None,
    horizon: str | None = None,
    owner: str | None = None,
) -> int:
    """How many roadmap items a list with these filters spans (GraphQL totalCount)."""
    authorize(ctx.principal, Permission.roadmap_read)
    repo = RoadmapItemRepository(ctx.session)
    return await repo.count(
        repo.filtered(
            include_archived=include_archived,
            product_id=product_id,
            status=status,
            horizon=horizon,
            owner_sub=resolve_me(ctx, owner),
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
    return await PAGES.rows(
        ctx,
        query,
        RoadmapItem.product_id,
        product_ids,
        columns=columns,
        status=status,
        horizon=horizon,
    )


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
    return await PAGES.json(
        ctx,
        query,
        RoadmapItem.product_id,
        product_ids,
        members,
        total=total,
        status=status,
        horizon=horizon,
    )


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
    return PAGES.nest(
        ctx, query, members, parts, key_attr="product_id", status=status, horizon=horizon
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

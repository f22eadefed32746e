"""Insight use cases: quotes scanned for PHI, evidence links to stories and roadmap items."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any, Literal

from app.authz import Permission, Reach, reach
from app.core.context import Ctx
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.pagination import Page
from app.core.repository import ListQuery, apply_changes, archive, bump, check_if_match, save
from app.insights.models import Insight, insight_roadmap_item, insight_story
from app.insights.repository import InsightRepository
from app.insights.schemas import InsightCreate, InsightOut, InsightUpdate
from app.interviews.models import Interview
from app.interviews.repository import InterviewRepository
from app.interviews.service import full_view_allowed, load_interview
from app.phi.scan import redact_free_text, scan_fields_async
from app.roadmap.models import RoadmapItem
from app.stories.models import Story

RESOURCE = "insight"


async def _full_quote(ctx: Ctx, insight: Insight, interviewer_sub: str | None) -> bool:
    return await ctx.can(
        Permission.interview_read_phi, product_id=insight.product_id, owner_sub=interviewer_sub
    )


async def present_many(ctx: Ctx, insights: Sequence[Insight]) -> list[InsightOut]:
    """The caller's views of many insights, with links, in a fixed number of statements."""
    repo = InsightRepository(ctx.session)
    ids = [i.id for i in insights]
    stories, items = await repo.links(ids)
    interviewers = await InterviewRepository(ctx.session).interviewers(
        {i.interview_id for i in insights}
    )
    out = []
    for i in insights:
        full = await _full_quote(ctx, i, interviewers.get(i.interview_id))
        out.append(
            InsightOut(
                id=i.id,
                interview_id=i.interview_id,
                product_id=i.product_id,
                title=i.title,
                quote=i.quote if full else i.quote_redacted,
                persona=i.persona,
                severity=i.severity,
                tags=i.tags,
                story_ids=stories.get(i.id, []),
                roadmap_item_ids=items.get(i.id, []),
                phi_detected=i.phi_detected,
                redacted=not full,
                created_at=i.created_at,
                updated_at=i.updated_at,
                version=i.version,
                archived_at=i.archived_at,
            )
        )
    return out


async def load_insight(ctx: Ctx, insight_id: uuid.UUID) -> Insight:
    insight = await InsightRepository(ctx.session).get(insight_id)
    return await ctx.readable(
        insight, Permission.insight_read, RESOURCE, insight_id, "No insight with that id."
    )


async def _show(ctx: Ctx, insight: Insight, action: str, changed=()) -> InsightOut:
    (view,) = await present_many(ctx, [insight])
    ctx.audit.touch(
        action,
        RESOURCE,
        [insight.id],
        product_id=insight.product_id,
        phi=not view.redacted,
        changed=changed,
    )
    return view


async def list_insights(
    ctx: Ctx,
    query: ListQuery,
    *,
    product_id: uuid.UUID | None = None,
    interview_id: uuid.UUID | None = None,
    story_id: uuid.UUID | None = None,
    roadmap_item_id: uuid.UUID | None = None,
) -> Page[InsightOut]:
    """Insights the caller may read, quotes redacted unless it may see the PHI."""
    r = reach(ctx.principal, Permission.insight_read)
    if r is None:
        raise Forbidden("Your role does not allow reading insights.")
    within = None if r is Reach.any else await ctx.memberships()
    page = await InsightRepository(ctx.session).list(
        query,
        product_id=product_id,
        interview_id=interview_id,
        within=within,
        story_id=story_id,
        roadmap_item_id=roadmap_item_id,
    )
    views = await present_many(ctx, page.items)
    ctx.audit.touch(
        "search",
        RESOURCE,
        [v.id for v in views],
        product_id=product_id,
        phi=any(not v.redacted and v.quote for v in views),
    )
    return Page(views, page.next_cursor)


async def get_insight(ctx: Ctx, insight_id: uuid.UUID) -> InsightOut:
    """One insight in the caller's view."""
    return await _show(ctx, await load_insight(ctx, insight_id), "read")


async def _scan_quote(ctx: Ctx, insight: Insight, interview: Interview) -> None:
    """Redacted rendition and `phi_detected` of the quote. The participant's name is matched
    only for a writer who may see the interview's PHI: for anyone else the answer (and what
    they read back later) would tell whether a guessed name is the participant's."""
    knows_name = await full_view_allowed(ctx, interview)
    scan = await scan_fields_async(
        ctx.settings,
        {"quote": insight.quote},
        names=[interview.participant_name or ""] if knows_name else (),
    )
    insight.quote_redacted = scan.redacted["quote"]
    insight.phi_detected = scan.detected


def _check_not_purged(interview: Interview, quote: str | None) -> None:
    """A purged interview is a tombstone: no new insight, no quote (PHI) on an old one."""
    if interview.purged_at is not None and quote is not None:
        raise Conflict("The interview's PHI was purged; it takes no new quotes.")


async def _set_links(
    ctx: Ctx,
    insight: Insight,
    story_ids: list[uuid.UUID] | None,
    roadmap_item_ids: list[uuid.UUID] | None,
) -> list[str]:
    """Replace evidence links; every target must belong to the insight's product."""
    repo = InsightRepository(ctx.session)
    changed = []
    for field, ids, model, table, column in (
        ("story_ids", story_ids, Story, insight_story, "story_id"),
        (
            "roadmap_item_ids",
            roadmap_item_ids,
            RoadmapItem,
            insight_roadmap_item,
            "roadmap_item_id",
        ),
    ):
        if ids is None:
            continue
        foreign = await repo.foreign_ids(model, ids, insight.product_id)
        if foreign:
            raise Invalid(
                "Evidence can only link to stories and roadmap items of the same product.",
                errors=[{"loc": ["body", field], "msg": f"{len(foreign)} id(s) not in product"}],
            )
        await repo.set_links(insight.id, table, column, ids)
        changed.append(field)
    return changed


async def _authorize_write(
    ctx: Ctx, product_id: uuid.UUID, resource: tuple[str, uuid.UUID]
) -> None:
    await ctx.authorize(Permission.insight_write, product_id=product_id, resource=resource)


async def create_insight(ctx: Ctx, data: InsightCreate) -> InsightOut:
    """Record a finding from an interview, optionally linked as evidence."""
    interview = await load_interview(ctx, data.interview_id)
    await _authorize_write(ctx, interview.product_id, ("interview", interview.id))
    if interview.purged_at is not None:
        raise Conflict("The interview's PHI was purged; no insight can be attached to it.")
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    values = data.model_dump(exclude={"story_ids", "roadmap_item_ids"})
    insight = Insight(**values, product_id=interview.product_id, created_by=ctx.principal.sub)
    await _scan_quote(ctx, insight, interview)
    await InsightRepository(ctx.session).add(insight)
    await _set_links(ctx, insight, data.story_ids, data.roadmap_item_ids)
    return await _show(ctx, insight, "create", changed=sorted(data.model_fields_set))


async def update_insight(
    ctx: Ctx, insight_id: uuid.UUID, data: InsightUpdate, *, if_match: str | None = None
) -> InsightOut:
    """Patch an insight; story_ids/roadmap_item_ids replace the evidence links."""
    insight = await load_insight(ctx, insight_id)
    await _authorize_write(ctx, insight.product_id, (RESOURCE, insight.id))
    check_if_match(insight, if_match)
    interview = None
    if "quote" in data.model_fields_set:
        interview = await ctx.session.get(Interview, insight.interview_id)
        assert interview is not None
        _check_not_purged(interview, data.quote)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    changes = data.changes()
    story_ids = changes.pop("story_ids", None)
    item_ids = changes.pop("roadmap_item_ids", None)
    if "story_ids" in data.model_fields_set and story_ids is None:
        story_ids = []
    if "roadmap_item_ids" in data.model_fields_set and item_ids is None:
        item_ids = []
    changed = apply_changes(insight, changes)
    rendition_moved = False
    if interview is not None:
        # Re-rendered whenever a quote is sent, even the stored one (see _scan_quote).
        before = insight.quote_redacted
        await _scan_quote(ctx, insight, interview)
        rendition_moved = insight.quote_redacted != before
    links = await _set_links(ctx, insight, story_ids, item_ids)
    if (links or rendition_moved) and not changed:
        bump(insight)  # links are part of the insight's state, so its ETag moves
    await save(ctx.session, insight)
    return await _show(ctx, insight, "update", changed=[*changed, *links])


async def archive_insight(
    ctx: Ctx, insight_id: uuid.UUID, *, if_match: str | None = None
) -> InsightOut:
    """Archive an insight (it stops counting as evidence)."""
    insight = await load_insight(ctx, insight_id)
    await _authorize_write(ctx, insight.product_id, (RESOURCE, insight.id))
    check_if_match(insight, if_match)
    changed = archive(insight)
    await save(ctx.session, insight)
    return await _show(ctx, insight, "delete", changed=changed)


async def _within(ctx: Ctx) -> Collection[uuid.UUID] | None:
    r = reach(ctx.principal, Permission.insight_read)
    if r is None:
        raise Forbidden("Your role does not allow reading insights.")
    return None if r is Reach.any else await ctx.memberships()


async def count_insights(
    ctx: Ctx,
    *,
    include_archived: bool = False,
    product_id: uuid.UUID | None = None,
    interview_id: uuid.UUID | None = None,
) -> int:
    """How many insights the caller may read with these filters (GraphQL totalCount)."""
    within = await _within(ctx)
    repo = InsightRepository(ctx.session)
    return await repo.count(
        repo.filtered(
            include_archived=include_archived,
            product_id=product_id,
            interview_id=interview_id,
            within=within,
        )
    )


InsightParent = Literal["interview_id", "roadmap_item_id", "story_id"]
_LINKS = {"roadmap_item_id": insight_roadmap_item, "story_id": insight_story}


def _by(parent: InsightParent, stmt: Any) -> tuple[Any, Any]:
    """The statement joined to the parent's column, and that column (the partition key)."""
    if parent == "interview_id":
        return stmt, Insight.interview_id
    link = _LINKS[parent]
    return stmt.join(link, link.c.insight_id == Insight.id), link.c[parent]


async def insights_by(
    ctx: Ctx, parent: InsightParent, keys: Collection[uuid.UUID], query: ListQuery
) -> dict[uuid.UUID, Page[InsightOut]]:
    """One page of insights (caller's view) per interview or linked roadmap item/story, in a
    fixed number of statements."""
    within = await _within(ctx)
    repo = InsightRepository(ctx.session)
    stmt, key = _by(parent, repo.filtered(include_archived=query.include_archived, within=within))
    pages = await repo.pages_by(stmt, query, key, keys)
    views = iter(await present_many(ctx, [i for p in pages.values() for i in p.items]))
    out = {k: Page([next(views) for _ in p.items], p.next_cursor) for k, p in pages.items()}
    shown = [v for p in out.values() for v in p.items]
    ctx.audit.touch(
        "search",
        RESOURCE,
        [v.id for v in shown],
        phi=any(not v.redacted and v.quote for v in shown),
    )
    return out


async def count_insights_by(
    ctx: Ctx, parent: InsightParent, keys: Collection[uuid.UUID], *, include_archived: bool = False
) -> dict[uuid.UUID, int]:
    """Insight counts per interview or linked roadmap item/story, in one statement."""
    within = await _within(ctx)
    repo = InsightRepository(ctx.session)
    stmt, key = _by(parent, repo.filtered(include_archived=include_archived, within=within))
    return await repo.count_by(stmt, key, keys)

"""Interview use cases: PHI scanning on write, minimum-necessary views, consent purge."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from app.authz import Permission, Reach, authorize, reach
from app.core.context import Ctx
from app.core.crud import ListQuery, apply_changes, archive, check_if_match, save
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import Page
from app.db.types import utcnow
from app.interviews.models import PHI_FIELDS, Interview
from app.interviews.repository import InterviewRepository
from app.interviews.schemas import ConsentStatus, InterviewCreate, InterviewOut, InterviewUpdate
from app.phi.redaction import scan_fields
from app.products.service import get_product

RESOURCE = "interview"
SCANNED = ("transcript", "summary")


def _rescan(interview: Interview) -> None:
    """Recompute the redacted renditions and PHI flags from the current PHI fields."""
    scan = scan_fields(
        {f: getattr(interview, f) for f in (*SCANNED, "participant_contact")},
        names=[interview.participant_name or ""],
    )
    interview.transcript_redacted = scan.redacted["transcript"]
    interview.summary_redacted = scan.redacted["summary"]
    categories = set(scan.categories)
    if interview.participant_name:
        categories.add("name")
    interview.phi_categories = sorted(categories)
    interview.phi_detected = bool(categories)


async def full_view_allowed(ctx: Ctx, interview: Interview) -> bool:
    """Minimum necessary: member PM, compliance officer, the interviewing clinician."""
    return await ctx.can(
        Permission.interview_read_phi,
        product_id=interview.product_id,
        owner_sub=interview.interviewer_sub,
    )


def present(interview: Interview, *, full: bool) -> InterviewOut:
    """The caller's view; the redacted one never carries a PHI column."""
    base = {
        "id": interview.id,
        "product_id": interview.product_id,
        "title": interview.title,
        "conducted_on": interview.conducted_on,
        "interviewer_sub": interview.interviewer_sub,
        "participant_persona": interview.participant_persona,
        "site": interview.site,
        "consent_status": interview.consent_status,
        "tags": interview.tags,
        "phi_detected": interview.phi_detected,
        "phi_categories": interview.phi_categories,
        "purged_at": interview.purged_at,
        "created_at": interview.created_at,
        "updated_at": interview.updated_at,
        "version": interview.version,
        "archived_at": interview.archived_at,
    }
    if full:
        return InterviewOut(
            **base,
            participant_name=interview.participant_name,
            participant_contact=interview.participant_contact,
            transcript=interview.transcript,
            summary=interview.summary,
            redacted=False,
        )
    return InterviewOut(
        **base,
        participant_name=None,
        participant_contact=None,
        transcript=interview.transcript_redacted,
        summary=interview.summary_redacted,
        redacted=True,
    )


async def _readable(ctx: Ctx, interview: Interview) -> bool:
    return await ctx.can(Permission.interview_read, product_id=interview.product_id)


async def load_interview(ctx: Ctx, interview_id: uuid.UUID) -> Interview:
    """The interview row if the caller may read it at all; 404 otherwise."""
    interview = await InterviewRepository(ctx.session).get(interview_id)
    if interview is None or not await _readable(ctx, interview):
        raise NotFound("No interview with that id.")
    return interview


async def _show(ctx: Ctx, interview: Interview, action: str, changed=()) -> InterviewOut:
    full = await full_view_allowed(ctx, interview)
    ctx.audit.touch(
        action,
        RESOURCE,
        [interview.id],
        product_id=interview.product_id,
        phi=full,
        changed=changed,
    )
    return present(interview, full=full)


async def list_interviews(
    ctx: Ctx, query: ListQuery, *, product_id: uuid.UUID | None = None
) -> Page[InterviewOut]:
    """Interviews the caller may read, each in the caller's view."""
    r = reach(ctx.principal, Permission.interview_read)
    if r is None:
        raise Forbidden("Your role does not allow reading interviews.")
    within = None if r is Reach.any else await ctx.memberships()
    page = await InterviewRepository(ctx.session).list(query, product_id=product_id, within=within)
    views = [present(i, full=await full_view_allowed(ctx, i)) for i in page.items]
    ctx.audit.touch(
        "search",
        RESOURCE,
        [v.id for v in views],
        product_id=product_id,
        phi=any(not v.redacted for v in views),
    )
    return Page(views, page.next_cursor)


async def get_interview(ctx: Ctx, interview_id: uuid.UUID) -> InterviewOut:
    """One interview in the caller's view."""
    return await _show(ctx, await load_interview(ctx, interview_id), "read")


async def create_interview(ctx: Ctx, data: InterviewCreate) -> InterviewOut:
    """Record an interview; free text is scanned and a redacted rendition stored."""
    product = await get_product(ctx, data.product_id, audit=False)
    await ctx.authorize(Permission.interview_write, product_id=product.id)
    values = data.model_dump()
    values["interviewer_sub"] = data.interviewer_sub or ctx.principal.sub
    interview = Interview(**values, created_by=ctx.principal.sub)
    _rescan(interview)
    await InterviewRepository(ctx.session).add(interview)
    return await _show(ctx, interview, "create", changed=sorted(data.model_fields_set))


async def update_interview(
    ctx: Ctx, interview_id: uuid.UUID, data: InterviewUpdate, *, if_match: str | None = None
) -> InterviewOut:
    """Patch an interview; PHI fields of a purged interview cannot be set again."""
    interview = await load_interview(ctx, interview_id)
    await ctx.authorize(Permission.interview_write, product_id=interview.product_id)
    check_if_match(interview, if_match)
    changes = data.changes()
    if interview.purged_at is not None and any(changes.get(f) for f in PHI_FIELDS):
        raise Conflict("This interview's PHI was purged; PHI fields cannot be set again.")
    changed = apply_changes(interview, changes)
    if set(changed) & {*SCANNED, "participant_name", "participant_contact"}:
        _rescan(interview)
    await save(ctx.session, interview)
    return await _show(ctx, interview, "update", changed=changed)


async def archive_interview(
    ctx: Ctx, interview_id: uuid.UUID, *, if_match: str | None = None
) -> InterviewOut:
    """Archive an interview."""
    interview = await load_interview(ctx, interview_id)
    await ctx.authorize(Permission.interview_archive, product_id=interview.product_id)
    check_if_match(interview, if_match)
    changed = archive(interview)
    await save(ctx.session, interview)
    return await _show(ctx, interview, "delete", changed=changed)


async def purge_interview(ctx: Ctx, interview_id: uuid.UUID) -> InterviewOut:
    """Consent withdrawn: erase every PHI field and quote irreversibly; keep a tombstone."""
    interview = await load_interview(ctx, interview_id)
    authorize(ctx.principal, Permission.interview_purge, product_id=interview.product_id)
    if interview.consent_status != ConsentStatus.WITHDRAWN:
        raise Conflict("Only an interview whose consent was withdrawn can be purged.")
    erased = {f: None for f in PHI_FIELDS} | {
        "transcript_redacted": None,
        "summary_redacted": None,
        "phi_detected": False,
        "phi_categories": [],
    }
    if interview.purged_at is None:
        erased["purged_at"] = utcnow()
    changed = apply_changes(interview, erased)
    insight_ids = await InterviewRepository(ctx.session).erase_insight_quotes(interview.id)
    await save(ctx.session, interview)
    ctx.audit.touch(
        "purge",
        RESOURCE,
        [interview.id, *insight_ids],
        product_id=interview.product_id,
        changed=[*changed, *(["insight.quote"] if insight_ids else [])],
    )
    return present(interview, full=False)


async def _within(ctx: Ctx) -> Collection[uuid.UUID] | None:
    r = reach(ctx.principal, Permission.interview_read)
    if r is None:
        raise Forbidden("Your role does not allow reading interviews.")
    return None if r is Reach.any else await ctx.memberships()


async def count_interviews(
    ctx: Ctx, *, include_archived: bool = False, product_id: uuid.UUID | None = None
) -> int:
    """How many interviews the caller may read with these filters (GraphQL totalCount)."""
    within = await _within(ctx)
    repo = InterviewRepository(ctx.session)
    return await repo.count(
        repo.filtered(include_archived=include_archived, product_id=product_id, within=within)
    )


async def interviews_by_ids(ctx: Ctx, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, InterviewOut]:
    """The caller's views of the readable interviews among `ids` (nested GraphQL edges)."""
    if not ids or reach(ctx.principal, Permission.interview_read) is None:
        return {}
    within = await _within(ctx)
    rows = await InterviewRepository(ctx.session).by_ids(ids)
    views = [
        present(i, full=await full_view_allowed(ctx, i))
        for i in rows
        if within is None or i.product_id in within
    ]
    ctx.audit.touch("read", RESOURCE, [v.id for v in views], phi=any(not v.redacted for v in views))
    return {v.id: v for v in views}

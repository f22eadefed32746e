"""Interview use cases: PHI scanning on write, minimum-necessary views, consent purge."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from app.authz import Permission, Reach, authorize, reach
from app.core.context import Ctx
from app.core.errors import Conflict, Forbidden
from app.core.pagination import Page
from app.core.repository import ListQuery, apply_changes, archive, bump, check_if_match, save
from app.db.types import utcnow
from app.interviews.models import PHI_FIELDS, Interview
from app.interviews.repository import PURGE_ERASERS, InterviewRepository
from app.interviews.schemas import ConsentStatus, InterviewCreate, InterviewOut, InterviewUpdate
from app.phi.scan import redact_free_text, scan_fields_async
from app.products.service import get_product

RESOURCE = "interview"
SCANNED = ("transcript", "summary")
# Stored redacted renditions are recomputed when one of these changes.
_SCAN_INPUTS = frozenset({*SCANNED, "participant_name", "participant_contact"})


async def _rescan(
    ctx: Ctx, interview: Interview, *, rewrite: Collection[str] = SCANNED, names: bool = True
) -> None:
    """Recompute the PHI flags from the current PHI fields, and the redacted renditions of
    `rewrite`. `names`: also match the participant's name, only for a writer who may see it
    (docs/phi.md, name oracle); `phi_categories` does not depend on it (a recorded name
    always adds `name`)."""
    scan = await scan_fields_async(
        ctx.settings,
        {f: getattr(interview, f) for f in (*SCANNED, "participant_contact")},
        names=[interview.participant_name or ""] if names else (),
    )
    for f in rewrite:
        setattr(interview, f"{f}_redacted", scan.redacted[f])
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


async def load_interview(ctx: Ctx, interview_id: uuid.UUID) -> Interview:
    """The interview row if the caller may read it at all; 404 otherwise."""
    interview = await InterviewRepository(ctx.session).get(interview_id)
    return await ctx.readable(
        interview, Permission.interview_read, RESOURCE, interview_id, "No interview with that id."
    )


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
    """Record an interview; free text is scanned and a redacted rendition stored. The
    interviewer defaults to the creator; naming someone else takes `interview:reassign`
    (a clinician may name only themselves: the interviewer sees the full PHI)."""
    product = await get_product(ctx, data.product_id, audit=False)
    await ctx.authorize(Permission.interview_write, product_id=product.id)
    if data.interviewer_sub not in (None, ctx.principal.sub):
        await ctx.authorize(Permission.interview_reassign, product_id=product.id)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    values = data.model_dump()
    values["interviewer_sub"] = data.interviewer_sub or ctx.principal.sub
    interview = Interview(**values, created_by=ctx.principal.sub)
    # The creator supplies the name and the text together: matching one in the other tells
    # them nothing they did not send.
    await _rescan(ctx, interview)
    await InterviewRepository(ctx.session).add(interview)
    return await _show(ctx, interview, "create", changed=sorted(data.model_fields_set))


async def _authorize_update(ctx: Ctx, interview: Interview, changes: dict) -> bool:
    """Which permissions the patch needs; True when it moves the interview to another
    interviewer. `interviewer_sub` grants full PHI ("own"), so changing it is not part of
    `interview:write`: only `interview:reassign` (member PM, compliance officer) may."""
    reassign = (
        changes.get("interviewer_sub", interview.interviewer_sub) != interview.interviewer_sub
    )
    on = (RESOURCE, interview.id)
    if reassign:
        await ctx.authorize(
            Permission.interview_reassign, product_id=interview.product_id, resource=on
        )
    if not reassign or set(changes) - {"interviewer_sub"}:
        await ctx.authorize(
            Permission.interview_write, product_id=interview.product_id, resource=on
        )
    return reassign


def _check_purged(interview: Interview, changes: dict) -> None:
    """A purged interview is a tombstone: no PHI-bearing content, no consent change."""
    if interview.purged_at is None:
        return
    if any(changes.get(f) is not None for f in PHI_FIELDS):
        raise Conflict("This interview's PHI was purged; PHI fields cannot be set again.")
    if changes.get("consent_status", interview.consent_status) != interview.consent_status:
        raise Conflict("This interview's PHI was purged; its consent status cannot change.")


async def update_interview(
    ctx: Ctx, interview_id: uuid.UUID, data: InterviewUpdate, *, if_match: str | None = None
) -> InterviewOut:
    """Patch an interview; PHI fields and the consent of a purged interview cannot be set
    again; the interviewer changes only through `interview:reassign`."""
    interview = await load_interview(ctx, interview_id)
    changes = data.changes()
    reassign = await _authorize_update(ctx, interview, changes)
    check_if_match(interview, if_match)
    _check_purged(interview, changes)
    # Decided before the change: whether this writer may see the participant's name.
    knows_name = await full_view_allowed(ctx, interview)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    changes = data.changes()
    previous = interview.interviewer_sub
    changed = apply_changes(interview, changes)
    if knows_name:
        if set(changed) & _SCAN_INPUTS:
            await _rescan(ctx, interview)
    else:
        # Only the text this writer sent is re-rendered, without the name list, even when it
        # equals what is stored: what it reads back must not tell whether a guess is right.
        sent = data.model_fields_set & set(SCANNED)
        if sent or set(changed) & _SCAN_INPUTS:
            before = [getattr(interview, f"{f}_redacted") for f in SCANNED]
            await _rescan(ctx, interview, rewrite=sent, names=False)
            after = [getattr(interview, f"{f}_redacted") for f in SCANNED]
            if after != before and not changed:
                bump(interview)
    await save(ctx.session, interview)
    if reassign:
        # Who held the "own" grant before and after, as subjects (never names or PHI).
        ctx.audit.also(
            "update",
            "principal",
            [previous, interview.interviewer_sub],
            product_id=interview.product_id,
            changed=["interviewer_sub"],
        )
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
    erased: dict[str, Any] = {f: None for f in PHI_FIELDS} | {
        "transcript_redacted": None,
        "summary_redacted": None,
        "phi_detected": False,
        "phi_categories": [],
    }
    if interview.purged_at is None:
        erased["purged_at"] = utcnow()
    changed = apply_changes(interview, erased)
    copies: list[uuid.UUID] = []
    for copied, erase in PURGE_ERASERS.items():
        ids = await erase(ctx.session, interview.id)
        if ids:
            copies += ids
            changed.append(copied)
    await save(ctx.session, interview)
    ctx.audit.touch(
        "purge", RESOURCE, [interview.id, *copies], product_id=interview.product_id, changed=changed
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
    """The caller's views of the readable interviews among `ids` (nested GraphQL edges);
    the others answer null and are audited as refused."""
    if not ids:
        return {}
    if reach(ctx.principal, Permission.interview_read) is None:
        views = []
    else:
        within = await _within(ctx)
        rows = await InterviewRepository(ctx.session).by_ids(ids)
        views = [
            present(i, full=await full_view_allowed(ctx, i))
            for i in rows
            if within is None or i.product_id in within
        ]
        ctx.audit.touch(
            "read", RESOURCE, [v.id for v in views], phi=any(not v.redacted for v in views)
        )
    found = {v.id: v for v in views}
    for i in ids:
        if i not in found:
            ctx.audit.refuse(RESOURCE, i)
    return found

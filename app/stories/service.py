"""Story use cases: per-product keys, Gherkin criteria, workflow and the clinical gate."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from app.authz import Permission, authorize, can
from app.core.context import Ctx
from app.core.errors import Conflict, Invalid, NotFound
from app.core.history import History
from app.core.jsonpages import JsonMember, JsonNest
from app.core.pagination import Page
from app.core.reads import PagesBy
from app.core.repository import (
    ListQuery,
    apply_changes,
    archive,
    check_if_match,
    save,
)
from app.db.types import utcnow
from app.feed import emit
from app.members.owners import require_member, resolve_me
from app.phi.scan import redact_free_text
from app.products.repository import ProductRepository
from app.products.service import get_product
from app.roadmap.service import get_roadmap_item
from app.stories.models import Story, StoryReview
from app.stories.repository import StoryRepository, StoryReviewRepository
from app.stories.schemas import (
    ClinicalReviewInput,
    ReviewStatus,
    StoryCreate,
    StoryStatus,
    StoryUpdate,
)
from app.stories.workflow import allowed_moves

RESOURCE = "story"
# What a clinician signs off: a change to any of these resets an approved review to pending.
# Acceptance criteria count by their Given/When/Then text; ticking `met` is progress, not
# content (otherwise marking the criteria met before done would void the sign-off).
CONTENT_FIELDS = ("title", "as_a", "i_want", "so_that", "description", "acceptance_criteria")


def _reviewed_text(criteria: list[dict[str, Any]] | None) -> list[tuple[Any, Any, Any]]:
    return [(c.get("given"), c.get("when"), c.get("then")) for c in criteria or ()]


def _content_changes(story: Story, changes: dict[str, Any]) -> list[str]:
    """The reviewed fields whose value `changes` would really change."""
    out = []
    for name in CONTENT_FIELDS:
        if name not in changes:
            continue
        old, new = getattr(story, name), changes[name]
        if name == "acceptance_criteria":
            old, new = _reviewed_text(old), _reviewed_text(new)
        if old != new:
            out.append(name)
    return out


def review_was_reset(ctx: Ctx, story: Story, review: StoryReview | None) -> None:
    """`story.review_reset` in the change feed (same transaction), so a webhook or Slack
    consumer can ask the clinician to look again; `changed_fields` names the content fields
    that changed. The review row (ended_at/end_reason/changed_fields) and the request's
    `update` audit event record it too."""
    fields = list(review.changed_fields or []) if review is not None else []
    emit(ctx, "story.review_reset", RESOURCE, story.id, product_id=story.product_id, changed=fields)


def _criteria(items: list[Any]) -> list[dict[str, Any]]:
    """Criteria as stored JSON; missing ids become AC-1, AC-2, … (unique within the story)."""
    out: list[dict[str, Any]] = []
    used = {c.id for c in items if c.id}
    n = 0
    for c in items:
        cid = c.id
        if not cid:
            n += 1
            while f"AC-{n}" in used:
                n += 1
            cid = f"AC-{n}"
            used.add(cid)
        out.append({"id": cid, "given": c.given, "when": c.when, "then": c.then, "met": c.met})
    if len({c["id"] for c in out}) != len(out):
        raise Invalid(
            "Acceptance criteria ids must be unique.",
            errors=[{"loc": ["body", "acceptance_criteria"], "msg": "duplicate id"}],
        )
    return out


def _pending_review() -> dict[str, Any]:
    return {
        "status": ReviewStatus.PENDING.value,
        "reviewer_sub": None,
        "reviewed_at": None,
        "comment": None,
    }


async def _check_roadmap_link(ctx: Ctx, product_id: uuid.UUID, item_id: uuid.UUID | None) -> None:
    if item_id is None:
        return
    try:
        item = await get_roadmap_item(ctx, item_id, audit=False)
    except NotFound:
        item = None
    if item is None or item.product_id != product_id:
        raise Invalid(
            "roadmap_item_id must name a roadmap item of the same product.",
            errors=[
                {"loc": ["body", "roadmap_item_id"], "msg": "not a roadmap item of this product"}
            ],
        )


async def _check_jira_key(ctx: Ctx, jira_key: str | None, except_id: uuid.UUID | None = None):
    if jira_key and await StoryRepository(ctx.session).jira_key_taken(
        jira_key, except_id=except_id
    ):
        raise Conflict("Another story is already linked to that Jira issue.")


async def list_stories(
    ctx: Ctx,
    query: ListQuery,
    *,
    product_id: uuid.UUID | None = None,
    roadmap_item_id: uuid.UUID | None = None,
    status: str | None = None,
    sprint: str | None = None,
    assignee: str | None = None,
    labels: Collection[str] = (),
    columns: Collection[str] | None = None,
) -> Page[Story]:
    """Stories, filtered and keyset-paginated (default backlog rank order); `assignee`
    is a subject or `me`, `labels` must all be on the story. `columns`: the rows need only
    these attributes (a sparse fieldset; id and the sort column always come)."""
    authorize(ctx.principal, Permission.story_read)
    page = await StoryRepository(ctx.session).list(
        query,
        product_id=product_id,
        roadmap_item_id=roadmap_item_id,
        status=status,
        sprint=sprint,
        assignee_sub=resolve_me(ctx, assignee),
        labels=tuple(labels),
        columns=columns,
    )
    ctx.audit.touch("search", RESOURCE, [s.id for s in page.items], product_id=product_id)
    return page


async def get_story(
    ctx: Ctx, ref: uuid.UUID | str, *, audit: bool = True, lock: bool = False
) -> Story:
    """One story by id or key (e.g. SEPS-12); 404 when absent or unreadable. `lock`: for a
    change that depends on the story's current state (the clinical gate), its row is locked
    until the transaction ends, so a concurrent sign-off and content change cannot both read
    the old state."""
    repo = StoryRepository(ctx.session)
    get = repo.get_for_update if lock else repo.get
    story: Story | None
    if isinstance(ref, uuid.UUID):
        story = await get(ref)
    else:
        try:
            story = await get(uuid.UUID(ref))
        except ValueError:
            story = await repo.get_by_key(ref.upper(), lock=lock) if len(ref) <= 32 else None
    if story is None or not can(ctx.principal, Permission.story_read):
        ctx.audit.refuse(RESOURCE, ref)
        raise NotFound("No story with that id or key.")
    if audit:
        ctx.audit.touch("read", RESOURCE, [story.id], product_id=story.product_id)
    return story


async def _authorize(ctx: Ctx, permission: Permission, product_id: uuid.UUID) -> None:
    await ctx.authorize(permission, product_id=product_id)


async def create_story(ctx: Ctx, data: StoryCreate) -> Story:
    """Create a story; its key is the product key and the next never-reused number."""
    product = await get_product(ctx, data.product_id, audit=False)
    await _authorize(ctx, Permission.story_write, product.id)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    await _check_roadmap_link(ctx, product.id, data.roadmap_item_id)
    await _check_jira_key(ctx, data.jira_key)
    await require_member(ctx, product.id, data.assignee_sub, "assignee_sub")
    number = await ProductRepository(ctx.session).next_story_number(product)
    values = data.model_dump(exclude={"acceptance_criteria", "rank"})
    story = Story(
        **values,
        acceptance_criteria=_criteria(data.acceptance_criteria),
        number=number,
        key=f"{product.key}-{number}",
        rank=data.rank or f"{number:010d}",
        clinical_review=_pending_review() if data.clinical_review_required else None,
        created_by=ctx.principal.sub,
    )
    try:
        await StoryRepository(ctx.session).add(story)
    except IntegrityError as exc:
        raise Conflict("The story conflicts with an existing one (key or jira_key).") from exc
    ctx.audit.touch(
        "create",
        RESOURCE,
        [story.id],
        product_id=product.id,
        changed=sorted(data.model_fields_set | {"key"}),
    )
    return story


def _check_transition(story: Story, new_status: str) -> None:
    if new_status == story.status:
        return
    allowed = allowed_moves(story.status)
    if new_status not in allowed:
        raise Conflict(
            f"A story cannot move from {story.status} to {new_status}; "
            f"allowed: {', '.join(allowed) or 'none'}.",
            extra={"allowed": allowed},
        )


def _check_clinical_gate(story: Story, before: str) -> None:
    review = story.clinical_review or {}
    if (
        story.status == StoryStatus.DONE
        and story.clinical_review_required
        and review.get("status") != ReviewStatus.APPROVED
    ):
        # `allowed` lists the moves open now: done is not one of them until a clinician
        # approves (a move to done from elsewhere is refused by the workflow first).
        allowed = [m for m in allowed_moves(before) if m != StoryStatus.DONE]
        raise Conflict(
            "A clinician must approve this story's clinical review before it can be done "
            f"(the review is {review.get('status') or 'pending'}); "
            f"allowed now: {', '.join(allowed) or 'none'}.",
            extra={"allowed": allowed, "reason": "review_required"},
        )


async def update_story(
    ctx: Ctx, ref: uuid.UUID | str, data: StoryUpdate, *, if_match: str | None = None
) -> Story:
    """Patch a story; status moves follow the workflow (409 naming the allowed ones). A change
    to reviewed content resets an approved clinical review to pending (history kept), which
    blocks done until a clinician approves again; status, points, labels, sprint or rank
    changes do not."""
    story = await get_story(ctx, ref, audit=False, lock=True)
    await _authorize(ctx, Permission.story_write, story.product_id)
    check_if_match(story, if_match)
    data = await redact_free_text(ctx.settings, ctx.audit, RESOURCE, data)
    changes = data.changes()
    if "status" in changes:
        _check_transition(story, changes["status"])
    if "roadmap_item_id" in changes:
        await _check_roadmap_link(ctx, story.product_id, changes["roadmap_item_id"])
    if changes.get("jira_key"):
        await _check_jira_key(ctx, changes["jira_key"], except_id=story.id)
    if changes.get("assignee_sub") is not None:
        await require_member(ctx, story.product_id, changes["assignee_sub"], "assignee_sub")
    if "acceptance_criteria" in changes:
        changes["acceptance_criteria"] = _criteria(data.acceptance_criteria or [])
    reset: list[str] = []
    if (story.clinical_review or {}).get("status") == ReviewStatus.APPROVED:
        reset = _content_changes(story, changes)
    if reset:
        required = changes.get("clinical_review_required", story.clinical_review_required)
        if required and changes.get("status", story.status) == StoryStatus.DONE:
            raise Conflict(
                "This change voids the story's clinical sign-off, and a done story needs one; "
                "reopen it (move to in_progress) first, then ask for a new review.",
                extra={"allowed": allowed_moves(StoryStatus.DONE), "reason": "review_required"},
            )
        changes["clinical_review"] = _pending_review()
    if changes.get("clinical_review_required") and story.clinical_review is None:
        changes["clinical_review"] = _pending_review()
    if changes.get("clinical_review_required") is False and story.clinical_review_required:
        # Waiving clinical sign-off is a product decision, not an engineer's shortcut to done.
        await _authorize(ctx, Permission.story_archive, story.product_id)
    previous: StoryReview | None = None
    if reset:
        previous = await StoryReviewRepository(ctx.session).current(story.id)
        if previous is not None:
            previous.ended_at = utcnow()
            previous.ended_by = ctx.principal.sub
            previous.end_reason = "content_changed"
            previous.changed_fields = reset
    before = story.status
    changed = apply_changes(story, changes)
    _check_clinical_gate(story, before)
    try:
        await save(ctx.session, story)
    except IntegrityError as exc:  # a concurrent update took the same jira_key
        raise Conflict("Another story is already linked to that Jira issue.") from exc
    if reset:
        review_was_reset(ctx, story, previous)
    ctx.audit.touch("update", RESOURCE, [story.id], product_id=story.product_id, changed=changed)
    return story


async def archive_story(ctx: Ctx, ref: uuid.UUID | str, *, if_match: str | None = None) -> Story:
    """Archive a story (its key stays taken)."""
    story = await get_story(ctx, ref, audit=False)
    await _authorize(ctx, Permission.story_archive, story.product_id)
    check_if_match(story, if_match)
    changed = archive(story)
    await save(ctx.session, story)
    ctx.audit.touch("delete", RESOURCE, [story.id], product_id=story.product_id, changed=changed)
    return story


async def review_story(
    ctx: Ctx, ref: uuid.UUID | str, data: ClinicalReviewInput, *, if_match: str | None = None
) -> Story:
    """Clinical sign-off of the story's current content by a member clinician (If-Match pins
    the version reviewed); 409 if the story needs none. The previous review stays in the
    history, superseded."""
    story = await get_story(ctx, ref, audit=False, lock=True)
    await _authorize(ctx, Permission.story_review, story.product_id)
    data = await redact_free_text(
        ctx.settings, ctx.audit, RESOURCE, data, prefix="clinical_review."
    )
    if not story.clinical_review_required:
        raise Conflict("This story does not require a clinical review.")
    check_if_match(story, if_match)
    now = utcnow()
    repo = StoryReviewRepository(ctx.session)
    previous = await repo.current(story.id)
    if previous is not None:
        previous.ended_at = now
        previous.ended_by = ctx.principal.sub
        previous.end_reason = "superseded"
    ctx.session.add(
        StoryReview(
            story_id=story.id,
            version=story.version,
            status=data.status.value,
            reviewer_sub=ctx.principal.sub,
            reviewed_at=now,
            comment=data.comment,
        )
    )
    review = {
        "status": data.status.value,
        "reviewer_sub": ctx.principal.sub,
        "reviewed_at": now.isoformat(),
        "comment": data.comment,
    }
    changed = apply_changes(story, {"clinical_review": review})
    await save(ctx.session, story)
    ctx.audit.touch("review", RESOURCE, [story.id], product_id=story.product_id, changed=changed)
    return story


REVIEWS = History(StoryReviewRepository, Permission.story_read, RESOURCE)
# One review-history page, or count, per (already readable) story (GraphQL's loaders).
reviews_by_stories = REVIEWS.pages
count_reviews_by_stories = REVIEWS.counts


async def list_reviews(ctx: Ctx, ref: uuid.UUID | str, query: ListQuery) -> Page[StoryReview]:
    """A story's clinical reviews, current and ended, newest first; for whoever may read it."""
    story = await get_story(ctx, ref, audit=False)
    return await REVIEWS.page(ctx, story.id, story.product_id, query)


async def count_stories(
    ctx: Ctx,
    *,
    include_archived: bool = False,
    product_id: uuid.UUID | None = None,
    roadmap_item_id: uuid.UUID | None = None,
    status: str | None = None,
    sprint: str | None = None,
    assignee: str | None = None,
    labels: Collection[str] = (),
) -> int:
    """How many stories a list with these filters spans (GraphQL totalCount)."""
    authorize(ctx.principal, Permission.story_read)
    repo = StoryRepository(ctx.session)
    stmt = repo.filtered(
        include_archived=include_archived,
        product_id=product_id,
        roadmap_item_id=roadmap_item_id,
        status=status,
        sprint=sprint,
        assignee_sub=resolve_me(ctx, assignee),
    )
    return await repo.count(repo.with_labels(stmt, tuple(labels)))


StoryParent = Literal["product_id", "roadmap_item_id"]
PAGES = PagesBy(StoryRepository, Permission.story_read, RESOURCE)


async def stories_by(
    ctx: Ctx,
    parent: StoryParent,
    keys: Collection[uuid.UUID],
    query: ListQuery,
    *,
    status: str | None = None,
    sprint: str | None = None,
    columns: Collection[str] | None = None,
) -> dict[uuid.UUID, Page[Story]]:
    """One page of stories per product or roadmap item, all in one statement, as read-only
    rows; with `columns` (attribute names) the rows hold only those (see `pages_by`)."""
    return await PAGES.rows(
        ctx, query, getattr(Story, parent), keys, columns=columns, status=status, sprint=sprint
    )


async def stories_json_by(
    ctx: Ctx,
    keys: Collection[uuid.UUID],
    query: ListQuery,
    members: tuple[JsonMember, ...],
    *,
    parent: StoryParent,
    total: bool = False,
    status: str | None = None,
    sprint: str | None = None,
) -> dict[uuid.UUID, tuple[str, int]] | None:
    """`stories_by`'s first pages rendered as JSON text by the database (PostgreSQL): one
    array of objects with `members` per parent, same rows, order, permission and audit;
    None when the rows must be read instead (see `Repository.json_pages_by`)."""
    return await PAGES.json(
        ctx, query, getattr(Story, parent), keys, members, total=total, status=status, sprint=sprint
    )


async def list_stories_json(
    ctx: Ctx,
    query: ListQuery,
    members: tuple[JsonMember, ...],
    *,
    total: bool = False,
    product_id: uuid.UUID | None = None,
    roadmap_item_id: uuid.UUID | None = None,
    status: str | None = None,
    sprint: str | None = None,
) -> tuple[str, int] | None:
    """`list_stories`' first page of one product's or one roadmap item's stories rendered
    as JSON text by the database (PostgreSQL), with its number of rows when `total`: the
    same rows, order, permission and audit; None when the rows must be read instead (no
    single parent, another database, a value only Python can write)."""
    if roadmap_item_id is not None and product_id is None:
        key, value = Story.roadmap_item_id, roadmap_item_id
    elif product_id is not None and roadmap_item_id is None:
        key, value = Story.product_id, product_id
    else:
        return None
    text = await PAGES.json_of(
        ctx, query, key, value, members, product_id=product_id, status=status, sprint=sprint
    )
    if text is None or not total:
        return None if text is None else (text, 0)
    # Counted like list_stories' totalCount, up to COUNT_CAP (a window count in the page
    # statement would read every story of a large product).
    count = await count_stories(
        ctx,
        include_archived=query.include_archived,
        product_id=product_id,
        roadmap_item_id=roadmap_item_id,
        status=status,
        sprint=sprint,
    )
    return text, count


def nested_stories_json(
    ctx: Ctx,
    query: ListQuery,
    members: tuple[JsonMember, ...],
    parts: tuple[tuple[str, Any], ...],
    *,
    parent: StoryParent,
    status: str | None = None,
    sprint: str | None = None,
) -> JsonNest:
    """The stories of each product or roadmap item a JSON page of those renders (see
    JsonNest): the same rows, permission and audit as `stories_by`."""
    return PAGES.nest(ctx, query, members, parts, key_attr=parent, status=status, sprint=sprint)


async def count_stories_by(
    ctx: Ctx,
    parent: StoryParent,
    keys: Collection[uuid.UUID],
    *,
    include_archived: bool = False,
    status: str | None = None,
    sprint: str | None = None,
) -> dict[uuid.UUID, int]:
    """Story counts per product or roadmap item, in one statement."""
    authorize(ctx.principal, Permission.story_read)
    repo = StoryRepository(ctx.session)
    stmt = repo.filtered(include_archived=include_archived, status=status, sprint=sprint)
    return await repo.count_by(stmt, getattr(Story, parent), keys)


async def record_jira_sync(ctx: Ctx, ref: uuid.UUID | str, sync: dict[str, Any]) -> Story:
    """Store the outcome of a Jira delivery on its story (`jira_sync`, SPEC §9); only a
    principal that may write the story (the Jira integration) records it."""
    story = await get_story(ctx, ref, audit=False)
    await _authorize(ctx, Permission.story_write, story.product_id)
    changed = apply_changes(story, {"jira_sync": sync})
    await save(ctx.session, story)
    ctx.audit.touch("update", RESOURCE, [story.id], product_id=story.product_id, changed=changed)
    return story

"""Jira deliveries applied through the story services as the `integration:jira` principal.

Order of a delivery: the signature (router) → parse (400) → the idempotency record (200
duplicate) → the linked product (202 ignored) → staleness against the story's last
applied event (200 stale) → create / update / archive through app/stories/service.py.
Rounds' rules win: a status move the workflow or the clinical gate refuses is left out,
the rest applies, and the story's `jira_sync` says `conflict` with the service's reason.
Jira text is PHI-scanned and only the redacted rendition reaches the story."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.context import Ctx
from app.core.errors import Conflict, Unauthenticated
from app.db.types import utcnow
from app.integrations.jira.payload import JiraEvent, parse
from app.integrations.jira.text import plain_text
from app.integrations.repository import JiraDeliveryRepository
from app.phi.redaction import scan_fields
from app.products.models import Product
from app.products.repository import ProductRepository
from app.stories import service as stories
from app.stories.models import Story
from app.stories.repository import StoryRepository
from app.stories.schemas import STORY_POINTS, StoryCreate, StoryStatus, StoryUpdate

# Jira Cloud retries a failed delivery (5xx, 408, 409, 425, 429, timeouts) a few times over
# minutes to hours, with the same X-Atlassian-Webhook-Identifier; Jira Server/Data Center
# does not retry. Two weeks covers every automatic retry many times over, plus an admin
# replaying deliveries after a Rounds outage of a long weekend; older ids are pruned.
JIRA_DELIVERY_RETENTION = timedelta(days=14)
CATEGORY_MAP = {
    "new": StoryStatus.READY,
    "indeterminate": StoryStatus.IN_PROGRESS,
    "done": StoryStatus.DONE,
}
POINTS_NAMES = ("story points", "story point estimate")
TITLE_MAX = 300
DESCRIPTION_MAX = 20_000


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int
    body: dict[str, Any]


def verify_signature(secret: str | None, raw: bytes, header: str | None) -> None:
    """SPEC §9: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, compared in
    constant time; 401 when the secret is unset, the header missing or the digest wrong."""
    if not secret:
        raise Unauthenticated("The Jira webhook is not configured on this server.", headers={})
    if not header:
        raise Unauthenticated("X-Hub-Signature is required.", headers={})
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.strip().lower().encode("latin-1")):
        raise Unauthenticated("The X-Hub-Signature does not match the body.", headers={})


def sign(secret: str, raw: bytes) -> str:
    """The X-Hub-Signature Jira sends for `raw` (CLI helper and tests)."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def target_status(product: Product, event: JiraEvent) -> StoryStatus | None:
    """The Rounds status of the issue's Jira status: the product's map (names match
    case-insensitively), else Jira's status category; None when neither says."""
    name = (event.status_name or "").casefold()
    for jira_name, status in (product.jira_status_map or {}).items():
        if jira_name.casefold() == name:
            return StoryStatus(status)
    return CATEGORY_MAP.get(event.status_category or "")


def _changed(event: JiraEvent, field: str, *names: str) -> bool:
    if event.changed is None:  # no changelog: the delivery describes the whole issue
        return True
    return any(c.field == field or c.name.casefold() in names for c in event.changed)


def _points(value: Any) -> tuple[bool, int | None]:
    """(usable, points) of the points field: on Rounds' scale or empty."""
    if value is None:
        return True, None
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        if int(value) in STORY_POINTS:
            return True, int(value)
    return False, None


async def receive(ctx: Ctx, raw: bytes, delivery_id: str | None) -> Outcome:
    """Apply one authenticated Jira delivery (SPEC §9)."""
    event = parse(raw)
    # Without X-Atlassian-Webhook-Identifier (old Jira Server), a byte-identical redelivery
    # is recognised by the body's digest.
    delivery_id = (delivery_id or "").strip()[:100] or "sha256:" + hashlib.sha256(raw).hexdigest()
    deliveries = JiraDeliveryRepository(ctx.session)
    now = utcnow()
    if not await deliveries.claim(delivery_id, event.issue_key, now):
        ctx.audit.touch("read", "jira_delivery")
        return Outcome(200, {"status": "duplicate"})
    await deliveries.prune(now - JIRA_DELIVERY_RETENTION)
    outcome = await _apply(ctx, event)
    await deliveries.finish(delivery_id, outcome.body["status"])
    return outcome


def _ignored(ctx: Ctx, reason: str) -> Outcome:
    ctx.audit.touch("create", "jira_delivery")
    return Outcome(202, {"status": "ignored", "reason": reason})


async def _apply(ctx: Ctx, event: JiraEvent) -> Outcome:
    if not event.handled:
        return _ignored(ctx, "Rounds syncs only issue created, updated and deleted events.")
    product = await ProductRepository(ctx.session).by_jira_project(event.project_key or "")
    if product is None or product.archived_at is not None:
        return _ignored(ctx, "No Rounds product is linked to this Jira project.")
    story = await StoryRepository(ctx.session).by_jira_key(event.issue_key or "")
    last = _last_applied(story)
    if last is not None and event.occurred_at < last:
        ctx.audit.touch("create", "jira_delivery", product_id=product.id)
        return Outcome(200, {"status": "stale"})
    if story is not None and story.product_id != product.id:
        return _ignored(ctx, "The issue's story belongs to another product.")
    if event.event == "jira:issue_deleted":
        if story is None or story.archived_at is not None:
            return _ignored(ctx, "No story follows this issue.")
        story = await stories.archive_story(ctx, story.id)
        story = await _record(ctx, story, event)
        return _applied(story)
    if story is not None and story.archived_at is not None:
        return _ignored(ctx, "The story that followed this issue is archived.")

    text, phi = _scan(event, creating=story is None)
    wanted = target_status(product, event)
    conflicts: list[str] = []  # what Rounds' rules refused (state "conflict")
    notes: list[str] = []  # what was left alone for another reason (state unchanged)
    points_field = ctx.settings.jira_story_points_field
    usable, points = _points(event.fields.get(points_field))
    points_changed = _changed(event, points_field, *POINTS_NAMES)
    if points_changed and not usable:
        notes.append("Its story points are not on Rounds' scale (0,1,2,3,5,8,13,21); kept.")
    if story is None:
        start = StoryStatus.BACKLOG if wanted == StoryStatus.BACKLOG else StoryStatus.READY
        story = await stories.create_story(
            ctx,
            StoryCreate(
                product_id=product.id,
                title=text.get("title") or event.issue_key or "Jira issue",
                description=text.get("description") or "",
                jira_key=event.issue_key,
                story_points=points if usable else None,
                status=start,
            ),
        )
        move = wanted is not None and wanted != story.status
    else:
        # A removed description clears it; a title is never emptied.
        changes: dict[str, Any] = {k: v for k, v in text.items() if v or k == "description"}
        if points_changed and usable:
            changes["story_points"] = points
        if changes:
            refused = await _update(ctx, story, StoryUpdate(**changes))
            if refused:
                conflicts.append(
                    f"Jira changed {event.issue_key}, but Rounds kept the story as it was: "
                    f"{refused}"
                )
        in_conflict = (story.jira_sync or {}).get("state") == "conflict"
        move = (_changed(event, "status") or in_conflict) and wanted != story.status
    if wanted is None:
        conflicts.append(
            f"Jira status '{event.status_name or 'unknown'}' has no Rounds equivalent; "
            "add it to the product's jira_status_map."
        )
    elif move:
        refused = await _update(ctx, story, StoryUpdate(status=wanted))
        if refused:
            conflicts.append(
                f"Jira moved {event.issue_key} to '{event.status_name}', but Rounds kept the "
                f"story in {story.status}: {refused}"
            )
    story = await _record(ctx, story, event, conflicts=conflicts, notes=notes)
    if phi:
        # Rounds handled PHI from Jira and stored only its redaction (docs/integrations.md).
        ctx.audit.touch("update", "story", [story.id], product_id=story.product_id, phi=True)
    return _applied(story)


def _last_applied(story: Story | None) -> datetime | None:
    """When the last Jira event applied to `story` happened (None: never synced)."""
    at = (story.jira_sync or {}).get("last_event_at") if story is not None else None
    return datetime.fromisoformat(at) if isinstance(at, str) else None


def _scan(event: JiraEvent, *, creating: bool) -> tuple[dict[str, str], bool]:
    """Title and description as stored (plain text, PHI redacted, within the columns) and
    whether the detector found PHI."""
    fields: dict[str, str | None] = {}
    if creating or _changed(event, "summary"):
        fields["title"] = (event.summary or "").replace("\x00", "").strip() or None
    if creating or _changed(event, "description"):
        fields["description"] = plain_text(event.description)
    scan = scan_fields(fields)
    out = {}
    for name, value in scan.redacted.items():
        if value is None:
            continue
        limit = TITLE_MAX if name == "title" else DESCRIPTION_MAX
        out[name] = value[:limit].strip()
    return out, scan.detected


async def _update(ctx: Ctx, story: Story, data: StoryUpdate) -> str | None:
    """Ask the story service for a change as any REST PATCH would; its refusal (the
    workflow, the clinical gate) is returned as the reason instead of failing the delivery."""
    try:
        await stories.update_story(ctx, story.id, data)
    except Conflict as exc:
        # The service refused after setting the attributes on the (shared) ORM object: the
        # refused values must not be flushed with the rest, so read back what is stored.
        await ctx.session.refresh(story)
        return exc.detail
    return None


async def _record(
    ctx: Ctx,
    story: Story,
    event: JiraEvent,
    *,
    conflicts: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Story:
    sync = {
        "state": "conflict" if conflicts else "in_sync",
        "detail": " ".join([*conflicts, *notes]) or None,
        "jira_status": event.status_name,
        "last_event_at": event.occurred_at.isoformat(),
        "changed_by": event.user_ref,
    }
    return await stories.record_jira_sync(ctx, story.id, sync)


def _applied(story: Story) -> Outcome:
    return Outcome(
        200,
        {
            "status": "applied",
            "story_id": str(story.id),
            "story_key": story.key,
            "jira_sync": story.jira_sync,
        },
    )

"""The Slack app's use cases. Requests are verified with slack_sdk's SignatureVerifier;
a Slack user acts as the Rounds principal linked to (team_id, user_id), through the same
services (permissions, audit) as REST. Interviews and insights are never read here."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.record import AuditRecord
from app.auth.principal import Principal, Role
from app.authz import Permission, authorize
from app.config import Settings
from app.core.context import Ctx
from app.core.errors import (
    AppError,
    Forbidden,
    MalformedRequest,
    NotFound,
    Unauthenticated,
)
from app.core.repository import ListQuery
from app.db.types import utcnow
from app.integrations.models import SlackLink, SlackLinkCode
from app.integrations.principals import SLACK_SUB
from app.integrations.repository import SlackLinkRepository
from app.integrations.slack import blocks
from app.integrations.slack.schemas import SlackLinkCreate
from app.products import service as products
from app.products.repository import ProductRepository
from app.roadmap import service as roadmap
from app.roadmap.schemas import Horizon, RoadmapStatus
from app.stories import service as stories

LINK_CODE_TTL = timedelta(minutes=10)
# Unambiguous letters and digits (no 0/O, 1/I/L): 8 of 31 symbols, about 40 bits.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SEARCH_PAGES = 5  # pages of 200 rows per resource a Slack search reads at most
MAX_TEXT = 500


def verify(
    settings: Settings, clock: Clock, raw: bytes, timestamp: str | None, signature: str | None
) -> None:
    """SPEC §9: v0 signature over `v0:{timestamp}:{body}` with SLACK_SIGNING_SECRET and a
    timestamp within 5 minutes (slack_sdk's SignatureVerifier); 401 otherwise."""
    if not settings.slack_signing_secret:
        raise Unauthenticated("The Slack app is not configured on this server.", headers={})
    if not timestamp or not signature or not timestamp.strip().isdigit() or not signature.isascii():
        raise Unauthenticated(
            "X-Slack-Request-Timestamp and X-Slack-Signature are required.", headers={}
        )
    verifier = SignatureVerifier(settings.slack_signing_secret, clock=clock)
    if not verifier.is_valid(body=raw, timestamp=timestamp.strip(), signature=signature.strip()):
        raise Unauthenticated("The Slack signature is invalid or too old.", headers={})


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalize(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def act_as(record: AuditRecord, link: SlackLink | None) -> Principal | None:
    """The linked principal (stamped on the audit record as acting via the Slack app), or
    None for an unlinked Slack user (then the integration itself is the actor)."""
    record.actor_type = "service"
    record.actor_sub = SLACK_SUB
    record.actor_role = None
    record.client_id = None
    if link is None:
        return None
    principal = Principal(sub=link.subject, type="user", role=Role(link.role))
    record.actor_sub = principal.sub
    record.actor_type = "user"
    record.actor_role = link.role
    record.client_id = SLACK_SUB
    return principal


@dataclass(slots=True)
class SlackRequest:
    session: AsyncSession
    audit: AuditRecord
    settings: Settings

    def ctx(self, principal: Principal) -> Ctx:
        return Ctx(
            session=self.session, principal=principal, audit=self.audit, settings=self.settings
        )

    async def principal(self, team_id: str, user_id: str) -> Principal | None:
        link = await SlackLinkRepository(self.session).get(team_id, user_id)
        return act_as(self.audit, link)


def _field(form: Mapping[str, Any], name: str, limit: int = 32) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedRequest(f"The Slack payload has no valid {name}.")
    return value


# --- slash commands ----------------------------------------------------------------------
async def command(req: SlackRequest, form: Mapping[str, Any]) -> dict[str, Any]:
    """Answer `/rounds <text>` as the linked principal (SPEC §9)."""
    team_id, user_id = _field(form, "team_id"), _field(form, "user_id")
    text = t if isinstance(t := form.get("text"), str) else ""
    words = text[:MAX_TEXT].split()
    share = "--share" in words
    words = [w for w in words if w != "--share"]
    verb = words[0].lower() if words else "help"
    principal = await req.principal(team_id, user_id)
    try:
        if verb == "link":
            return await _link_code(req, team_id, user_id)
        if principal is None:
            return blocks.not_linked_message()
        handler = _COMMANDS.get(verb)
        if handler is None:
            return blocks.help_message(f"Unknown command '{verb[:30]}'." if words else None)
        try:
            return await handler(req.ctx(principal), words[1:], share)
        except NotFound:
            return blocks.error_message("Nothing you can read has that key.")
        except Forbidden:
            req.audit.touch("access_denied", "slack_command")
            return blocks.error_message("Your Rounds role does not allow that.")
    finally:
        if req.audit.action is None:  # answered without touching data (help, how-to-link)
            req.audit.touch("read", "slack_command")


async def _help(ctx: Ctx, args: list[str], share: bool) -> dict[str, Any]:
    return blocks.help_message()


async def _story(ctx: Ctx, args: list[str], share: bool) -> dict[str, Any]:
    if len(args) != 1:
        return blocks.error_message("Usage: /rounds story KEY (e.g. SEPSIS-12)")
    story = await stories.get_story(ctx, args[0][:64])
    return blocks.story_message(story, share=share)


async def _roadmap(ctx: Ctx, args: list[str], share: bool) -> dict[str, Any]:
    if not args or len(args) > 2:
        return blocks.error_message("Usage: /rounds roadmap PRODUCT_KEY [now|next|later]")
    horizon = args[1].lower() if len(args) == 2 else None
    if horizon is not None and horizon not in {h.value for h in Horizon}:
        return blocks.error_message("The horizon is one of now, next, later.")
    product_ref = await ProductRepository(ctx.session).by_key(args[0].upper()[:10])
    if product_ref is None:
        raise NotFound("no product")
    product = await products.get_product(ctx, product_ref.id)
    page = await roadmap.list_roadmap_items(
        ctx, ListQuery(limit=50, sort="-rice_score"), product_id=product.id, horizon=horizon
    )
    return blocks.roadmap_message(product.key, product.name, page.items, horizon, share=share)


async def _scan(
    fetch: Callable[[ListQuery], Awaitable[Any]], keep: Callable[[Any], bool]
) -> list[Any]:
    """Rows of a service's list (most recently updated first) that `keep` accepts."""
    found: list[Any] = []
    cursor = None
    for _ in range(SEARCH_PAGES):
        page = await fetch(ListQuery(limit=200, cursor=cursor, sort="-updated_at"))
        found.extend(r for r in page.items if keep(r))
        cursor = page.next_cursor
        if cursor is None or len(found) > blocks.MAX_ROWS:
            break
    return found


async def _search(ctx: Ctx, args: list[str], share: bool) -> dict[str, Any]:
    terms = [a.casefold() for a in args][:10]
    if not terms:
        return blocks.error_message("Usage: /rounds search WORDS")

    def matches(*texts: str | None) -> bool:
        hay = " ".join(t for t in texts if t).casefold()
        return all(t in hay for t in terms)

    found_stories = await _scan(
        lambda q: stories.list_stories(ctx, q), lambda s: matches(s.key, s.title)
    )
    found_items = await _scan(
        lambda q: roadmap.list_roadmap_items(ctx, q), lambda i: matches(i.title, i.theme)
    )
    return blocks.search_message(" ".join(args), found_stories, found_items, share=share)


async def _approvals(ctx: Ctx, args: list[str], share: bool) -> dict[str, Any]:
    waiting: list[Any] = []
    for status in (RoadmapStatus.PLANNED, RoadmapStatus.PROPOSED):
        page = await roadmap.list_roadmap_items(
            ctx, ListQuery(limit=200, sort="-rice_score"), status=status
        )
        waiting.extend(i for i in page.items if i.approved_at is None)
    return blocks.approvals_message(waiting, share=share)


_COMMANDS: dict[str, Callable[[Ctx, list[str], bool], Awaitable[dict[str, Any]]]] = {
    "help": _help,
    "story": _story,
    "roadmap": _roadmap,
    "search": _search,
    "approvals": _approvals,
}


async def _link_code(req: SlackRequest, team_id: str, user_id: str) -> dict[str, Any]:
    """A one-time code (only its hash is stored) that the signed-in user confirms."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    now = utcnow()
    await SlackLinkRepository(req.session).add_code(
        SlackLinkCode(
            code_hash=_hash(raw),
            team_id=team_id,
            user_id=user_id,
            expires_at=now + LINK_CODE_TTL,
            created_at=now,
        )
    )
    req.audit.touch("create", "slack_link_code")
    return blocks.link_code_message(code, int(LINK_CODE_TTL.total_seconds() // 60))


# --- interactivity -----------------------------------------------------------------------
def parse_interaction(form: Mapping[str, Any]) -> dict[str, Any]:
    payload = form.get("payload")
    if not isinstance(payload, str):
        raise MalformedRequest("The Slack interaction has no payload.")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise MalformedRequest("The Slack interaction payload is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedRequest("The Slack interaction payload must be an object.")
    return data


async def interaction(req: SlackRequest, data: dict[str, Any]) -> dict[str, Any]:
    """A button click: Approve calls the same approval service as REST (SPEC §9)."""
    user: dict[str, Any] = u if isinstance(u := data.get("user"), dict) else {}
    team: dict[str, Any] = t if isinstance(t := data.get("team"), dict) else {}
    team_id = user.get("team_id") or team.get("id")
    user_id = _field(user, "id")
    principal = await req.principal(_field({"team_id": team_id}, "team_id"), user_id)
    actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    if principal is None or action.get("action_id") != blocks.APPROVE_ACTION:
        req.audit.touch("read", "slack_interaction")
        if principal is None:
            return blocks.not_linked_message()
        return blocks.error_message("Rounds does not know that button.")
    try:
        item_id = uuid.UUID(str(action.get("value")))
    except ValueError:
        raise MalformedRequest("The button carries no roadmap item id.") from None
    ctx = req.ctx(principal)
    try:
        item = await roadmap.approve_roadmap_item(ctx, item_id)
    except NotFound:
        return blocks.error_message("That roadmap item no longer exists or you cannot see it.")
    except AppError as exc:  # Forbidden (not an exec), Conflict (the gates' rules)
        ctx.audit.touch(
            "access_denied" if isinstance(exc, Forbidden) else "approve", "roadmap_item", [item_id]
        )
        text = "Only execs can approve roadmap items." if isinstance(exc, Forbidden) else exc.detail
        return blocks.error_message(text)
    return blocks.approved_message(item)


# --- links -------------------------------------------------------------------------------
async def create_link(ctx: Ctx, data: SlackLinkCreate) -> SlackLink:
    """Link a Slack user to a principal (admins); replaces an existing link."""
    authorize(ctx.principal, Permission.integrations_manage)
    link = await SlackLinkRepository(ctx.session).put(
        SlackLink(
            team_id=data.team_id,
            user_id=data.user_id,
            subject=data.subject,
            role=data.role.value,
            created_at=utcnow(),
            created_by=ctx.principal.sub,
        )
    )
    ctx.audit.touch("create", "slack_link", changed=["team_id", "user_id", "subject", "role"])
    return link


async def confirm_link(ctx: Ctx, code: str) -> SlackLink:
    """The signed-in person confirms the code `/rounds link` gave them in Slack."""
    principal = ctx.principal
    if principal.is_service or principal.role is None:
        raise Forbidden("Only a person can link a Slack account.")
    repo = SlackLinkRepository(ctx.session)
    pending = await repo.take_code(_hash(_normalize(code)), utcnow())
    if pending is None:
        # Like an unknown key: the code names a pending link that does not exist (any more).
        raise NotFound(
            "The code is unknown, used or expired; type /rounds link in Slack for a new one."
        )
    link = await repo.put(
        SlackLink(
            team_id=pending.team_id,
            user_id=pending.user_id,
            subject=principal.sub,
            role=principal.role.value,
            created_at=utcnow(),
            created_by=principal.sub,
        )
    )
    ctx.audit.touch("create", "slack_link", changed=["team_id", "user_id", "subject", "role"])
    return link

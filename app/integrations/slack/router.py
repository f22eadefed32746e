"""Slack's request URLs (SPEC §9) and the two link endpoints; thin, rules in service.py."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl

import httpx
import orjson
from fastapi import APIRouter, Depends, Header, Request
from slack_sdk.signature import Clock
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response

from app.api.deps import AppSettings, Context, DbSession, get_audit
from app.api.responses import resource_response
from app.audit.record import AuditRecord
from app.core.errors import MalformedRequest
from app.integrations.principals import SLACK_SUB, stamp
from app.integrations.slack import service
from app.integrations.slack.schemas import SlackLinkConfirm, SlackLinkCreate, SlackLinkOut

log = logging.getLogger("rounds.integrations")

router = APIRouter(prefix="/slack", tags=["integrations"])
me_router = APIRouter(tags=["integrations"])

_CLOCK = Clock()


async def get_slack_clock() -> Clock:
    """The clock of the 5-minute window (tests pin it with dependency_overrides)."""
    return _CLOCK


async def post_to_response_url(url: str, message: dict[str, Any]) -> None:
    """Show an interaction's answer in Slack (Slack ignores block_actions response bodies).
    Only Slack's own hooks host is ever called."""
    if not url.startswith("https://hooks.slack.com/"):
        return
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            await client.post(url, json=message)
    except httpx.HTTPError as exc:
        log.warning("slack response_url post failed: %s", type(exc).__name__)


async def get_response_poster():
    return post_to_response_url


Audit = Annotated[AuditRecord, Depends(get_audit)]
SlackClock = Annotated[Clock, Depends(get_slack_clock)]
Timestamp = Annotated[
    str | None, Header(alias="X-Slack-Request-Timestamp", include_in_schema=False)
]
Signature = Annotated[str | None, Header(alias="X-Slack-Signature", include_in_schema=False)]

# Published as required: without them (or with a wrong signature, or a timestamp older than
# 5 minutes) the answer is 401. The handlers read them as optional so that a missing header is
# that 401 (SPEC §9), not a 422.
SIGNED = [
    {
        "name": "X-Slack-Request-Timestamp",
        "in": "header",
        "required": True,
        "description": "Unix time the request was signed at (within 5 minutes)",
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
    },
    {
        "name": "X-Slack-Signature",
        "in": "header",
        "required": True,
        "description": "v0= and the hex HMAC-SHA256 of v0:{timestamp}:{raw body}",
        "schema": {"type": "string", "pattern": "^v0=[0-9a-f]{64}$"},
    },
]


def _signed(content_type: str) -> dict[str, Any]:
    return {
        "parameters": SIGNED,
        "requestBody": {
            "required": True,
            "content": {content_type: {"schema": {"type": "object"}}},
            "description": "As Slack sends it, signed with X-Slack-Signature",
        },
    }


_FORM = _signed("application/x-www-form-urlencoded")
_JSON = _signed("application/json")


async def _verified(
    request: Request, settings, audit: AuditRecord, clock: Clock, ts: str | None, sig: str | None
) -> bytes:
    stamp(audit, SLACK_SUB)
    raw = await request.body()
    service.verify(settings, clock, raw, ts, sig)
    return raw


def _form(raw: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("The body is not a valid form.") from None


@router.post("/commands", openapi_extra=_FORM)
async def run_slack_command(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    audit: Audit,
    clock: SlackClock,
    ts: Timestamp = None,
    sig: Signature = None,
) -> dict[str, Any]:
    """Slash command `/rounds …`: Block Kit answer, ephemeral unless `--share`."""
    raw = await _verified(request, settings, audit, clock, ts, sig)
    req = service.SlackRequest(session=session, audit=audit, settings=settings)
    return await service.command(req, _form(raw))


@router.post("/interactions", openapi_extra=_FORM)
async def handle_slack_interaction(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    audit: Audit,
    clock: SlackClock,
    poster=Depends(get_response_poster),
    ts: Timestamp = None,
    sig: Signature = None,
) -> Response:
    """Block actions (the Approve button)."""
    raw = await _verified(request, settings, audit, clock, ts, sig)
    data = service.parse_interaction(_form(raw))
    req = service.SlackRequest(session=session, audit=audit, settings=settings)
    message = await service.interaction(req, data)
    url = data.get("response_url")
    task = BackgroundTask(poster, url, message) if isinstance(url, str) else None
    return JSONResponse(message, background=task)


@router.post("/events", openapi_extra=_JSON)
async def receive_slack_event(
    request: Request,
    settings: AppSettings,
    audit: Audit,
    clock: SlackClock,
    ts: Timestamp = None,
    sig: Signature = None,
) -> dict[str, Any]:
    """Events API: answers the url_verification challenge, acknowledges events."""
    raw = await _verified(request, settings, audit, clock, ts, sig)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise MalformedRequest("The body is not a Slack event.")
    audit.touch("read", "slack_event")
    if body["type"] == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str) or len(challenge) > 200:
            raise MalformedRequest("The url_verification has no challenge.")
        return {"challenge": challenge}
    # Rounds answers commands and buttons; events are acknowledged and not acted on.
    return {"ok": True}


@router.post("/links", response_model=SlackLinkOut, status_code=201)
async def create_slack_link(ctx: Context, body: SlackLinkCreate) -> Response:
    """Link a Slack user to a Rounds principal (admin)."""
    return resource_response(await service.create_link(ctx, body), SlackLinkOut, status=201)


@me_router.post("/me/slack-link", response_model=SlackLinkOut)
async def confirm_slack_link(ctx: Context, body: SlackLinkConfirm) -> Response:
    """Confirm the one-time code `/rounds link` replied with in Slack."""
    return resource_response(await service.confirm_link(ctx, body.code), SlackLinkOut)

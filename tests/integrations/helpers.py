"""Signed requests to the integration endpoints, and reading what they left behind."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.integrations.jira.service import sign
from app.stories.models import Story
from tests.integrations.conftest import JIRA_SECRET, SLACK_SECRET

JIRA_URL = "/api/v1/integrations/jira/webhook"
SLACK_COMMANDS = "/api/v1/integrations/slack/commands"
SLACK_INTERACTIONS = "/api/v1/integrations/slack/interactions"
SLACK_EVENTS = "/api/v1/integrations/slack/events"


def jira_headers(raw: bytes, *, secret: str = JIRA_SECRET, delivery: str | None = None):
    return {
        "Content-Type": "application/json; charset=UTF-8",
        "User-Agent": "Atlassian Webhook HTTP Client",
        "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4().int)[:17],
        "X-Atlassian-Webhook-Flow": "Primary",
        "X-Hub-Signature": sign(secret, raw),
    }


async def post_jira(
    client: httpx.AsyncClient, raw: bytes, *, delivery: str | None = None, **kw: Any
) -> httpx.Response:
    return await client.post(
        JIRA_URL, content=raw, headers=jira_headers(raw, delivery=delivery, **kw)
    )


def slack_headers(
    raw: bytes, *, secret: str = SLACK_SECRET, ts: int | None = None, json_body: bool = False
) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        "Content-Type": "application/json" if json_body else "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
            timestamp=str(ts), body=raw
        ),
    }


async def audit_of(app, response: httpx.Response) -> AuditEvent:
    request_id = response.headers["x-request-id"]
    async with app.state.sessionmaker() as session:
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.request_id == request_id))
        )
    assert len(events) == 1, f"expected one audit event for {request_id}, got {len(events)}"
    return events[0]


async def stories_with_jira_key(app, jira_key: str) -> list[Story]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(Story).where(Story.jira_key == jira_key)))


async def count(app, model: type, *where: Any) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

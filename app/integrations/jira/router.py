"""`POST /api/v1/integrations/jira/webhook`: thin; the rules live in service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from app.api.deps import AppSettings, DbSession, get_audit
from app.audit.record import AuditRecord
from app.core.context import Ctx
from app.integrations.jira import service
from app.integrations.principals import JIRA, JIRA_SUB, stamp

router = APIRouter(prefix="/jira", tags=["integrations"])


class JiraWebhookResult(BaseModel):
    status: str
    story_id: str | None = None
    story_key: str | None = None
    jira_sync: dict[str, Any] | None = None
    reason: str | None = None


@router.post(
    "/webhook",
    response_model=JiraWebhookResult,
    responses={202: {"description": "Ignored (no linked product)", "model": JiraWebhookResult}},
    openapi_extra={
        # Published as required; read as optional so that a missing one is a 401 (SPEC §9).
        "parameters": [
            {
                "name": "X-Hub-Signature",
                "in": "header",
                "required": True,
                "description": "sha256= and the hex HMAC-SHA256 of the raw body",
                "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
            },
            {
                "name": "X-Atlassian-Webhook-Identifier",
                "in": "header",
                "required": False,
                "description": "Jira's delivery id; a repeated one is applied once",
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "A Jira Cloud or Jira Server issue webhook, signed with X-Hub-Signature",
        },
    },
)
async def receive_jira_webhook(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    audit: Annotated[AuditRecord, Depends(get_audit)],
    x_hub_signature: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_atlassian_webhook_identifier: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Apply a Jira issue event to the story with that jira_key (SPEC §9)."""
    stamp(audit, JIRA_SUB)
    raw = await request.body()
    service.verify_signature(settings.jira_webhook_secret, raw, x_hub_signature)
    ctx = Ctx(session=session, principal=JIRA, audit=audit, settings=settings)
    outcome = await service.receive(ctx, raw, x_atlassian_webhook_identifier)
    return JSONResponse(outcome.body, status_code=outcome.status_code)

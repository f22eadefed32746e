"""POST /oauth/token: the client-credentials token endpoint for service accounts."""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from app.api.deps import AppSettings, DbSession
from app.auth import oauth

router = APIRouter(prefix="/oauth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = Field(description="Always Bearer")
    expires_in: int = Field(description="Seconds until the access token expires")
    scope: str = Field(description="Space-separated scopes granted")


class OAuthErrorOut(BaseModel):
    error: str = Field(
        description="invalid_request | invalid_client | unsupported_grant_type | invalid_scope"
    )
    error_description: str | None = None


_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-separated subset of the client's"},
        "client_id": {"type": "string", "description": "When not using HTTP Basic"},
        "client_secret": {"type": "string", "description": "When not using HTTP Basic"},
    },
    # RFC 6749 §3.2: unknown parameters are ignored, but no parameter may be repeated (400).
    "additionalProperties": {"type": "string"},
}


async def _claimed_client_id(request: Request) -> str | None:
    """The client id a token request names (HTTP Basic or form body), not yet verified."""
    basic_id, _ = extract_basic_authorization(request.headers)
    if basic_id:
        return basic_id
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return None
    try:
        value = (await request.form()).get("client_id")  # cached for the endpoint
    except Exception:  # a malformed body is the endpoint's 400 to give
        return None
    return value if isinstance(value, str) else None


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        400: {"model": OAuthErrorOut, "description": "RFC 6749 §5.2 error"},
        401: {"model": OAuthErrorOut, "description": "invalid_client"},
        429: {"description": "Rate limited (problem+json with Retry-After)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA}},
        }
    },
)
async def issue_token(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Exchange client credentials (HTTP Basic or form body) for a Bearer access token."""
    # Rate limits per source IP and per client id, before any secret is checked (scrypt).
    await request.app.state.rate_limiter.token_request(
        request.state.audit.source_ip, await _claimed_client_id(request)
    )
    status, body, headers = await oauth.token_endpoint(
        request, session, settings, request.state.audit
    )
    extra = {k: v for k, v in headers if k.lower() != "content-type"}
    return JSONResponse(body, status_code=status, headers=extra)

"""Shared helpers of the auth/authz tests: service accounts through the CLI and the token
endpoint, JWT crafting, reading a request's audit event."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
from sqlalchemy import select

from app import cli
from app.audit.models import AuditEvent
from app.auth.oauth import create_client


def b64(data: bytes | dict[str, Any]) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a compact JWS, unverified (for assertions only)."""
    seg = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """`python -m app …` in a worker thread (it runs its own event loop)."""
    capsys.readouterr()
    rc = await asyncio.to_thread(cli.main, argv)
    out, err = capsys.readouterr()
    return rc, out, err


async def new_client(app, *, scopes: str, name: str = "test-bot") -> tuple[str, str]:
    """A service account registered directly (no CLI), as (client_id, client_secret)."""
    async with app.state.sessionmaker() as session:
        issued = await create_client(session, name=name, scopes=scopes)
        await session.commit()
    return issued.client.client_id, issued.secret


async def service_token(
    client: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None
) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    r = await client.post("/oauth/token", data=data, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


async def audit_event(app, response: httpx.Response) -> AuditEvent:
    """The audit event the middleware wrote for `response`."""
    request_id = response.headers["x-request-id"]
    async with app.state.sessionmaker() as session:
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.request_id == request_id))
        )
    assert events, f"no audit event for request {request_id}"
    return events[-1]

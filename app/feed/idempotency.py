"""Idempotency-Key (IETF httpapi draft) on every REST POST, once, as ASGI middleware.

Per principal and key, for IDEMPOTENCY_TTL_SECONDS (24 h):
- first request: the key is claimed in a short transaction of its own (so a concurrent
  duplicate sees it: 409 while in flight); the request runs; a successful (< 400) response is
  stored in the request's own transaction, committed with the change and its audit event by
  the audit middleware (so a change is never committed without its stored response, nor the
  other way round);
- a failed request (>= 400: nothing changed) or one whose commit failed releases the key, so
  the client may retry with it;
- same key, same method, path and body: the stored status, body, Location, ETag and
  Content-Type are replayed with `Idempotent-Replayed: true` and nothing runs again;
- same key, another request: 422. A claim older than IDEMPOTENCY_LEASE_SECONDS (a crashed
  process) is taken over.

Stored bodies can hold PHI (an interview as its product manager saw it), so they are
encrypted at rest like every PHI column and erased when the resource's PHI is purged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.core.errors import problem
from app.db.session import rowcount
from app.db.types import utcnow
from app.feed.models import IdempotencyKey

log = logging.getLogger("rounds.feed")

HEADER = b"idempotency-key"
_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")
_REPLAYED_HEADERS = (b"content-type", b"location", b"etag")


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


async def _problem(send: Send, status: int, title: str, detail: str, slug: str) -> None:
    body = orjson.dumps(problem(status, title, detail, slug=slug))
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 409:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    """Sits inside the audit middleware (it uses the request's unit of work)."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, maker_getter: Callable[[], Any]
    ) -> None:
        self.app = app
        self.settings = settings
        self.maker_getter = maker_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        raw = _header(scope, HEADER)
        if raw is None:
            await self.app(scope, receive, send)
            return
        key = raw.strip()
        if len(key) >= 2 and key[0] == key[-1] == '"':  # RFC 8941 sf-string form
            key = key[1:-1]
        if not _KEY.fullmatch(key):
            await _problem(
                send,
                400,
                "Malformed request",
                "Idempotency-Key must be 1-255 printable ASCII characters.",
                "malformed",
            )
            return
        principal = await self._principal(scope)
        if principal is None:  # the route answers 401 (nothing to protect)
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        digest = hashlib.sha256()
        for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode()):
            digest.update(part.encode() + b"\n")
        digest.update(body)
        fingerprint = digest.hexdigest()

        state, row, token = await self._claim(principal[0], key, fingerprint)
        audit = scope.get("state", {}).get("audit")
        if state == "mismatch":
            await _problem(
                send,
                422,
                "Validation failed",
                "This Idempotency-Key was used with another request; use a new key.",
                "validation",
            )
            return
        if state == "in_flight":
            await _problem(
                send,
                409,
                "Conflict",
                "A request with this Idempotency-Key is still in flight; retry later.",
                "conflict",
            )
            return
        if state == "replay":
            assert row is not None
            if audit is not None:
                _stamp(audit, principal[1])
                audit.touch(
                    "read",
                    row.resource_type or "idempotent_response",
                    row.resource_ids or (),
                    phi=row.phi,
                )
            await self._replay(send, row)
            return

        async def replay_receive() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        start: Message | None = None
        chunks: list[bytes] = []
        stored = False

        async def capture(message: Message) -> None:
            nonlocal start, stored
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status = start["status"]
            if status < 400:
                uow = scope["state"]["uow"]
                stored = await self._store(uow.session, token, start, b"".join(chunks), audit)
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            await self._release(principal[0], key, token, stored)

    async def _principal(self, scope: Scope) -> tuple[str, Any] | None:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, tok = authorization.partition(" ")
        verifier = getattr(getattr(scope.get("app"), "state", None), "verifier", None)
        if scheme.lower() != "bearer" or not tok.strip() or verifier is None:
            return None
        try:
            p = await verifier.verify(tok.strip())
        except Exception:
            return None
        return (p.client_id and f"client:{p.client_id}") or p.sub, p

    async def _claim(
        self, principal: str, key: str, fingerprint: str
    ) -> tuple[str, IdempotencyKey | None, uuid.UUID]:
        token = uuid.uuid4()
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.idempotency_lease_seconds)
        maker = self.maker_getter()
        try:
            async with maker() as session, session.begin():
                where = (IdempotencyKey.principal == principal, IdempotencyKey.key == key)
                row = await session.scalar(select(IdempotencyKey).where(*where).with_for_update())
                if row is not None and row.expires_at <= now:
                    await session.delete(row)
                    await session.flush()
                    row = None
                if row is None:
                    session.add(
                        IdempotencyKey(
                            principal=principal,
                            key=key,
                            fingerprint=fingerprint,
                            state="in_flight",
                            claim=token,
                            locked_until=lease,
                            expires_at=now
                            + timedelta(seconds=self.settings.idempotency_ttl_seconds),
                        )
                    )
                    await session.flush()
                    return "new", None, token
                if row.fingerprint != fingerprint:
                    return "mismatch", row, token
                if row.state == "done":
                    return "replay", row, token
                if row.locked_until > now:
                    return "in_flight", row, token
                row.claim, row.locked_until = token, lease  # abandoned by a dead process
                return "new", None, token
        except IntegrityError:  # a concurrent first request inserted the key just now
            return "in_flight", None, token

    async def _store(
        self, session: AsyncSession, token: uuid.UUID, start: Message, body: bytes, audit: Any
    ) -> bool:
        headers = [
            [k.decode("latin-1"), v.decode("latin-1")]
            for k, v in start.get("headers", ())
            if k.lower() in _REPLAYED_HEADERS
        ]
        result = await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.claim == token, IdempotencyKey.state == "in_flight")
            .values(
                state="done",
                status_code=start["status"],
                headers=headers,
                body=body.decode("utf-8", "replace"),
                resource_type=getattr(audit, "resource_type", None),
                resource_ids=list(getattr(audit, "resource_ids", []) or [])[:100],
                phi=bool(getattr(audit, "phi_accessed", False)),
            )
        )
        return bool(rowcount(result))

    async def _release(self, principal: str, key: str, token: uuid.UUID, stored: bool) -> None:
        """Free a claim whose response was not stored (or whose commit failed)."""
        maker = self.maker_getter()
        try:
            async with maker() as session, session.begin():
                await session.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.principal == principal,
                        IdempotencyKey.key == key,
                        IdempotencyKey.claim == token,
                        IdempotencyKey.state == "in_flight",
                    )
                )
        except Exception as exc:  # the lease expires anyway
            log.error("idempotency key release failed: %s", type(exc).__name__)

    async def _replay(self, send: Send, row: IdempotencyKey) -> None:
        body = (row.body or "").encode()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (row.headers or [])]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send(
            {"type": "http.response.start", "status": row.status_code or 200, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


def _stamp(audit: Any, principal: Any) -> None:
    audit.actor_sub = principal.sub
    audit.actor_type = principal.type
    audit.actor_role = principal.role.value if principal.role else None
    audit.client_id = principal.client_id


async def forget_purged(session: AsyncSession, resource_ids: Sequence[str]) -> None:
    """Erase stored responses that named a resource whose PHI was just purged (same
    transaction as the purge)."""
    text_ids = cast(IdempotencyKey.resource_ids, String)
    await session.execute(
        delete(IdempotencyKey).where(or_(*(text_ids.like(f'%"{rid}"%') for rid in resource_ids)))
    )

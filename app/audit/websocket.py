"""The audit middleware's websocket half (GraphQL subscriptions at /graphql).

A websocket has no single response to commit with, so each audit event of a socket is
written on its own (group-committed on PostgreSQL), before what it records is sent:
- the connection, when the GraphQL layer authenticates it (`login`) or refuses it
  (`auth_failed`), recorded there through `record_event`;
- each event the socket delivers, recorded by the subscription (app/graphql/live.py);
- a socket that ends without either (a handshake refused before accept, e.g. a bad path or
  origin, or closed before authenticating) is recorded here when it ends.
The scope gets the same `state.audit` record and `state.uow` unit of work as an HTTP request
(in autocommit-read mode), so the GraphQL context reads them the same way.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from app.audit.record import AuditRecord
from app.audit.writer import append_event, event_values
from app.db.session import UnitOfWork

log = logging.getLogger("rounds.audit")

AUDITED_FLAG = "ws_audited"


async def record_event(state: Any, record: AuditRecord, status: int) -> None:
    """Write one event of a websocket now (group commit when the app has a batcher)."""
    batcher = getattr(state, "batcher", None)
    if batcher is not None:
        await batcher.append(event_values(record, status))
        return
    async with state.sessionmaker() as session:
        await append_event(session, record, status)
        await session.commit()


async def websocket_session(mw: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Run a websocket through the app with an audit record and a unit of work."""
    from app.audit.middleware import AUDITED_PREFIXES, _header, safe_user_agent
    from app.core.routing import UNMATCHED

    path: str = scope["path"]
    audited = mw.settings.audit_enabled and path.startswith(AUDITED_PREFIXES)
    record = AuditRecord(
        request_id=uuid.uuid4().hex,
        http_method="GET",
        # Caller-controlled text never reaches the trail: the one websocket route, or a marker.
        path="/graphql" if path == "/graphql" else UNMATCHED,
        source_ip=mw.proxies.client_ip(scope),
        user_agent=safe_user_agent(_header(scope, b"user-agent")),
    )
    uow = UnitOfWork(mw.read_maker_getter())
    state = scope.setdefault("state", {})
    state["audit"] = record
    state["uow"] = uow
    state[AUDITED_FLAG] = False
    accepted = False

    async def send_wrapper(message: Message) -> None:
        nonlocal accepted
        if message["type"] == "websocket.accept":
            accepted = True
        await send(message)

    try:
        await mw.app(scope, receive, send_wrapper)
    finally:
        try:
            await uow.close()
        except Exception:  # noqa: S110 - the connection may already be gone
            pass
        if audited and not state.get(AUDITED_FLAG):
            status = 401 if accepted else 403
            try:
                await record_event(scope["app"].state, record, status)
            except Exception as exc:
                log.error("websocket audit event not written: %s", type(exc).__name__)

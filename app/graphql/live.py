"""Live updates: the `productEvents(productId: ID!)` GraphQL subscription over
graphql-transport-ws at /graphql (SPEC §10).

The socket is authenticated by the Authorization header of the upgrade request or the
`Authorization` key of the connection_init payload (same verification as every request); the
connection and each delivered event are audited; a subscription is authorized like a read of
the product, and each event is streamed only if the principal may read that kind of resource
in that product (an engineer's subscription gets story events, not interview events, unless
it is a member). Events come from the process's hub (PostgreSQL LISTEN/NOTIFY across
processes, in-process on SQLite)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Any

import orjson
import strawberry
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types.unset import UNSET

from app.api.deps import authenticate
from app.audit.record import AuditRecord
from app.audit.websocket import AUDITED_FLAG, record_event
from app.auth.principal import Principal
from app.authz import Permission, can
from app.core.context import Ctx
from app.core.errors import Invalid, Unauthenticated
from app.feed.events import READ_PERMISSION
from app.feed.hub import Hub
from app.graphql.context import GraphQLContext
from app.graphql.types import Info, parse_id
from app.products.service import get_product

OPERATION = "subscription productEvents"


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames; the router's JSON encoder (orjson)
    returns bytes, which strawberry's adapter would send as binary frames."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LiveContext(GraphQLContext):
    """The GraphQL context of a websocket: authenticated at the upgrade or at connection_init;
    its Ctx holds a session that is closed after each use (a socket lives for hours)."""

    is_websocket = True

    def __init__(
        self,
        connection: HTTPConnection,
        ctx: Ctx | None,
        audit: AuditRecord,
        error: Unauthenticated | None,
    ) -> None:
        super().__init__(ctx, audit, error)
        self.connection = connection
        self.expires_at: float | None = None  # the token's exp: streams end there

    @property
    def ctx(self) -> Ctx:
        # Queries and mutations go over HTTP, where the audit middleware commits each request
        # with its event; over a socket nothing would, so only subscriptions may use data.
        if self.operation_type != "subscription":
            raise Invalid("Only subscriptions run over websockets; use POST /graphql.")
        return super().ctx

    @property
    def app_state(self) -> Any:
        return self.connection.app.state


def token_expiry(authorization: str | None) -> float | None:
    """`exp` of a bearer JWT that has just been verified (read, not trusted on its own)."""
    token = (authorization or "").partition(" ")[2].strip()
    try:
        part = token.split(".")[1]
        exp = orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))).get("exp")
        return float(exp) if exp is not None else None
    except (IndexError, ValueError, TypeError, AttributeError):
        return None


async def _authenticate(
    connection: HTTPConnection, authorization: str | None, audit: AuditRecord
) -> Ctx:
    state = connection.app.state
    session = state.read_sessionmaker()
    try:
        principal = await authenticate(authorization, state.verifier, session, audit)
    finally:
        await session.close()
    return Ctx(session=session, principal=principal, audit=audit, settings=state.settings)


async def websocket_context(connection: HTTPConnection) -> LiveContext:
    """Context of a websocket (called by the GraphQL context getter for websocket scopes)."""
    audit: AuditRecord = connection.scope["state"]["audit"]
    header = connection.headers.get("authorization")
    ctx, error = None, Unauthenticated()
    if header:
        try:
            ctx = await _authenticate(connection, header, audit)
        except Unauthenticated as exc:
            error = exc
    context = LiveContext(connection, ctx, audit, error)
    if ctx is not None:
        context.expires_at = token_expiry(header)
    return context


async def on_ws_connect(context: Any) -> Any:
    """connection_init: authenticate (payload `Authorization`, else the upgrade's header) and
    audit the connection; refuse it (4403) otherwise."""
    if not isinstance(context, LiveContext):
        raise ConnectionRejectionError()
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    token = params.get("Authorization") or params.get("authorization")
    state = context.connection.scope["state"]
    if isinstance(token, str) and token:
        try:
            context._ctx = await _authenticate(context.connection, token, context.audit)
            context.expires_at = token_expiry(token)
        except Unauthenticated as exc:
            context._ctx, context.auth_error = None, exc
    record = context.audit
    record.graphql_operation = "subscription connection_init"
    if context._ctx is None:
        state[AUDITED_FLAG] = True
        await record_event(context.app_state, record, 401)
        raise ConnectionRejectionError()
    record.touch("login", "graphql_subscription")
    state[AUDITED_FLAG] = True
    await record_event(context.app_state, record, 200)
    return UNSET  # connection_ack without a payload


def _audit_copy(base: AuditRecord) -> AuditRecord:
    return AuditRecord(
        request_id=base.request_id,
        http_method=base.http_method,
        path=base.path,
        source_ip=base.source_ip,
        user_agent=base.user_agent,
        actor_sub=base.actor_sub,
        actor_role=base.actor_role,
        actor_type=base.actor_type,
        client_id=base.client_id,
        graphql_operation=OPERATION,
    )


def may_see(principal: Principal, event: dict[str, Any], memberships: frozenset[uuid.UUID]) -> bool:
    """Whether the principal may read the kind of resource an event is about, in its product."""
    pid = event.get("product_id")
    permission = Permission(READ_PERMISSION.get(event["resource_type"], "product:read"))
    return can(
        principal, permission, product_id=uuid.UUID(pid) if pid else None, memberships=memberships
    )


async def _next(queue: asyncio.Queue[dict[str, Any]], expires_at: float | None) -> dict[str, Any]:
    """The next event, until the socket's token expires (then UNAUTHENTICATED: reconnect
    with a fresh token; a long-lived socket must not outlive its credentials)."""
    if expires_at is None:
        return await queue.get()
    remaining = expires_at - time.time()
    try:
        if remaining <= 0:
            raise TimeoutError
        async with asyncio.timeout(remaining):
            return await queue.get()
    except TimeoutError:
        raise Unauthenticated("The token has expired; reconnect with a fresh one.") from None


@strawberry.type(description="A committed change (SPEC §10): ids and field names, never values.")
class ChangeEvent:
    id: strawberry.ID
    type: str = strawberry.field(description="e.g. story.created, interview.updated")
    occurred_at: datetime
    product_id: strawberry.ID | None
    resource_type: str
    resource_id: strawberry.ID
    version: int | None
    changed_fields: list[str]
    actor_sub: str | None

    @classmethod
    def of(cls, e: dict[str, Any]) -> ChangeEvent:
        return cls(
            id=strawberry.ID(e["id"]),
            type=e["type"],
            occurred_at=datetime.fromisoformat(e["occurred_at"]),
            product_id=None if e["product_id"] is None else strawberry.ID(e["product_id"]),
            resource_type=e["resource_type"],
            resource_id=strawberry.ID(e["resource_id"]),
            version=e["version"],
            changed_fields=list(e["changed_fields"]),
            actor_sub=e["actor_sub"],
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Change events of a product as they commit (graphql-transport-ws)."
    )
    async def product_events(
        self, info: Info, product_id: strawberry.ID
    ) -> AsyncGenerator[ChangeEvent, None]:
        context = info.context
        if not isinstance(context, LiveContext):
            raise Invalid("Subscriptions run over a graphql-transport-ws websocket at /graphql.")
        ctx = context.ctx
        pid = parse_id(product_id, "productId")
        try:
            await get_product(ctx, pid, audit=False)  # 404 when the product is not readable
            memberships = await ctx.memberships()
        finally:
            await ctx.session.close()
        hub: Hub = context.app_state.feed_hub
        await hub.ensure_started()
        queue = hub.subscribe(pid)
        await hub.listening()  # other processes' events from here on (PostgreSQL)
        try:
            started = _audit_copy(context.audit)
            started.touch("read", "product", [pid], product_id=pid)
            await record_event(context.app_state, started, 200)
            while True:
                event = await _next(queue, context.expires_at)
                if (
                    event["type"].startswith("member.")
                    and event["resource_id"] == ctx.principal.sub
                ):
                    ctx.forget_memberships()
                    try:
                        memberships = await ctx.memberships()
                    finally:
                        await ctx.session.close()
                if not may_see(ctx.principal, event, memberships):
                    continue
                delivered = _audit_copy(context.audit)
                delivered.touch(
                    "read",
                    event["resource_type"],
                    [event["resource_id"], event["id"]],
                    product_id=pid,
                )
                await record_event(context.app_state, delivered, 200)
                yield ChangeEvent.of(event)
        finally:
            hub.unsubscribe(pid, queue)

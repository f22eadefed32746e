"""Pure ASGI middleware: per-request unit of work, audit event for every audited request.

The request's transaction is committed here, when the response starts, together with the
request's audit event. So a change never commits without its event, a response (including a
read of PHI) is never sent before its event is durable, and when the event cannot be written
the change is rolled back and the client gets 503. An event with nothing to commit alongside
(a read in autocommit, a failed request) is group-committed with concurrent ones on
PostgreSQL (app/audit/batcher.py), still before the response starts.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.audit.record import AuditRecord
from app.audit.websocket import websocket_session
from app.audit.writer import append_event, event_rows, resource_type_for
from app.config import Settings
from app.core.errors import problem
from app.core.routing import UNMATCHED, declared_template, fill_template, route_template
from app.db.session import UnitOfWork
from app.phi.detector import detect

log = logging.getLogger("rounds.audit")

AUDITED_PREFIXES = ("/api/", "/graphql", "/oauth/", "/integrations/")
# Requests that never write (GET handlers only read): their session may run in autocommit.
READ_ONLY_METHODS = frozenset(("GET", "HEAD"))
# A client-supplied X-Request-ID is kept only when it is a plain token, and only beside the
# server's own request id (client_request_id): callers cannot make ids repeat.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Path parameter values stored verbatim in the audit path: ids and story keys. Anything else
# a caller typed into the URL stays the template's placeholder.
_SAFE_PARAM = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    r"|[A-Z][A-Z0-9]{1,9}-[0-9]{1,9}"
)


def audit_path(scope: Scope) -> str:
    """What the audit trail stores as `path`: the matched route template with the path
    parameters that are ids (UUIDs, story keys) filled in, or UNMATCHED. Never the raw path,
    which on an unmatched route is whatever the caller typed (it may be PHI)."""
    template = route_template(scope)
    if template == UNMATCHED:
        template = declared_template(scope)
    return template if template == UNMATCHED else fill_template(template, scope, _SAFE_PARAM)


REDACTED_USER_AGENT = "<redacted>"
_UA_REDACT_IN_PLACE = frozenset(("url", "ip", "id", "name"))


@lru_cache(maxsize=1024)
def safe_user_agent(value: str | None) -> str | None:
    """The user agent as audited (a caller controls this header): NULs replaced, truncated to
    256 characters, scanned by the PHI detector. Findings that real user agents contain (bot
    homepage URLs, version numbers read as IPs/ids, "Mac" read as a name) are redacted in
    place; any other identifier (phone, email, date, location, …) replaces the whole value by
    a marker. Cached: a service sees few distinct user agents."""
    if not value:
        return None
    text = value.replace("\x00", "\ufffd")[:256]
    result = detect(text)
    if not result.detected:
        return text
    if {c.lower() for c in result.categories} <= _UA_REDACT_IN_PLACE:
        return result.redacted  # e.g. "Jira-Webhook/1.0 (+[URL])", "like [NAME] OS X"
    # Contact data, dates, … are never part of a real user agent: keep none of it (the
    # detector may have missed a neighbouring name).
    return REDACTED_USER_AGENT


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        self.networks = [
            ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()
        ]

    def trusts(self, ip: str | None) -> bool:
        if not ip:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in n for n in self.networks)

    def client_ip(self, scope: Scope) -> str | None:
        """The peer address, or the first untrusted hop of X-Forwarded-For behind our proxies."""
        client = scope.get("client")
        peer = client[0] if client else None
        xff = _header(scope, b"x-forwarded-for")
        if not xff or not self.trusts(peer):
            return peer
        hops = [h.strip() for h in xff.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop[:64]
        return hops[0][:64] if hops else peer


def _problem_bytes(status: int, title: str, detail: str, slug: str) -> bytes:
    return orjson.dumps(problem(status, title, detail, slug=slug))


class RequestMiddleware:
    """Opens the unit of work and the audit record; commits both at response start."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        maker_getter: Callable[[], Any],
        read_maker_getter: Callable[[], Any] | None = None,
        batcher_getter: Callable[[], Any] | None = None,
        on_failure: Callable[[], None] | None = None,
        before_commit: Sequence[Callable[[Any, AuditRecord], Awaitable[Any]]] = (),
    ):
        self.app = app
        self.settings = settings
        self.maker_getter = maker_getter
        # GET/HEAD sessions (autocommit on PostgreSQL, see create_read_sessionmaker).
        self.read_maker_getter = read_maker_getter or maker_getter
        # The EventBatcher, or None (SQLite, AUDIT_GROUP_COMMIT off): events stay on the
        # request's own connection.
        self.batcher_getter = batcher_getter or (lambda: None)
        self.proxies = TrustedProxies(settings.trusted_proxies)
        # Called when an event could not be written (metrics: rounds_audit_write_failures).
        self.on_failure = on_failure
        # Work that commits with a successful write and its event (the change feed's outbox).
        self.before_commit = tuple(before_commit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # GraphQL subscriptions (app/audit/websocket.py)
            await websocket_session(self, scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        audited = self.settings.audit_enabled and path.startswith(AUDITED_PREFIXES)
        state = scope.setdefault("state", {})
        # Set by the outer ObserveMiddleware (app/ops/observe.py) when it runs.
        request_id = state.get("request_id") or uuid.uuid4().hex
        client_request_id = state.get("client_request_id", _header(scope, b"x-request-id"))
        if client_request_id is not None and not _REQUEST_ID.fullmatch(client_request_id):
            client_request_id = None
        record = AuditRecord(
            request_id=request_id,
            http_method=scope["method"],
            path=path,
            source_ip=self.proxies.client_ip(scope),
            user_agent=_header(scope, b"user-agent"),
            client_request_id=client_request_id,
        )
        read_only = scope["method"] in READ_ONLY_METHODS
        uow = UnitOfWork(self.read_maker_getter() if read_only else self.maker_getter())
        state["uow"] = uow
        state["audit"] = record

        started = False
        replaced = False

        async def finish(status: int) -> bool:
            """Commit the request's work with its event; False when that failed."""
            if record.resource_type is None:
                record.resource_type = resource_type_for(record.path)
            record.path = audit_path(scope)
            record.user_agent = safe_user_agent(record.user_agent)
            status = max(status, record.outcome_status or 0)
            try:
                if status >= 400:
                    # Nothing a failed request did may persist; its event goes alone.
                    await uow.rollback()
                    if audited and record.actor_sub is None and status != 401:
                        await _attribute(scope, record)
                batcher = self.batcher_getter() if audited else None
                if batcher is not None and (status >= 400 or uow.autocommit) and not uow.pending:
                    # Nothing of the request's own commits with the event (rolled back, or
                    # already committed statement by statement): give the connection back
                    # and wait for the event's group commit instead of a commit of its own.
                    await uow.close()
                    await batcher.append_all(event_rows(record, status))
                    return True
                if status < 400 and record.writes and uow.started:
                    for hook in self.before_commit:
                        await hook(uow.session, record)
                if audited:
                    await append_event(uow.session, record, status)
                if uow.started:
                    await uow.session.commit()
                return True
            except Exception as exc:
                log.error("audit/commit failed: %s", type(exc).__name__)
                if self.on_failure is not None:
                    self.on_failure()
                try:
                    await uow.rollback()
                except Exception:  # noqa: S110 - the connection may already be gone
                    pass
                return False

        async def send_wrapper(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                if not await finish(message["status"]):
                    replaced = True
                    await _send_problem(
                        send,
                        503,
                        "Service unavailable",
                        "The request could not be recorded in the audit trail; nothing changed.",
                        "unavailable",
                        request_id,
                    )
                    if audited:
                        await self._record_alone(record, 503)
                    return
            elif replaced:
                return
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Type only: messages of database errors carry parameters, which may be PHI.
            log.error(
                "unhandled error on %s %s: %s",
                scope["method"],
                audit_path(scope),
                type(exc).__name__,
            )
            if not started:
                started = True
                ok = await finish(500)
                await _send_problem(
                    send,
                    500 if ok else 503,
                    "Internal server error" if ok else "Service unavailable",
                    "An unexpected error occurred.",
                    "internal" if ok else "unavailable",
                    request_id,
                )
                if not ok and audited:
                    await self._record_alone(record, 503)
        finally:
            try:
                await uow.close()
            except Exception as exc:  # pragma: no cover
                log.error("session close failed: %s", type(exc).__name__)

    async def _record_alone(self, record: AuditRecord, status: int) -> None:
        """Best effort, after the 503 went out: record the failed request on its own, so a
        transient failure of the request's transaction still leaves a trace. If this fails
        too (the database is down, or the event itself is what cannot be written), it is
        logged; the request's change was rolled back either way."""
        uow = UnitOfWork(self.maker_getter())
        try:
            await append_event(uow.session, record, status)
            await uow.session.commit()
        except Exception as exc:
            log.error("audit event of a failed request not written: %s", type(exc).__name__)
        finally:
            try:
                await uow.close()
            except Exception:  # noqa: S110 - the connection may already be gone
                pass


async def _attribute(scope: Scope, record: AuditRecord) -> None:
    """Name the actor of a request that failed before authentication ran (400 bad JSON, 413
    body too large, 405, …) when it carried a token that verifies: probing is attributable."""
    authorization = _header(scope, b"authorization") or ""
    scheme, _, token = authorization.partition(" ")
    verifier = getattr(getattr(scope.get("app"), "state", None), "verifier", None)
    if scheme.lower() != "bearer" or not token.strip() or verifier is None:
        return
    try:
        principal = await verifier.verify(token.strip())
    except Exception:
        return
    record.actor_sub = principal.sub
    record.actor_type = principal.type
    record.actor_role = principal.role.value if principal.role else None
    record.client_id = principal.client_id


async def _send_problem(
    send: Send, status: int, title: str, detail: str, slug: str, request_id: str
) -> None:
    body = _problem_bytes(status, title, detail, slug)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

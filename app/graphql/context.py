"""The GraphQL request context: built by a FastAPI dependency from the same deps as REST."""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from typing import Any

from fastapi import Request
from strawberry.fastapi import BaseContext

from app.api.deps import authenticate, get_audit, get_session, get_settings_dep
from app.audit.record import AuditRecord
from app.auth.principal import Principal
from app.core.context import Ctx
from app.core.errors import Unauthenticated
from app.graphql.loaders import Loaders

_CONTAINERS = frozenset((list, set, dict))
_ATOMS = frozenset((str, int, bool, float, type(None), tuple))


class GraphQLContext(BaseContext):
    """`ctx` is the services' Ctx; `loaders` are this request's DataLoaders."""

    def __init__(
        self,
        ctx: Ctx | None,
        audit: AuditRecord,
        auth_error: Unauthenticated | None,
        read_only: Callable[[], bool] = lambda: False,
    ):
        super().__init__()
        self._ctx = ctx
        # Switches the request to autocommit reads (UnitOfWork.read_only) for a query.
        self.read_only = read_only
        self.audit = audit
        self.auth_error = auth_error
        self.operation_type: str | None = None
        self._loaders: Loaders | None = None

    @property
    def ctx(self) -> Ctx:
        if self._ctx is None:
            raise self.auth_error or Unauthenticated()
        return self._ctx

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.ctx)
        return self._loaders

    def checkpoint(self) -> dict[str, Any]:
        """What a run records on the request (the audit record's fields), for `rollback`."""
        audit = self.audit
        saved: dict[str, Any] = {}
        for name in AuditRecord.__slots__:
            value = getattr(audit, name)
            kind = type(value)
            # copy.copy's answers, without its dispatch (once per fast-path run)
            saved[name] = (
                kind(value) if kind in _CONTAINERS else value if kind in _ATOMS else copy(value)
            )
        return saved

    def rollback(self, checkpoint: dict[str, Any]) -> None:
        """Undo a run that is about to be repeated (the fast path falling back to the
        standard executor): the audit record as it was, and fresh loaders (no cached
        results or errors of the abandoned run)."""
        for name, value in checkpoint.items():
            setattr(self.audit, name, value)
        self._loaders = None


async def http_context(request: Request) -> GraphQLContext:
    """The context of an HTTP request (a websocket's: app/graphql/live.py). Authenticate like
    REST (same `authenticate()`); the explorer page itself needs no token, so a failure is
    kept and answered as UNAUTHENTICATED when an operation runs.

    Takes the session, audit record and settings from the same dependency functions as REST
    (`DbSession`, `get_audit`, `AppSettings`), called directly: as FastAPI sub-dependencies
    each one is a dependency level FastAPI solves on every request (~15% of a small query's
    CPU), for values that only depend on the request."""
    session = await get_session(request)
    audit = await get_audit(request)
    settings = await get_settings_dep(request)
    principal: Principal | None = None
    error: Unauthenticated | None = None
    if request.method != "GET" or "query" in request.query_params:
        try:
            principal = await authenticate(
                request.headers.get("authorization"),
                request.app.state.verifier,
                session,
                audit,
                getattr(request.app.state, "rate_limiter", None),  # per-principal limit
            )
        except Unauthenticated as exc:
            error = exc
    else:
        error = Unauthenticated()
    ctx = (
        Ctx(session=session, principal=principal, audit=audit, settings=settings)
        if principal
        else None
    )
    uow = request.state.uow
    maker = request.app.state.read_sessionmaker
    return GraphQLContext(ctx, audit, error, lambda: uow.read_only(maker))

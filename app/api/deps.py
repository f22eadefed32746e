"""Typed dependency aliases shared by REST routers and the GraphQL context getter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.record import AuditRecord
from app.auth.principal import Principal
from app.auth.repository import OAuthClientRepository
from app.auth.tokens import TokenVerifier
from app.config import Settings
from app.core.context import Ctx
from app.core.errors import Unauthenticated
from app.ops.ratelimit import RateLimiter


# Trivial dependencies are async on purpose: FastAPI runs sync ones in a threadpool.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncSession:
    return request.state.uow.session


async def get_audit(request: Request) -> AuditRecord:
    return request.state.audit


async def authenticate(
    authorization: str | None,
    verifier: TokenVerifier,
    session: AsyncSession,
    audit: AuditRecord,
    limiter: RateLimiter | None = None,
) -> Principal:
    """Verify the Bearer token and stamp the actor onto the request's audit record; with a
    `limiter`, count the call against the principal's rate limit (429 when over)."""
    if not authorization:
        raise Unauthenticated()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
    principal = await verifier.verify(token.strip())
    audit.actor_sub = principal.sub
    audit.actor_type = principal.type
    audit.actor_role = principal.role.value if principal.role else None
    audit.client_id = principal.client_id
    if principal.is_service:
        # Revocation must stop tokens already issued, so every service call checks the client.
        if not await OAuthClientRepository(session).is_active(principal.client_id):
            raise Unauthenticated("The service account has been revoked.")
    if limiter is not None:
        await limiter.principal(principal.sub)
    return principal


async def get_principal(request: Request) -> Principal:
    return await authenticate(
        request.headers.get("authorization"),
        request.app.state.verifier,
        request.state.uow.session,
        request.state.audit,
        getattr(request.app.state, "rate_limiter", None),
    )


async def get_ctx(request: Request) -> Ctx:
    # Authenticates itself rather than depending on get_principal: FastAPI solves every
    # dependency level per request (parameter analysis included), on every API call.
    return Ctx(
        session=request.state.uow.session,
        principal=await get_principal(request),
        audit=request.state.audit,
        settings=request.app.state.settings,
    )


DbSession = Annotated[AsyncSession, Depends(get_session)]
Context = Annotated[Ctx, Depends(get_ctx)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]

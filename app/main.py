"""create_app(): settings, database, middleware, error handlers, routers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from app.api.deps import AppSettings, DbSession
from app.api.docs import mount_docs
from app.api.openapi import install_openapi
from app.api.params import known_query_params
from app.audit.batcher import create_batcher, running_batcher
from app.audit.checkpoint import Checkpoints
from app.audit.middleware import RequestMiddleware
from app.audit.sealer import background_sealer
from app.auth.keys import public_jwks
from app.auth.tokens import TokenVerifier
from app.config import Settings, startup_settings
from app.core.errors import Unavailable
from app.core.http import install_error_handlers
from app.core.limits import RequestLimits
from app.core.runtime import tune_gc
from app.db.session import (
    create_engine,
    create_numbers_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from app.feed.events import write_events
from app.feed.hub import Hub
from app.feed.idempotency import IdempotencyMiddleware
from app.feed.runtime import running_feed
from app.graphql import mount_graphql
from app.ops.install import SealerMetrics, audit_failure_hook, install_operations
from app.phi import detector as phi_detector
from app.phi.warnings import PhiRedactedHeader

log = logging.getLogger("rounds")


def _operation_id(route: APIRoute) -> str:
    head, *rest = route.name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def api_routers() -> list[APIRouter]:
    from app.audit.router import router as audit
    from app.feed.router import router as webhooks
    from app.insights.router import router as insights
    from app.integrations.router import integrations_router
    from app.interviews.router import router as interviews
    from app.members.router import router as members
    from app.products.router import router as products
    from app.roadmap.router import router as roadmap
    from app.stories.router import router as stories

    # Routes are matched in order: the CSV routes first (/stories/export must win over
    # /stories/{story_ref}), then the resources clients call most, then the rest.
    search, comments, activity, transfer = _pm_routers()
    return [
        transfer,
        *(stories, roadmap, products, interviews, insights, members, audit),
        *(search, comments, activity, webhooks),
        integrations_router(),
    ]


def include_api(app: FastAPI) -> None:
    """The REST routers under /api/v1, each included into the app itself: one level of
    included routers less to walk on every request than an /api/v1 router holding them
    (FastAPI matches through each level, and sums each level's route versions)."""
    for router in api_routers():
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(known_query_params)])


def _pm_routers() -> list[APIRouter]:
    """Search, comments, activity, CSV import/export (issue #16)."""
    from app.activity.router import router as activity
    from app.comments.router import router as comments
    from app.search.router import router as search
    from app.stories.csv_router import router as transfer

    return [search, comments, activity, transfer]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or startup_settings()
    engine = create_engine(settings)
    batcher = create_batcher(engine, enabled=settings.audit_group_commit)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.gc_tuning:
            tune_gc()
        # The PHI detector's prefilter: read from its cache (built on a first start: 15-20 s),
        # now, not in a request.
        await asyncio.to_thread(phi_detector.warm)
        async with (
            background_sealer(
                engine,
                enabled=settings.audit_enabled,
                # Operations: signed chain-head checkpoints, sealer metrics.
                checkpoints=Checkpoints(settings),
                observer=SealerMetrics(app),
            ),
            running_batcher(batcher),
            running_feed(app, settings),
        ):
            yield
        # Drained above: every queued event is committed before the pool closes.
        await engine.dispose()  # and the numbers engine with it

    app = FastAPI(
        title="Rounds API",
        version="1.0.0",
        description="Product management for teams building AI products for healthcare.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # app.api.docs serves /docs from Rounds' own assets
        openapi_url="/openapi.json" if settings.openapi_enabled else None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry (spans, metrics, logs from global providers) stays off:
        # app/ops/tracing.py instruments with scrubbed spans (no query strings, no raw paths),
        # and the native check costs every request a look at three global providers.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.numbers_engine = numbers = create_numbers_engine(engine)
    app.state.sessionmaker = create_sessionmaker(engine, numbers=numbers)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.batcher = batcher
    app.state.verifier = TokenVerifier(settings)
    # Change feed fan-out (app/feed/hub.py).
    app.state.feed_hub = Hub(engine, notify_every=settings.feed_notify_every_seconds)

    install_error_handlers(app)
    install_openapi(app)
    # Routes are matched in order, one regex each: GraphQL (one route, most of a client's
    # traffic) first, so it does not walk every REST route before it.
    mount_graphql(app, settings)
    if not settings.is_production and app.openapi_url:
        mount_docs(app, openapi_url=app.openapi_url)
    include_api(app)
    app.include_router(_system_router())
    app.include_router(_oauth_router())

    # Innermost: Idempotency-Key stores responses in the request's transaction (app/feed).
    app.add_middleware(
        IdempotencyMiddleware, settings=settings, maker_getter=lambda: app.state.sessionmaker
    )
    app.add_middleware(PhiRedactedHeader)
    # Trusted hosts, URL, header and body limits: one layer (app/core/limits.py).
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        allowed_hosts=settings.allowed_host_list,
    )
    app.add_middleware(
        RequestMiddleware,
        settings=settings,
        maker_getter=lambda: app.state.sessionmaker,
        read_maker_getter=lambda: app.state.read_sessionmaker,
        batcher_getter=lambda: app.state.batcher,
        on_failure=audit_failure_hook(app),
        # Change-feed outbox, in the change's transaction (app/feed/events.py).
        before_commit=(write_events,) if settings.feed_outbox else (),
    )
    # --- Operations (SPEC §11, app/ops): after the audit middleware, see install_operations.
    install_operations(app, settings)
    # --- end Operations
    return app


def _oauth_router() -> APIRouter:
    from app.auth.router import router

    return router


def _system_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", tags=["health"], include_in_schema=False)
    async def root() -> dict[str, str]:
        """Where to go from here (a bare 404 helps nobody who types the host name)."""
        return {
            "name": "Rounds API",
            "docs": "/docs",
            "openapi": "/openapi.json",
            "graphql": "/graphql",
            "rest": "/api/v1",
            "health": "/health/ready",
            "guide": "docs/api-guide.md in the Rounds repository",
        }

    @router.get("/health/live", tags=["health"])
    async def health_live() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @router.get("/health/ready", tags=["health"])
    async def health_ready(session: DbSession) -> dict[str, str]:
        """Readiness: the database answers."""
        try:
            await session.execute(text("SELECT 1"))
        except Exception as exc:
            raise Unavailable("The database is not reachable.") from exc
        return {"status": "ok", "database": "ok"}

    @router.get("/.well-known/jwks.json", tags=["auth"])
    async def get_jwks(settings: AppSettings) -> Response:
        """Public keys of the built-in token issuer."""
        return JSONResponse(public_jwks(settings))

    return router

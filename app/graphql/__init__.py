"""GraphQL API (strawberry): one more thin adapter over the domain services."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.config import Settings


def mount_graphql(app: FastAPI, settings: Settings) -> None:
    """/graphql, and in development the explorer's self-hosted assets under /static/graphiql."""
    from starlette.staticfiles import StaticFiles

    from app.graphql.explorer import STATIC_DIR, STATIC_URL
    from app.graphql.router import graphql_router, lean_post_route

    router = graphql_router(settings)
    app.include_router(router)
    if settings.graphql_fastpath:
        # POST /graphql without FastAPI's dependency solving (RoundsGraphQLRouter.lean_post), first
        # among the app's routes; GET, websockets and the rest stay on strawberry's routes.
        app.router.routes.insert(0, lean_post_route(router))
    app.state.graphql_schema = router.schema  # its `fastpath` counts hits and fallbacks
    if settings.explorer_enabled:
        app.mount(
            STATIC_URL,
            StaticFiles(directory=STATIC_DIR, check_dir=False),
            name="graphiql-static",
        )

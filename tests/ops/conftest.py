"""Apps of their own with operations settings changed (limits, CORS, tokens, tracing)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app


@pytest.fixture
def app_with(settings: Settings):
    """`async with app_with(rate_limit_api="3/minute") as (app, client):` — an app on the
    session's database with some settings changed, lifespan included."""

    @contextlib.asynccontextmanager
    async def make(
        peer: str = "203.0.113.7", **update: Any
    ) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        s = settings.model_copy(update=update)
        application = create_app(s)
        transport = httpx.ASGITransport(app=application, client=(peer, 50000))
        try:
            async with (
                application.router.lifespan_context(application),
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as c,
            ):
                yield application, c
        finally:
            await application.state.engine.dispose()

    return make


@pytest.fixture(scope="session")
def raw(database_url: str):
    """Plain SQL on the shared test database (tests/audit/conftest.py's RawDb)."""
    from tests.audit.conftest import RawDb

    return RawDb(database_url)

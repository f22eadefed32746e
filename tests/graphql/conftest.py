"""Fixtures shared by the GraphQL tests."""

from __future__ import annotations

import httpx
import pytest

from app.main import create_app


@pytest.fixture(scope="module")
async def standard(settings):
    """The same app with the fast path off (graphql-core executes every request)."""
    app = create_app(settings.model_copy(update={"graphql_fastpath": False}))
    assert app.state.graphql_schema.fastpath is None
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.engine.dispose()

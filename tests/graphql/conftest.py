"""Fixtures shared by the GraphQL tests."""

from __future__ import annotations

import httpx
import pytest

from app.graphql.rendered import RenderingExecutor
from app.main import create_app


@pytest.fixture(scope="module")
async def standard(settings):
    """The same app with database rendering off (every field through its resolver)."""
    app = create_app(settings.model_copy(update={"graphql_fastpath": False}))
    assert app.state.graphql_schema.execution_context_class is not RenderingExecutor
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.engine.dispose()

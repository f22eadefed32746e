"""An app whose webhooks may target loopback (the test receiver) with a short backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app


@pytest.fixture(scope="module")
def feed_settings(settings):
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_retry_schedule": "0.3,0.3,0.3",
            "webhook_timeout_seconds": 1.0,
            "webhook_lease_seconds": 5.0,
            "webhook_poll_seconds": 0.05,
        }
    )


@pytest.fixture(scope="module")
async def feed_app(feed_settings):
    application = create_app(feed_settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="module")
async def feed_client(feed_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=feed_app, client=("203.0.113.8", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c

"""An app with the integration secrets set, over the session's database (the shared `app`
keeps them unset, which is what the "refuses while unset" tests use)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.integrations.slack.router import get_response_poster
from app.main import create_app

JIRA_SECRET = "test-jira-webhook-secret"
SLACK_SECRET = "test-slack-signing-secret"
FIXTURES = Path(__file__).parent / "fixtures"
# The public payloads beside the checkout (never copied into the repository).
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "integrations"


@pytest.fixture(scope="session")
def integ_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"jira_webhook_secret": JIRA_SECRET, "slack_signing_secret": SLACK_SECRET}
    )


class Posted:
    """Messages the app would post to Slack's response_url (no network in tests)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def __call__(self, url: str, message: dict) -> None:
        self.calls.append((url, message))


@pytest.fixture(scope="session")
def posted() -> Posted:
    return Posted()


@pytest.fixture(scope="session")
async def integ_app(integ_settings: Settings, posted: Posted):
    application = create_app(integ_settings)
    application.dependency_overrides[get_response_poster] = lambda: posted
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="session")
async def integ(integ_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=integ_app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c

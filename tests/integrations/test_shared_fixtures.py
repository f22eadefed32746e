"""Every public Jira and Slack payload beside the checkout (../shared/data/integrations:
real deliveries from Jira Cloud and Jira Server, Slack's official signature vector,
slash-command, interactivity and Events API bodies) through the real endpoints, signed
with the secrets of the published/derived vectors. Skipped when that folder is absent:
the committed fixtures of the same shapes (test_jira.py, test_slack.py) stand alone."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from app.integrations.jira.service import verify_signature
from app.integrations.slack.router import get_response_poster, get_slack_clock
from app.main import create_app
from tests.api.factories import assert_problem, make_world
from tests.integrations.conftest import SHARED
from tests.integrations.helpers import (
    JIRA_URL,
    SLACK_COMMANDS,
    SLACK_EVENTS,
    SLACK_INTERACTIONS,
    audit_of,
)

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason="public integration fixtures (../shared) are not present"
)


def _vectors(path: str) -> dict[str, Any]:
    return json.loads((SHARED / path).read_text()) if SHARED.is_dir() else {}


JIRA_VECTORS = _vectors("jira/signature/jira_hub_signature_derived_vectors.json")
SLACK_VECTORS = _vectors("slack/signature/slack_signature_derived_vectors.json")
SLACK_OFFICIAL = _vectors("slack/signature/slack_signature_test_vector.json")


class PinnedClock(Clock):
    """Slack's vectors were signed at 1531420618; the 5-minute window is checked against it."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.fixture(scope="module")
async def shared_app(settings):
    application = create_app(
        settings.model_copy(
            update={
                "jira_webhook_secret": JIRA_VECTORS["secret"],
                "slack_signing_secret": SLACK_OFFICIAL["signing_secret"],
            }
        )
    )
    application.dependency_overrides[get_slack_clock] = lambda: PinnedClock(
        int(SLACK_OFFICIAL["timestamp"])
    )
    posted: list[Any] = []

    async def poster(url: str, message: dict) -> None:
        posted.append((url, message))

    application.dependency_overrides[get_response_poster] = lambda: poster
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="module")
async def shared(shared_app):
    transport = httpx.ASGITransport(app=shared_app, client=("192.0.2.10", 443))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def test_githubs_published_vector_for_the_same_scheme():
    verify_signature(
        "It's a Secret to Everybody",
        b"Hello, World!",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )


# What each Jira delivery does, sent in the order Jira produced them (by `timestamp`).
JIRA_EXPECTED = [
    # file, status, story status after, jira_sync state after
    ("zulip/issue_created.json", "applied", "ready", "in_sync"),  # Server 2013: Open, no category
    ("zulip/issue_updated__status.json", "applied", "in_progress", "in_sync"),  # project ABC
    ("mattermost-plugin-jira/webhook-issue-created.json", "applied", "ready", "in_sync"),
    ("mattermost-plugin-jira/webhook-issue-updated-renamed.json", "applied", "ready", "in_sync"),
    (
        "mattermost-plugin-jira/webhook-issue-updated-started-working.json",
        "applied",
        "in_progress",
        "in_sync",
    ),
    # in_progress -> done skips review: Rounds' workflow wins.
    (
        "mattermost-plugin-jira/webhook-issue-updated-resolved.json",
        "applied",
        "in_progress",
        "conflict",
    ),
    # Jira is back at To Do: the retried move (in_progress -> ready) is allowed.
    ("mattermost-plugin-jira/webhook-issue-updated-assigned.json", "applied", "ready", "in_sync"),
    ("mattermost-plugin-jira/webhook-issue-deleted.json", "ignored", None, None),  # IDT-19 unknown
    # Jira Server TES-4: created from Resolved (ready -> done refused), then In Progress.
    (
        "mattermost-plugin-jira/webhook-server-issue-updated-resolved.json",
        "applied",
        "ready",
        "conflict",
    ),
    (
        "mattermost-plugin-jira/webhook-server-issue-updated-in-progress.json",
        "applied",
        "in_progress",
        "in_sync",
    ),
    # GDPR-shaped Cloud user (accountId only) on TES-10.
    ("mattermost-plugin-jira/webhook-issue-updated-components.json", "applied", "ready", "in_sync"),
    (
        "mattermost-plugin-jira/webhook-issue-assigned-empty-changelog.json",
        "applied",
        "ready",
        "in_sync",
    ),
]


async def test_every_jira_fixture_through_the_webhook(shared, shared_app, client, auth):
    signatures = {v["file"]: v["X-Hub-Signature"] for v in JIRA_VECTORS["vectors"]}
    assert len(signatures) == len(JIRA_EXPECTED) == len(list(SHARED.glob("jira/*/*.json"))) - 1
    worlds = {}
    for project in ("TES", "TEST", "BUG", "ABC", "IDT"):
        w = await make_world(client, auth)
        if project != "IDT":  # IDT stays unlinked... and its deletion is ignored either way
            r = await client.patch(
                f"/api/v1/products/{w.pid}", json={"jira_project_key": project}, headers=w.pm
            )
            assert r.status_code == 200, r.text
        worlds[project] = w
    for n, (name, status, story_status, sync_state) in enumerate(JIRA_EXPECTED):
        raw = (SHARED / "jira" / name).read_bytes()
        body = json.loads(raw)
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": f"6931227041458{n:04d}",
            "X-Atlassian-Webhook-Flow": "Primary",
            "X-Hub-Signature": signatures[f"jira/{name}"],
        }
        r = await shared.post(JIRA_URL, content=raw, headers=headers)
        assert r.json()["status"] == status, (name, r.text)
        event = await audit_of(shared_app, r)
        assert event.actor_sub == "integration:jira" and event.actor_type == "service"
        if status != "applied":
            continue
        project = body["issue"]["fields"]["project"]["key"]
        w = worlds[project]
        story = (await client.get(f"/api/v1/stories/{r.json()['story_id']}", headers=w.pm)).json()
        assert story["jira_key"] == body["issue"]["key"] and story["product_id"] == w.pid
        assert story["status"] == story_status, (name, story)
        assert story["jira_sync"]["state"] == sync_state, (name, story["jira_sync"])
        assert story["jira_sync"]["jira_status"] == body["issue"]["fields"]["status"]["name"]
        user = body.get("user") or {}
        ref = story["jira_sync"]["changed_by"]
        assert ref in {f"{k}:{user.get(k)}" for k in ("accountId", "key", "name")}, ref
        if name.endswith("renamed.json"):
            assert story["title"] == "Unit test summary 1"
        if name.endswith("webhook-issue-created.json"):
            assert story["description"] == "Unit test description, not that long"

    # A retry of a delivery is a duplicate; an older event than the last applied is stale.
    raw = (SHARED / "jira" / JIRA_EXPECTED[5][0]).read_bytes()
    headers["X-Hub-Signature"] = signatures[f"jira/{JIRA_EXPECTED[5][0]}"]
    headers["X-Atlassian-Webhook-Identifier"] = "69312270414580005"
    r = await shared.post(JIRA_URL, content=raw, headers=headers)
    assert r.json() == {"status": "duplicate"}
    headers["X-Atlassian-Webhook-Identifier"] = "69312270414589999"
    r = await shared.post(JIRA_URL, content=raw, headers=headers)
    assert r.json() == {"status": "stale"}
    # Tampered: one byte off.
    r = await shared.post(JIRA_URL, content=raw + b" ", headers=headers)
    assert_problem(r, 401)


async def test_slack_official_vector_and_every_body(shared, shared_app, client, auth):
    # Slack's official vector: accepted with the pinned clock; the SDK's negative case
    # (body with a suffix) is refused.
    body = (SHARED / "slack/signature/slash_command_webhook_collect.body.txt").read_bytes()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": SLACK_OFFICIAL["timestamp"],
        "X-Slack-Signature": SLACK_OFFICIAL["expected_signature"],
    }
    r = await shared.post(SLACK_COMMANDS, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert "not linked to Rounds" in r.json()["text"]  # U2CERLKJA is nobody's link
    assert_problem(
        await shared.post(SLACK_COMMANDS, content=body + b"------", headers=headers), 401
    )

    w = await make_world(client, auth)
    r = await client.post(
        "/api/v1/integrations/slack/links",
        json={"team_id": "T111", "user_id": "W111", "subject": w.pm_sub, "role": "product_manager"},
        headers=auth("admin"),
    )
    assert r.status_code in (201,), r.text
    expected = {
        "slash_commands/bolt_python_hello_world.body.txt": "Unknown command 'hi'",  # text=Hi
        "slash_commands/java_sdk_modified_real_hello.body.txt": "Rounds commands",  # empty
        "slash_commands/java_sdk_org_level_command.body.txt": "Unknown command 'test'",
        "slash_commands/slack_docs_weather.body.txt": "not linked to Rounds",  # U2147483697
        "interactivity/bolt_python_block_actions.body.txt": "does not know that button",
        "signature/slash_command_webhook_collect.body.txt": "not linked to Rounds",
    }
    assert len(SLACK_VECTORS["vectors"]) == len(expected)
    for vector in SLACK_VECTORS["vectors"]:
        name = vector["file"].removeprefix("slack/")
        raw = (SHARED / "slack" / name).read_bytes()
        url = SLACK_INTERACTIONS if name.startswith("interactivity/") else SLACK_COMMANDS
        r = await shared.post(
            url,
            content=raw,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": vector["X-Slack-Request-Timestamp"],
                "X-Slack-Signature": vector["X-Slack-Signature"],
            },
        )
        assert r.status_code == 200, (name, r.text)
        assert expected[name] in r.json()["text"], (name, r.json()["text"])
        assert r.json()["response_type"] == "ephemeral"
        event = await audit_of(shared_app, r)
        if "not linked" in expected[name]:
            assert event.actor_sub == "integration:slack"
        else:
            assert (event.actor_sub, event.client_id) == (w.pm_sub, "integration:slack")

    # Events API bodies (JSON), signed with the official secret at the pinned time.
    verifier = SignatureVerifier(SLACK_OFFICIAL["signing_secret"])
    ts = SLACK_OFFICIAL["timestamp"]
    for name in sorted(p.name for p in (SHARED / "slack/events").glob("*.json")):
        raw = (SHARED / "slack/events" / name).read_bytes()
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=raw),
        }
        r = await shared.post(SLACK_EVENTS, content=raw, headers=headers)
        assert r.status_code == 200, (name, r.text)
        data = json.loads(raw)
        if data["type"] == "url_verification":
            assert r.json() == {"challenge": data["challenge"]}
        else:
            assert r.json() == {"ok": True}

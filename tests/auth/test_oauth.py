"""Service accounts end to end: CLI, POST /oauth/token (RFC 6749 §4.4), scopes, revocation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import OAuthClient
from app.config import get_settings
from tests.api.factories import assert_problem, make_world
from tests.auth.helpers import audit_event, bearer, claims_of, run_cli, service_token

pytestmark = pytest.mark.asyncio

GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
def cli_env(monkeypatch, settings):
    """The CLI reads settings from the environment: point it at the test database."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def jira_bot(cli_env, capsys) -> tuple[str, str]:
    rc, out, _ = await run_cli(
        ["clients", "create", "--name", "jira-bot", "--scopes", "stories:read stories:write"],
        capsys,
    )
    assert rc == 0
    created = json.loads(out)
    return created["client_id"], created["client_secret"]


async def test_cli_create_prints_the_credentials_once_and_stores_only_a_hash(app, cli_env, capsys):
    rc, out, err = await run_cli(
        ["clients", "create", "--name", "slack-bot", "--scopes", "roadmap:read products:read"],
        capsys,
    )
    assert rc == 0, err
    created = json.loads(out)  # stdout is exactly one JSON document
    assert set(created) == {"client_id", "client_secret"}
    assert out.strip() == json.dumps(created)
    assert len(created["client_secret"]) >= 32

    async with app.state.sessionmaker() as session:
        row = await session.scalar(
            select(OAuthClient).where(OAuthClient.client_id == created["client_id"])
        )
    assert row is not None and row.name == "slack-bot"
    assert row.scopes == "products:read roadmap:read"  # canonical order
    assert row.secret_hash.startswith("scrypt$")
    assert created["client_secret"] not in row.secret_hash

    rc, listed, _ = await run_cli(["clients", "list"], capsys)
    assert rc == 0
    rows = {c["client_id"]: c for c in json.loads(listed)}
    assert rows[created["client_id"]]["revoked_at"] is None
    assert created["client_secret"] not in listed and "secret" not in listed

    # The operator's change is audited in the same transaction, never with the secret.
    async with app.state.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.path == "cli:clients create")
            .order_by(AuditEvent.occurred_at.desc())
            .limit(1)
        )
    assert event is not None and event.action == "create" and event.http_method == "CLI"
    assert event.actor_sub.startswith("os:") and str(row.id) in event.resource_ids
    assert created["client_secret"] not in json.dumps(
        {c.name: str(getattr(event, c.name)) for c in AuditEvent.__table__.columns}
    )


async def test_cli_rejects_unknown_scopes_with_exit_2(cli_env, capsys):
    rc, out, err = await run_cli(
        ["clients", "create", "--name", "x", "--scopes", "stories:read phi:read"], capsys
    )
    assert rc == 2 and out == ""
    assert "phi:read" in err


async def test_cli_revoke_unknown_client_fails(cli_env, capsys):
    rc, _, err = await run_cli(["clients", "revoke", "no-such-client"], capsys)
    assert rc == 1 and "no-such-client" in err


async def test_token_by_http_basic(client, settings, jira_bot):
    client_id, secret = jira_bot
    r = await client.post("/oauth/token", data=GRANT, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body["scope"] == "stories:read stories:write"  # nothing requested: all of its own
    claims = claims_of(body["access_token"])
    assert claims["sub"] == f"client:{client_id}" and claims["client_id"] == client_id
    assert claims["scope"] == body["scope"] and claims["name"] == "jira-bot"
    assert "role" not in claims

    me = await client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["type"] == "service" and me.json()["scopes"] == [
        "stories:read",
        "stories:write",
    ]


async def test_token_by_form_body_with_narrower_scope(client, auth, jira_bot):
    client_id, secret = jira_bot
    r = await client.post(
        "/oauth/token",
        data={**GRANT, "client_id": client_id, "client_secret": secret, "scope": "stories:read"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "stories:read"
    token = r.json()["access_token"]
    world = await make_world(client, auth)
    await world.story()
    # stories:read without products:read: the product itself stays out of reach
    create = await client.post(
        "/api/v1/stories", json={"product_id": world.pid, "title": "x"}, headers=bearer(token)
    )
    assert_problem(create, 404)


@pytest.mark.parametrize(
    "how",
    ["wrong secret (basic)", "wrong secret (body)", "unknown client", "no credentials"],
)
async def test_bad_client_credentials_are_invalid_client_401(app, client, jira_bot, how):
    client_id, secret = jira_bot
    kwargs: dict = {
        "wrong secret (basic)": {"data": GRANT, "auth": (client_id, secret + "x")},
        "wrong secret (body)": {"data": {**GRANT, "client_id": client_id, "client_secret": "nope"}},
        "unknown client": {"data": GRANT, "auth": ("f" * 32, secret)},
        "no credentials": {"data": GRANT},
    }[how]
    r = await client.post("/oauth/token", **kwargs)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")
    assert secret not in r.text

    event = await audit_event(app, r)
    assert event.action == "auth_failed" and event.outcome == "denied"
    assert event.actor_type == "anonymous" and event.actor_sub is None
    assert event.client_id is None
    assert event.resource_type == "oauth_client" and event.path == "/oauth/token"


async def test_successful_token_request_is_audited_as_login(app, client, jira_bot):
    client_id, secret = jira_bot
    r = await client.post("/oauth/token", data=GRANT, auth=(client_id, secret))
    assert r.status_code == 200
    event = await audit_event(app, r)
    assert event.action == "login" and event.outcome == "success"
    assert event.resource_type == "oauth_client"
    assert event.client_id == client_id and event.actor_type == "service"
    assert event.actor_sub == f"client:{client_id}"
    assert r.json()["access_token"] not in json.dumps(event.resource_ids)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({**GRANT, "scope": "roadmap:write"}, "invalid_scope"),
        ({**GRANT, "scope": "stories:read admin"}, "invalid_scope"),
        ({"scope": "stories:read"}, "invalid_request"),
        ({"grant_type": '"\\é'}, "unsupported_grant_type"),  # never echoed back
        ({**GRANT, "scope": '"\\é stories:read'}, "invalid_scope"),
    ],
)
async def test_rfc_errors(client, jira_bot, data, error):
    r = await client.post("/oauth/token", data=data, auth=jira_bot)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error
    assert r.headers["cache-control"] == "no-store"


async def test_malformed_requests_are_invalid_request(client, jira_bot):
    _, secret = jira_bot
    as_json = await client.post("/oauth/token", json=GRANT, auth=jira_bot)
    repeated = await client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=stories:read&scope=stories:write",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=jira_bot,
    )
    hostile_name = await client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&%22%5C%C3%A9=1&%22%5C%C3%A9=2",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=jira_bot,
    )
    two_methods = await client.post(
        "/oauth/token", data={**GRANT, "client_secret": secret}, auth=jira_bot
    )
    for r in (as_json, repeated, hostile_name, two_methods):
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request"


async def test_scopes_decide_what_a_token_may_do(app, client, auth, cli_env, capsys):
    rc, out, _ = await run_cli(
        ["clients", "create", "--name", "planner", "--scopes", "products:read stories:write"],
        capsys,
    )
    assert rc == 0
    client_id, secret = json.loads(out).values()
    token = bearer(await service_token(client, client_id, secret))
    world = await make_world(client, auth)
    interview = await world.interview(participant_name="Ada Lovelace")

    ok = await client.post(
        "/api/v1/stories", json={"product_id": world.pid, "title": "Sync"}, headers=token
    )
    assert ok.status_code == 201, ok.text
    assert (await client.get(f"/api/v1/products/{world.pid}", headers=token)).status_code == 200
    # stories:write without stories:read: a story it may not read is 404, even its own
    assert_problem(await client.get(f"/api/v1/stories/{ok.json()['id']}", headers=token), 404)
    assert_problem(await client.get("/api/v1/stories", headers=token), 403)
    # product readable, roadmap write not granted: 403
    item = await client.post(
        "/api/v1/roadmap-items", json={"product_id": world.pid, "title": "x"}, headers=token
    )
    assert_problem(item, 403)
    # no scope reads interviews, let alone PHI
    assert_problem(await client.get("/api/v1/interviews", headers=token), 403)
    assert_problem(await client.get(f"/api/v1/interviews/{interview['id']}", headers=token), 404)


async def test_revocation_stops_an_existing_token(app, client, cli_env, capsys, jira_bot):
    client_id, secret = jira_bot
    token = bearer(await service_token(client, client_id, secret))
    before = await client.get("/api/v1/stories?limit=1", headers=token)
    assert before.status_code == 200

    rc, _, _ = await run_cli(["clients", "revoke", client_id], capsys)
    assert rc == 0

    after = await client.get("/api/v1/stories?limit=1", headers=token)
    assert_problem(after, 401)
    assert after.headers["www-authenticate"].startswith("Bearer")
    again = await client.post("/oauth/token", data=GRANT, auth=(client_id, secret))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"

    rc, listed, _ = await run_cli(["clients", "list"], capsys)
    revoked = {c["client_id"]: c for c in json.loads(listed)}[client_id]
    assert revoked["revoked_at"] is not None
    rc, _, _ = await run_cli(["clients", "revoke", client_id], capsys)
    assert rc == 1  # already revoked


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=\xff\xfe",
        b"%ff%fe=1&grant_type=client_credentials",
        b"\x00=\x00",
        b"grant_type=client_credentials&client_id=\xff&client_secret=x",
    ],
)
async def test_garbage_form_bytes_are_rfc_errors_not_500(client, body):
    r = await client.post(
        "/oauth/token",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] in ("invalid_request", "unsupported_grant_type", "invalid_client")

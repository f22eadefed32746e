"""Rate limits (SPEC §11): /oauth/token per source IP and per client id, the API per
principal, integrations per source; 429 problem+json with Retry-After, audited; one budget
across app instances when REDIS_URL is set."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest

from tests.api.factories import assert_problem
from tests.auth.helpers import new_client

GRANT = {"grant_type": "client_credentials"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def assert_429(r: httpx.Response) -> None:
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["x-request-id"]


async def event_of(raw, r: httpx.Response) -> dict:
    [e] = await raw.fetch(
        "SELECT * FROM audit_event WHERE request_id = :r", r=r.headers["x-request-id"]
    )
    return e


async def test_token_endpoint_per_source_ip(app_with, raw):
    async with app_with(rate_limit_oauth_per_ip="3/minute") as (app, c):
        cid, _ = await new_client(app, scopes="stories:read")
        wrong = {**GRANT, "client_id": cid, "client_secret": "wrong"}
        for _ in range(3):
            assert (await c.post("/oauth/token", data=wrong)).status_code == 401
        refused = await c.post("/oauth/token", data=wrong)
        assert_429(refused)
        e = await event_of(raw, refused)
        assert (e["status_code"], e["action"], e["outcome"]) == (429, "access_denied", "denied")
        assert e["path"] == "/oauth/token" and e["source_ip"] == "203.0.113.7"
        # Another source still gets through (its own budget).
        other = httpx.ASGITransport(app=app, client=("198.51.100.20", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as c2:
            assert (await c2.post("/oauth/token", data=wrong)).status_code == 401
        metrics = (await c.get("/metrics")).text
        assert 'rounds_rate_limited_total{limit="token_ip"} 1.0' in metrics


async def test_token_endpoint_per_client_across_sources(app_with):
    async with app_with(rate_limit_oauth_per_client="2/minute") as (app, _):
        cid, secret = await new_client(app, scopes="stories:read")
        statuses = []
        for i in range(3):
            transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{i + 1}", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post("/oauth/token", data=GRANT, auth=(cid, secret))
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert_429(r)
        assert statuses == [200, 200, 429]
        # The limit is per client: another client is not affected.
        cid2, secret2 = await new_client(app, scopes="stories:read")
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.post(
                "/oauth/token", data={**GRANT, "client_id": cid2, "client_secret": secret2}
            )
            assert r.status_code == 200


async def test_api_per_principal_rest_and_graphql(app_with, auth, raw):
    async with app_with(rate_limit_api="4/minute") as (_, c):
        alice = auth("engineer", f"rl-alice-{uuid.uuid4().hex[:6]}")
        for _ in range(2):
            assert (await c.get("/api/v1/products", headers=alice)).status_code == 200
            gql = await c.post("/graphql", json={"query": "{ me { sub } }"}, headers=alice)
            assert gql.status_code == 200
        refused = await c.get("/api/v1/me", headers=alice)
        assert_429(refused)
        assert_429(await c.post("/graphql", json={"query": "{ me { sub } }"}, headers=alice))
        e = await event_of(raw, refused)
        assert (e["status_code"], e["action"], e["outcome"]) == (429, "access_denied", "denied")
        assert e["actor_sub"].startswith("rl-alice-")
        bob = auth("engineer", f"rl-bob-{uuid.uuid4().hex[:6]}")
        assert (await c.get("/api/v1/me", headers=bob)).status_code == 200


async def test_api_limit_is_off_by_default_outside_production(client, auth, settings):
    assert settings.effective_rate_limit_api == ""
    pm = auth("engineer", "rl-default")
    rs = await asyncio.gather(*(client.get("/api/v1/me", headers=pm) for _ in range(50)))
    assert {r.status_code for r in rs} == {200}


async def test_integrations_are_limited_per_source_by_prefix(app_with, raw):
    async with app_with(rate_limit_integrations_per_source="2/minute") as (_, c):
        url = "/api/v1/integrations/jira/webhook"
        first = [await c.post(url, content=b"{}") for _ in range(2)]
        assert all(r.status_code != 429 for r in first)
        refused = await c.post(url, content=b"{}")
        assert_429(refused)
        e = await event_of(raw, refused)
        assert (e["status_code"], e["outcome"]) == (429, "denied")
        # Other API paths are not counted against the integration budget.
        assert (await c.get("/api/v1/products")).status_code == 401


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_two_instances_share_one_budget_through_redis(app_with, auth):
    namespace = f"rounds-test-{uuid.uuid4().hex}"
    common = {
        "redis_url": REDIS_URL,
        "rate_limit_namespace": namespace,
        "rate_limit_api": "5/minute",
    }
    pm = auth("engineer", f"rl-redis-{uuid.uuid4().hex[:6]}")
    async with app_with(**common) as (_, a), app_with(**common) as (_, b):
        statuses = []
        for i in range(7):
            c = a if i % 2 == 0 else b
            statuses.append((await c.get("/api/v1/me", headers=pm)).status_code)
        assert statuses == [200] * 5 + [429, 429]
    # And without Redis, the same two instances would each have had a budget of their own.
    async with (
        app_with(rate_limit_api="5/minute") as (_, a),
        app_with(rate_limit_api="5/minute") as (_, b),
    ):
        statuses = []
        for i in range(10):
            c = a if i % 2 == 0 else b
            statuses.append((await c.get("/api/v1/me", headers=pm)).status_code)
        assert statuses == [200] * 10


async def test_unreachable_redis_fails_open(app_with, auth):
    async with app_with(redis_url="redis://127.0.0.1:1/0", rate_limit_api="1/minute") as (_, c):
        pm = auth("engineer", "rl-redis-down")
        rs = [await c.get("/api/v1/me", headers=pm) for _ in range(3)]
        assert [r.status_code for r in rs] == [200, 200, 200]

"""GET /metrics (route templates, never raw paths; token in production), request ids and
the production self-check (SPEC §11)."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from app.config import Settings
from tests.api.factories import assert_problem, make_world
from tests.conftest import IS_PG

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str, name: str) -> list:
    return [
        s for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name
    ]


async def test_metrics_by_route_template_and_status(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    secret_path = f"/api/v1/nothing-{uuid.uuid4().hex}"
    assert (await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)).status_code == 200
    assert (await client.get(f"/api/v1/stories/{story['key']}", headers=w.pm)).status_code == 200
    assert (await client.get(secret_path, headers=w.pm)).status_code == 404
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    by_story = [
        s
        for s in samples(text, "rounds_http_requests_total")
        if s.labels["route"] == "/api/v1/stories/{story_ref}"
        and s.labels["status"] == "200"
        and s.labels["method"] == "GET"
    ]
    assert by_story and by_story[0].value >= 2
    assert any(
        s.labels["route"] == "<unmatched>" for s in samples(text, "rounds_http_requests_total")
    )
    # No id, key or caller-typed path in any label value.
    for needle in (story["id"], story["key"], secret_path):
        assert needle not in text
    buckets = samples(text, "rounds_http_request_duration_seconds_bucket")
    assert any(s.labels["route"] == "/api/v1/stories/{story_ref}" for s in buckets)
    assert samples(text, "rounds_http_requests_in_flight")
    if IS_PG:
        assert samples(text, "rounds_db_pool_size")[0].value > 0
        assert samples(text, "rounds_db_pool_checkedout")


@pytest.mark.skipif(not IS_PG, reason="group commit (audit batches) runs on PostgreSQL")
async def test_audit_batch_sizes_are_exported(client, auth):
    pm = auth("engineer", "metrics-batch")
    await asyncio.gather(*(client.get("/api/v1/products", headers=pm) for _ in range(20)))
    text = (await client.get("/metrics")).text
    [count] = samples(text, "rounds_audit_batch_size_count")
    assert count.value >= 1
    [total] = samples(text, "rounds_audit_batch_size_sum")
    assert total.value >= 20


async def test_metrics_token_is_checked_in_constant_time_bearer(app_with):
    async with app_with(metrics_token="s3cret-scrape") as (_, c):
        assert_problem(await c.get("/metrics"), 401)
        assert_problem(await c.get("/metrics", headers={"Authorization": "Bearer nope"}), 401)
        assert_problem(
            await c.get("/metrics", headers={"Authorization": "Basic s3cret-scrape"}), 401
        )
        ok = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200 and "rounds_http_requests_total" in ok.text


async def test_metrics_can_be_switched_off(app_with):
    async with app_with(metrics_enabled=False) as (_, c):
        assert_problem(await c.get("/metrics"), 404)


async def test_request_id_is_ours_and_the_callers_is_kept_beside_it(client, auth, raw):
    pm = auth("engineer", "rid-beside")
    caller = f"caller-{uuid.uuid4().hex[:8]}"
    a = await client.get("/api/v1/products", headers={**pm, "X-Request-Id": caller})
    b = await client.get("/api/v1/products", headers={**pm, "X-Request-Id": caller})
    ids = {a.headers["x-request-id"], b.headers["x-request-id"]}
    assert len(ids) == 2 and caller not in ids  # a caller cannot make ids repeat
    events = await raw.fetch(
        "SELECT request_id, client_request_id FROM audit_event WHERE client_request_id = :c",
        c=caller,
    )
    assert {e["request_id"] for e in events} == ids
    bad = await client.get("/api/v1/products", headers={**pm, "X-Request-Id": "x" * 65})
    [e] = await raw.fetch(
        "SELECT client_request_id FROM audit_event WHERE request_id = :r",
        r=bad.headers["x-request-id"],
    )
    assert e["client_request_id"] is None


def _production(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENVIRONMENT", "DATABASE"))}
    return {**base, "ENVIRONMENT": "production", **env}


async def _check(env: dict[str, str]) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "check",
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode().splitlines()


async def test_check_lists_every_setting_to_fix(tmp_path):
    code, lines = await _check(
        _production(
            CORS_ORIGINS="*",
            DB_ECHO="true",
            GRAPHQL_EXPLORER="true",
            AUDIT_ENABLED="false",
            VAR_DIR=str(tmp_path),
        )
    )
    assert code == 1
    text = "\n".join(lines)
    for setting in (
        "AUTH_SIGNING_KEY",
        "PHI_KEYS",
        "DATABASE_URL",
        "CORS_ORIGINS",
        "DB_ECHO",
        "GRAPHQL_EXPLORER",
        "AUDIT_ENABLED",
        "METRICS_TOKEN",
    ):
        assert setting in text, (setting, text)
    assert "Traceback" not in text


async def test_check_passes_a_good_production_configuration(tmp_path):
    from joserfc.jwk import RSAKey

    pem = RSAKey.generate_key(2048).as_pem(private=True).decode()
    env = _production(
        AUTH_SIGNING_KEY=pem,
        PHI_KEYS="k1:" + base64.b64encode(os.urandom(32)).decode(),
        DATABASE_URL="postgresql+asyncpg://rounds@db.internal:5432/rounds",
        METRICS_TOKEN="scrape",
        CORS_ORIGINS="https://app.example.org",
        VAR_DIR=str(tmp_path),
    )
    code, lines = await _check(env)
    assert (code, lines) == (0, ["ok (production)"])


def test_production_settings_refuse_metrics_without_token():
    good = {
        "environment": "production",
        "auth_signing_key": "pem",
        "phi_keys": "k:" + base64.b64encode(os.urandom(32)).decode(),
        "database_url": "postgresql+asyncpg://x@h/db",
    }
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        Settings(**good)
    ok = Settings(**good, metrics_enabled=False)
    assert ok.operations_problems() == []


async def test_webhook_delivery_outcomes_are_exported(app, client):
    from app.feed.worker import OUTCOME_HOOKS

    for hook in list(OUTCOME_HOOKS):  # what a worker calls after each attempt
        hook("success")
    text = (await client.get("/metrics")).text
    [s] = [
        s
        for s in samples(text, "rounds_webhook_deliveries_total")
        if s.labels["outcome"] == "success"
    ]
    assert s.value >= 1


async def test_graphql_fastpath_outcomes_are_exported(client, auth):
    """Each GraphQL execution is counted by how it was answered: by a compiled plan
    (`served`) or, and why, by graphql-core (app/graphql/fastpath.py)."""
    w = await make_world(client, auth)

    async def gql(query: str) -> None:
        r = await client.post("/graphql", json={"query": query}, headers=w.pm)
        assert r.status_code == 200, r.text

    def counts(text: str) -> dict[str, float]:
        return {
            s.labels["outcome"]: s.value for s in samples(text, "rounds_graphql_fastpath_total")
        }

    before = counts((await client.get("/metrics")).text)
    await gql(f'query {{ product(id: "{w.pid}") {{ key }} }}')  # a plan answers it
    await gql(f'query {{ product(id: "{uuid.uuid4()}") {{ key }} }}')  # NOT_FOUND: an error
    await gql(f'mutation {{ archiveStory(id: "{uuid.uuid4()}") {{ id }} }}')  # no plan
    after = counts((await client.get("/metrics")).text)
    for outcome in ("served", "error", "not_applicable"):
        assert after.get(outcome, 0) >= before.get(outcome, 0) + 1, (outcome, before, after)


def test_graphql_fastpath_fallback_reasons():
    import asyncpg
    from graphql import GraphQLError
    from sqlalchemy.exc import OperationalError

    from app.core.errors import AppError
    from app.graphql.fastpath import Unsupported, fallback_reason

    assert fallback_reason(Unsupported("serialize")) == "unsupported"
    assert fallback_reason(GraphQLError("x")) == "error"
    assert fallback_reason(AppError("x")) == "error"
    assert fallback_reason(OperationalError("SELECT", {}, Exception())) == "database"
    assert fallback_reason(asyncpg.UndefinedColumnError("no _rn")) == "database"
    assert fallback_reason(KeyError("x")) == "unexpected"

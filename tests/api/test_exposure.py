"""What the REST API gives away (issue 19 items 3, 5, 6, 18): client values never echoed in
errors, logs or audit events; Link headers not built from the Host header; trusted hosts;
/openapi.json off in production; capped error lists and header sizes."""

from __future__ import annotations

import base64
import logging
import os
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.http import MAX_VALIDATION_ERRORS
from app.main import create_app
from tests.api.factories import assert_problem, make_world, new_sub
from tests.conftest import unique_key

PHI = "Maria Gonzalez 555-0142"
# Whole pieces only: short digit runs turn up in UUIDs and hashes by chance.
PIECES = ("Maria", "Gonzalez", "555-0142", "5550142")


def server_log(caplog) -> str:
    """What the service logged (the test client's own request lines and the SQLite
    driver's debug lines, which carry the test's data, left out)."""
    return "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "aiosqlite"))
    )


def assert_no_echo(text: str) -> None:
    leaked = [p for p in PIECES if p in text]
    assert not leaked, (leaked, text)


async def _client(settings, **update):
    app = create_app(settings.model_copy(update=update))
    transport = httpx.ASGITransport(app=app)
    return app, httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- item 3: no echo ----------------------------------------------------------------------
async def test_rest_errors_name_the_field_never_the_value(client, auth, app, caplog):
    w = await make_world(client, auth)
    since = datetime.now(UTC)
    interview = {
        "product_id": w.pid,
        "title": "t",
        "conducted_on": "2025-01-02",
        "participant_persona": "nurse",
    }
    bad_queries = [
        (f"/api/v1/stories?sort={PHI}", ["query", "sort"]),
        (f"/api/v1/stories?sort=-{PHI}", ["query", "sort"]),
        (f"/api/v1/stories?status={PHI}", ["query", "status"]),
        (f"/api/v1/stories?limit={PHI}", ["query", "limit"]),
        (f"/api/v1/stories?product_id={PHI}", ["query", "product_id"]),
        (f"/api/v1/roadmap-items?horizon={PHI}", ["query", "horizon"]),
        (f"/api/v1/stories?include_archived={PHI}", ["query", "include_archived"]),
    ]
    bad_bodies = [
        ("/api/v1/products", {"key": PHI, "name": "n"}, ["body", "key"]),
        ("/api/v1/products", {"key": "AB", "name": "n", "lifecycle_stage": PHI}, None),
        ("/api/v1/products", {"key": "AB", "name": "n", "fda_pathway": PHI}, None),
        ("/api/v1/products", {"key": "AB", "name": "n", "handles_phi": PHI}, None),
        ("/api/v1/interviews", {**interview, "conducted_on": PHI}, ["body", "conducted_on"]),
        ("/api/v1/interviews", {**interview, "participant_persona": PHI}, None),
        ("/api/v1/interviews", {**interview, "product_id": PHI}, ["body", "product_id"]),
        ("/api/v1/interviews", {**interview, "consent_status": PHI}, None),
        ("/api/v1/interviews", {**interview, PHI: 1}, ["body", "<key>"]),
        ("/api/v1/products", {"key": "AB", "name": "n", "performance_metrics": {PHI: "x"}}, None),
    ]
    with caplog.at_level(logging.DEBUG):
        for url, loc in bad_queries:
            r = await client.get(url, headers=w.pm)
            body = assert_problem(r, 422)
            assert_no_echo(r.text)
            # A key-or-uuid parameter (product_id) names each alternative under its loc.
            assert any(e["loc"][: len(loc)] == loc for e in body["errors"]), (url, body)
        for url, payload, loc in bad_bodies:
            r = await client.post(url, json=payload, headers=w.pm)
            body = assert_problem(r, 422)
            assert_no_echo(r.text)
            if loc:
                assert loc in [e["loc"] for e in body["errors"]], (payload, body)
        # the expected values are named instead
        r = await client.get(f"/api/v1/stories?sort={PHI}", headers=w.pm)
        assert "rank" in r.json()["errors"][0]["msg"]
    assert_no_echo(server_log(caplog))
    async with app.state.sessionmaker() as s:
        rows = (await s.scalars(select(AuditEvent).where(AuditEvent.occurred_at >= since))).all()
    assert rows
    for ev in rows:
        assert_no_echo(str({c.key: getattr(ev, c.key) for c in AuditEvent.__table__.columns}))


async def test_conflicts_do_not_repeat_keys_or_subjects(client, auth):
    w = await make_world(client, auth)
    r = await client.post("/api/v1/products", json={"key": w.key, "name": "dup"}, headers=w.pm)
    assert w.key not in assert_problem(r, 409)["detail"]
    sub = new_sub("maria-gonzalez")
    url = f"/api/v1/products/{w.pid}/members"
    assert (await client.post(url, json={"subject": sub}, headers=w.pm)).status_code == 201
    r = await client.post(url, json={"subject": sub}, headers=w.pm)
    assert sub not in assert_problem(r, 409)["detail"]
    gone = new_sub("maria-gonzalez")
    r = await client.delete(f"{url}/{gone}", headers=w.pm)
    assert gone not in assert_problem(r, 404)["detail"]
    jira = "MARIA-5550142"
    await w.story(jira_key=jira)
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "t", "jira_key": jira}, headers=w.pm
    )
    assert jira not in assert_problem(r, 409)["detail"]


# --- item 18: the error list is capped -------------------------------------------------
async def test_a_flood_of_unknown_keys_gets_a_short_answer(client, auth):
    w = await make_world(client, auth)
    payload = {"key": unique_key("F"), "name": "n"} | {f"k{i:05d}": i for i in range(50_000)}
    r = await client.post("/api/v1/products", json=payload, headers=w.pm)
    body = assert_problem(r, 422)
    assert len(body["errors"]) == MAX_VALIDATION_ERRORS + 1
    assert body["errors"][-1]["msg"] == f"… and {50_000 - MAX_VALIDATION_ERRORS} more errors"
    assert len(r.content) < 8_000, len(r.content)


# --- item 18: header size ----------------------------------------------------------------
async def test_oversized_headers_are_refused(client, auth, settings):
    h = auth("exec", "ex-hdr")
    pad = {f"x-pad-{i}": "a" * 8_000 for i in range(settings.max_header_bytes // 8_000 + 1)}
    r = await client.get("/api/v1/me", headers={**h, **pad})
    assert_problem(r, 431)
    r = await client.get("/api/v1/me", headers={**h, "x-pad": "a" * 8_000})
    assert r.status_code == 200


# --- item 5: links and hosts --------------------------------------------------------------
async def _two_pages(client, w) -> httpx.Response:
    await w.story()
    await w.story()
    r = await client.get(
        f"/api/v1/stories?product_id={w.pid}&limit=1",
        headers={**w.pm, "host": "evil.example"},
    )
    assert r.status_code == 200 and r.json()["next_cursor"], r.text
    return r


async def test_link_headers_never_carry_the_request_host(client, auth, settings):
    w = await make_world(client, auth)
    link = (await _two_pages(client, w)).headers["link"]
    assert "evil.example" not in link and link.startswith("</api/v1/stories?"), link
    app, c = await _client(settings, public_base_url="https://rounds.example.org/")
    try:
        link = (await _two_pages(c, w)).headers["link"]
        assert link.startswith("<https://rounds.example.org/api/v1/stories?"), link
        assert "evil.example" not in link
    finally:
        await c.aclose()
        await app.state.engine.dispose()


async def test_allowed_hosts_refuse_other_hosts(settings, auth):
    app, c = await _client(settings, allowed_hosts="rounds.example.org, *.rounds.internal")
    h = auth("exec", "ex-hosts")
    try:
        r = await c.get("/api/v1/me", headers={**h, "host": "evil.example"})
        assert "Host" in assert_problem(r, 400)["detail"]
        r = await c.post(
            "/graphql", json={"query": "{ me { sub } }"}, headers={**h, "host": "evil.example"}
        )
        assert_problem(r, 400)
        for host in ("rounds.example.org", "api.rounds.internal"):
            assert (await c.get("/api/v1/me", headers={**h, "host": host})).status_code == 200
    finally:
        await c.aclose()
        await app.state.engine.dispose()


# --- item 6: the OpenAPI document ----------------------------------------------------------
@pytest.fixture(scope="module")
def production(settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    return {
        "environment": "production",
        "auth_signing_key": pem,
        "phi_keys": "k1:" + base64.b64encode(os.urandom(32)).decode(),
    }


async def test_openapi_document_is_off_in_production_unless_asked_for(client, settings, production):
    assert (await client.get("/openapi.json")).status_code == 200  # test/development: on
    for update, status in ((production, 404), ({**production, "openapi_public": True}, 200)):
        app, c = await _client(settings, **update)
        try:
            assert (await c.get("/openapi.json")).status_code == status
            assert (await c.get("/docs")).status_code == 404
        finally:
            await c.aclose()
            await app.state.engine.dispose()
    app, c = await _client(settings, openapi_public=False)
    try:
        assert (await c.get("/openapi.json")).status_code == 404
        assert (await c.get("/docs")).status_code == 404
    finally:
        await c.aclose()
        await app.state.engine.dispose()

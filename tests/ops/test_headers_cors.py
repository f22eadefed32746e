"""Security headers on every response, no-store on PHI, CSPs that keep the explorers
working, and CORS from CORS_ORIGINS (SPEC §11)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

import pytest

from tests.api.factories import make_world
from tests.phi.samples import phi_interview

pytestmark = pytest.mark.asyncio

ORIGIN = "https://app.example.org"


def assert_security_headers(r) -> None:
    assert r.headers["x-content-type-options"] == "nosniff", r.url
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in r.headers
    assert "strict-transport-security" not in r.headers  # only in production


async def test_every_response_carries_security_headers(client, auth):
    pm = auth("product_manager")
    responses = [
        await client.get("/api/v1/products", headers=pm),
        await client.get("/api/v1/products"),  # 401
        await client.get("/api/v1/nothing-here", headers=pm),  # 404 unmatched
        await client.put("/api/v1/stories", headers=pm),  # 405
        await client.get("/health/live"),
        await client.get("/.well-known/jwks.json"),
        await client.post("/graphql", json={"query": "{ me { sub } }"}, headers=pm),
        await client.get("/metrics"),
    ]
    for r in responses:
        assert_security_headers(r)
    assert responses[0].headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


async def test_phi_bearing_responses_are_no_store(client, auth):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    iid = interview["id"]
    insight = await client.post(
        "/api/v1/insights",
        json={"interview_id": iid, "title": "Late alerts", "quote": "It fires late."},
        headers=w.pm,
    )
    assert insight.status_code == 201
    co = auth("compliance_officer", "co-nostore")
    phi = [
        await client.get(f"/api/v1/interviews/{iid}", headers=w.pm),
        await client.get(f"/api/v1/interviews?product_id={w.pid}", headers=w.pm),
        await client.get(f"/api/v1/insights/{insight.json()['id']}", headers=w.pm),
        await client.get("/api/v1/audit-events/export?format=fhir", headers=co),
        await client.post(
            "/graphql",
            json={"query": f'{{ interview(id: "{iid}") {{ participantName transcript }} }}'},
            headers=w.pm,
        ),
    ]
    for r in phi:
        assert r.status_code == 200, r.text
        assert r.headers.get("cache-control") == "no-store", r.url
    plain = [
        await client.get(f"/api/v1/products/{w.pid}", headers=w.pm),
        await client.post("/graphql", json={"query": "{ me { sub } }"}, headers=w.pm),
    ]
    for r in plain:
        assert r.status_code == 200
        assert "no-store" not in r.headers.get("cache-control", ""), r.url


def _inline_script_hashes(html: bytes) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'"
        for m in re.findall(rb"<script>(.*?)</script>", html, re.S)
    }


@pytest.mark.parametrize("path", ["/docs", "/graphql"])
async def test_explorer_pages_get_a_csp_that_allows_their_own_scripts(client, path):
    r = await client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_security_headers(r)
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    hashes = _inline_script_hashes(r.content)
    assert hashes, "the page has an inline bootstrap script"
    for h in hashes:
        assert h in directives["script-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    if path == "/docs":  # Swagger UI still comes from jsDelivr
        assert "https://cdn.jsdelivr.net" in directives["script-src"]
    assert int(r.headers["content-length"]) == len(r.content)


async def test_production_adds_hsts(app_with, tmp_path):
    from joserfc.jwk import RSAKey

    from app.db.migrate import upgrade

    pem = RSAKey.generate_key(2048).as_pem(private=True).decode()
    url = f"sqlite+aiosqlite:///{tmp_path}/prod.db"
    await asyncio.to_thread(upgrade, "head", url)
    async with app_with(
        environment="production",
        auth_signing_key=pem,
        phi_keys="k1:" + base64.b64encode(b"k" * 32).decode(),
        database_url=url,
        metrics_token="scrape-me",
    ) as (_, c):
        r = await c.get("/health/live")
    assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_preflight_and_exposed_headers(app_with, auth):
    async with app_with(cors_origins=f"{ORIGIN}, https://other.example.org") as (_, c):
        pre = await c.options(
            "/api/v1/stories/SEPSIS-1",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == ORIGIN
        assert "PATCH" in pre.headers["access-control-allow-methods"]
        allowed = pre.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "if-match", "idempotency-key"} <= {
            h.strip() for h in allowed.split(",")
        }
        evil = await c.options(
            "/api/v1/stories",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in evil.headers
        r = await c.get("/api/v1/products", headers={**auth("engineer"), "Origin": ORIGIN})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "link", "x-request-id"} <= exposed


async def test_no_cors_without_origins(client):
    pre = await client.options(
        "/api/v1/stories",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in pre.headers

"""Health, JWKS, unknown routes and methods: every error is problem+json."""

from __future__ import annotations

import base64
import json

from tests.api.factories import assert_problem


async def test_health_live_and_ready(client):
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}


async def test_jwks_publishes_the_public_signing_key(client, token):
    r = await client.get("/.well-known/jwks.json")
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert keys and all(k["kty"] == "RSA" and "n" in k and "e" in k for k in keys)
    assert all("d" not in k and "p" not in k and "q" not in k for k in keys), "no private parts"
    header = json.loads(
        base64.urlsafe_b64decode(token("jwks-check", "engineer").split(".")[0] + "==")
    )
    assert header["kid"] in {k.get("kid") for k in keys}


async def test_unknown_route_is_404_problem(client, auth):
    for path in ("/api/v1/nope", "/api/v2/stories", "/nothing-here"):
        r = await client.get(path, headers=auth("engineer"))
        assert_problem(r, 404)


async def test_wrong_method_is_405_problem_with_allow(client, auth):
    for method, path in (
        ("PUT", "/api/v1/stories"),
        ("DELETE", "/api/v1/products"),
        ("PUT", "/api/v1/roadmap-items/01900000-0000-7000-8000-000000000000"),
        ("POST", "/health/live"),
    ):
        r = await client.request(method, path, headers=auth("product_manager"))
        assert_problem(r, 405)
        assert r.headers.get("allow"), path


async def test_405_allow_names_every_method_served_at_the_path(client, auth):
    one = "/api/v1/products/01900000-0000-7000-8000-000000000000"
    for method, path, allowed in (
        ("PUT", one, {"GET", "PATCH", "DELETE"}),
        ("PUT", "/api/v1/stories", {"GET", "POST"}),
        ("POST", "/health/live", {"GET"}),
    ):
        r = await client.request(method, path, headers=auth("product_manager"))
        assert_problem(r, 405)
        assert set(r.headers["allow"].split(", ")) == allowed, (path, r.headers["allow"])


async def test_invalid_uuid_in_path_is_422(client, auth):
    pm = auth("product_manager")
    for method, path in (
        ("GET", "/api/v1/products/not-a-uuid"),
        ("PATCH", "/api/v1/products/12-3"),  # "123" is a well-formed product key
        ("GET", "/api/v1/roadmap-items/xyz"),
        ("DELETE", "/api/v1/roadmap-items/1-2-3"),
        ("POST", "/api/v1/roadmap-items/zz/approve"),
        ("GET", "/api/v1/interviews/01900000-0000-7000-8000"),
        ("POST", "/api/v1/interviews/x/purge"),
        ("GET", "/api/v1/insights/abc"),
        ("DELETE", "/api/v1/products/abc/members/sub"),
    ):
        r = await client.request(method, path, json={} if method == "PATCH" else None, headers=pm)
        body = assert_problem(r, 422)
        assert any(e["loc"][0] == "path" for e in body["errors"]), body


async def test_root_points_to_the_docs(client):
    r = await client.get("/")
    assert r.status_code == 200
    body = r.json()
    assert body["graphql"] == "/graphql" and body["openapi"] == "/openapi.json"
    assert body["docs"] == "/docs" and body["health"] == "/health/ready"


async def test_docs_page_loads_swagger_ui_from_rounds(client):
    from app.api.docs import SWAGGER_UI

    r = await client.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/openapi.json" in r.text
    if SWAGGER_UI.built():
        assert "/static/swagger-ui/swagger-ui-bundle.js" in r.text and "cdn" not in r.text
        js = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
        assert js.status_code == 200 and len(js.content) > 100_000


async def test_405_allow_is_right_at_every_documented_path(client, auth, app):
    """At every path of the OpenAPI document, an unserved method is a 405 whose Allow lists
    exactly the methods of the documented operations matching that URL."""
    import re

    paths = app.openapi()["paths"]
    patterns = {p: re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in paths}
    headers = auth("product_manager")
    for template in paths:
        url = re.sub(r"\{[^}]+\}", "01900000-0000-7000-8000-000000000000", template)
        served = {m.upper() for p, ops in paths.items() if patterns[p].match(url) for m in ops}
        method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in served)
        r = await client.request(method, url, headers=headers)
        assert r.status_code == 405, (method, url, r.status_code)
        assert set(r.headers["allow"].split(", ")) == served, (url, r.headers["allow"])

"""GraphQL transport, errors, limits, explorer, audit and nested-edge visibility."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import base64
import os

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import GraphQLError
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.tokens import mint_token
from app.graphql.errors import format_error
from app.main import create_app
from tests.conftest import unique_key
from tests.graphql.helpers import codes, gql

CREATE = "mutation C($i: ProductCreateInput!) { createProduct(input: $i) { id key } }"


async def _product(client, auth, sub="gq-pm"):
    st, body = await gql(
        client, CREATE, {"i": {"key": unique_key("GQ"), "name": "P"}}, auth("product_manager", sub)
    )
    assert st == 200, body
    return body["data"]["createProduct"]


async def test_missing_or_bad_token_is_401_unauthenticated(client, token):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eA=="}):
        r = await client.post("/graphql", json={"query": "{ me { sub } }"}, headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        body = r.json()
        assert body["data"] is None and codes(body) == ["UNAUTHENTICATED"]


async def test_me_and_camel_case(client, auth):
    st, body = await gql(
        client, "{ me { sub role productIds scopes } }", headers=auth("exec", "gq-ex")
    )
    assert st == 200 and body["data"]["me"]["sub"] == "gq-ex"
    assert body["data"]["me"]["role"] == "exec"


async def test_explorer_page_loads_without_token(client):
    r = await client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "GraphiQL" in r.text and "Authorization" in r.text


@pytest.fixture(scope="module")
async def get_enabled(settings):
    """An app with GRAPHQL_GET_QUERIES on (the default only in development)."""
    app = create_app(settings.model_copy(update={"graphql_get_queries": True}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.engine.dispose()


async def test_queries_via_get_but_never_mutations(get_enabled, auth):
    client = get_enabled
    pm = auth("product_manager", "gq-pm")
    r = await client.get("/graphql", params={"query": "{ me { sub } }"}, headers=pm)
    assert r.status_code == 200 and r.json()["data"]["me"]["sub"] == "gq-pm"
    key = unique_key("GET")
    mutation = f'mutation {{ createProduct(input: {{key: "{key}", name: "x"}}) {{ id }} }}'
    r = await client.get("/graphql", params={"query": mutation}, headers=pm)
    assert r.status_code in (400, 405)
    rest = await client.get("/api/v1/products?limit=200", headers=pm)
    assert key not in {p["key"] for p in rest.json()["data"]}


async def test_page_size_is_capped(client, auth):
    for first in (201, 0):
        st, body = await gql(
            client,
            f"{{ products(first: {first}) {{ totalCount }} }}",
            headers=auth("exec", "gq-ex"),
        )
        assert st == 200 and codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["errors"][0]["loc"] == ["first"]


async def test_depth_alias_and_token_limits(client, auth, settings):
    h = auth("exec", "gq-ex")
    deep = "{ products { nodes { roadmapItems { nodes { product { roadmapItems { nodes { product { roadmapItems { nodes { product { key } } } } } } } } } } } }"
    st, body = await gql(client, deep, headers=h)
    assert st == 200 and "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert codes(body) == ["BAD_USER_INPUT"]
    aliases = (
        "{ "
        + " ".join(f"a{i}: me {{ sub }}" for i in range(settings.graphql_max_aliases + 1))
        + " }"
    )
    st, body = await gql(client, aliases, headers=h)
    assert st == 200 and body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    tokens = "{ me { " + " ".join(["sub"] * settings.graphql_max_tokens) + " } }"
    st, body = await gql(client, tokens, headers=h)
    assert st == 200 and body["data"] is None and codes(body) == ["BAD_USER_INPUT"]


async def test_validation_errors_never_echo_input(client, auth):
    secret = "Maria Gonzalez 555-201-3344"
    st, body = await gql(
        client,
        "mutation I($i: InterviewCreateInput!) { createInterview(input: $i) { id } }",
        {
            "i": {
                "productId": secret,
                "title": secret,
                "conductedOn": "2024-01-01",
                "participantPersona": "NURSE",
                "transcript": 5,
            }
        },
        auth("product_manager", "gq-pm"),
    )
    assert st == 200 and codes(body)[0] == "BAD_USER_INPUT"
    assert "Maria" not in str(body) and "555" not in str(body)
    # pydantic-level errors (after GraphQL coercion) name the field, not the value
    p = await _product(client, auth)
    st, body = await gql(
        client,
        "mutation I($i: InterviewCreateInput!) { createInterview(input: $i) { id } }",
        {
            "i": {
                "productId": p["id"],
                "title": secret,
                "conductedOn": "2024-01-01",
                "participantPersona": "NURSE",
                "participantName": "x" * 300,
            }
        },
        auth("product_manager", "gq-pm"),
    )
    assert st == 200 and codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["errors"][0]["loc"] == ["input", "participantName"]
    assert "Maria" not in str(body)


def test_unexpected_errors_are_masked():
    err = GraphQLError("boom", original_error=RuntimeError("row value: Maria Gonzalez"))
    out = format_error(err, hide_suggestions=False).formatted
    assert out["message"] == "Unexpected error."
    assert out["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "Maria" not in str(out)


async def test_a_failed_mutation_rolls_back_the_whole_operation(client, auth):
    pm = auth("product_manager", "gq-pm")
    existing = await _product(client, auth)
    fresh = unique_key("RB")
    q = """mutation Two($a: ProductCreateInput!, $b: ProductCreateInput!) {
      a: createProduct(input: $a) { id } b: createProduct(input: $b) { id } }"""
    st, body = await gql(
        client,
        q,
        {"a": {"key": fresh, "name": "ok"}, "b": {"key": existing["key"], "name": "dup"}},
        pm,
    )
    # GraphQL-over-HTTP: 200 with errors for application/json; nothing of it persists.
    assert st == 200 and body["data"] is None and codes(body) == ["CONFLICT"]
    rest = await client.get("/api/v1/products?limit=200&sort=-created_at", headers=pm)
    assert fresh not in {p["key"] for p in rest.json()["data"]}


async def test_audit_records_the_operation_and_nested_ids(client, auth, app):
    pm = auth("product_manager", "gq-pm")
    p = await _product(client, auth)
    _, body = await gql(
        client,
        "mutation R($i: RoadmapItemCreateInput!) { createRoadmapItem(input: $i) { id } }",
        {"i": {"productId": p["id"], "title": "x"}},
        pm,
    )
    item = body["data"]["createRoadmapItem"]["id"]
    rid = "gql-audit-" + unique_key()
    r = await client.post(
        "/graphql",
        json={
            "query": f'query Plan {{ product(id: "{p["id"]}") {{ roadmapItems {{ nodes {{ id }} }} }} }}',
            "operationName": "Plan",
        },
        headers={**pm, "X-Request-ID": rid},
    )
    assert r.status_code == 200
    denied = "gql-audit-" + unique_key()
    await client.post(
        "/graphql",
        json={"query": "{ interviews { totalCount } }"},
        headers={**auth("exec", "gq-ex"), "X-Request-ID": denied},
    )
    async with app.state.sessionmaker() as s:
        ev = await s.scalar(select(AuditEvent).where(AuditEvent.client_request_id == rid))
        assert ev.graphql_operation == "query Plan" and ev.path == "/graphql"
        assert p["id"] in ev.resource_ids and item in ev.resource_ids
        ev = await s.scalar(select(AuditEvent).where(AuditEvent.client_request_id == denied))
        assert ev.outcome == "denied" and ev.action == "access_denied"


async def test_nested_edges_show_only_what_the_caller_may_see(client, auth):
    pm = auth("product_manager", "gq-pm")
    p = await _product(client, auth)
    _, body = await gql(
        client,
        "mutation R($i: RoadmapItemCreateInput!) { createRoadmapItem(input: $i) { id } }",
        {"i": {"productId": p["id"], "title": "x"}},
        pm,
    )
    item = body["data"]["createRoadmapItem"]["id"]
    _, body = await gql(
        client,
        "mutation I($i: InterviewCreateInput!) { createInterview(input: $i) { id } }",
        {
            "i": {
                "productId": p["id"],
                "title": "t",
                "conductedOn": "2024-01-02",
                "participantPersona": "NURSE",
                "transcript": "Call 555-201-3344",
            }
        },
        pm,
    )
    iv = body["data"]["createInterview"]["id"]
    _, body = await gql(
        client,
        "mutation N($i: InsightCreateInput!) { createInsight(input: $i) { id } }",
        {"i": {"interviewId": iv, "title": "n", "roadmapItemIds": [item]}},
        pm,
    )
    assert "errors" not in body, body
    q = f'query {{ roadmapItem(id: "{item}") {{ evidenceCount insights {{ totalCount nodes {{ title interview {{ id }} }} }} }} }}'
    _, body = await gql(client, q, headers=pm)
    ri = body["data"]["roadmapItem"]
    assert ri["evidenceCount"] == 1 and ri["insights"]["nodes"][0]["interview"]["id"] == iv
    # a non-member engineer sees no insights of the product; an exec sees the insight but
    # not the interview (execs never read interviews)
    _, body = await gql(client, q, headers=auth("engineer", "gq-outsider"))
    assert body["data"]["roadmapItem"]["insights"] == {"totalCount": 0, "nodes": []}
    _, body = await gql(client, q, headers=auth("exec", "gq-ex"))
    assert body["data"]["roadmapItem"]["insights"]["nodes"] == [{"title": "n", "interview": None}]


@pytest.fixture(scope="module")
async def prod(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # model_copy: production behaviour on this leg's database (the start-up check refuses
    # SQLite in production; tests/test_settings.py covers that check).
    prod_settings = settings.model_copy(
        update={
            "environment": "production",
            "auth_signing_key": pem,
            "phi_keys": "k1:" + base64.b64encode(os.urandom(32)).decode(),
            "metrics_token": "scrape",  # production requires it (SPEC §11)
        }
    )
    app = create_app(prod_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c, prod_settings
    await app.state.engine.dispose()


async def test_production_hides_explorer_introspection_and_suggestions(prod):
    client, s = prod
    assert (await client.get("/graphql", headers={"Accept": "text/html"})).status_code in (404, 405)
    h = {"Authorization": "Bearer " + mint_token(s, sub="gq-prod", role="exec")}
    st, body = await gql(client, "{ __schema { types { name } } }", headers=h)
    assert body.get("data") is None and "introspection" in str(body["errors"]).lower()
    st, body = await gql(client, "{ me { subb } }", headers=h)
    assert "Did you mean" not in str(body)
    st, body = await gql(client, "{ products(first: 1) { nodes { lifecycleStage } } }", headers=h)
    assert st == 200 and "errors" not in body


async def test_development_keeps_suggestions(client, auth):
    _, body = await gql(client, "{ me { subb } }", headers=auth("exec", "gq-ex"))
    assert "Did you mean" in str(body)


async def test_a_product_key_works_wherever_rest_takes_one(client, auth):
    """product(id:), the productId filters and the product mutations take a key like REST's
    /products/SEPSIS and ?product_id=SEPSIS (one resolution in app.products.service)."""
    from tests.api.factories import make_world

    w = await make_world(client, auth)
    story = await w.story()
    status, body = await gql(
        client,
        "query($k: ID!) { product(id: $k) { id key } stories(productId: $k) { nodes { id } }"
        ' search(query: "x", productId: $k) { nodes { id } } }',
        {"k": w.key},
        w.pm,
    )
    assert status == 200 and not body.get("errors"), body
    assert body["data"]["product"] == {"id": w.pid, "key": w.key}
    assert body["data"]["stories"]["nodes"] == [{"id": story["id"]}]
    status, body = await gql(
        client,
        'mutation($k: ID!) { updateProduct(id: $k, input: {name: "By key"}) { id name } }',
        {"k": w.key},
        w.pm,
    )
    assert body["data"]["updateProduct"] == {"id": w.pid, "name": "By key"}, body
    # A key nobody has: NOT_FOUND for the product, nothing for a filter; neither id nor key: 422.
    _, body = await gql(client, '{ product(id: "NOSUCHKEY") { id } }', None, w.pm)
    assert codes(body) == ["NOT_FOUND"]
    _, body = await gql(client, '{ stories(productId: "NOSUCHKEY") { nodes { id } } }', None, w.pm)
    assert body["data"]["stories"]["nodes"] == []
    _, body = await gql(client, '{ product(id: "sepsis") { id } }', None, w.pm)
    assert codes(body) == ["BAD_USER_INPUT"]


def test_the_explorers_default_query_is_valid_against_the_schema():
    """GraphiQL opens with DEFAULT_QUERY (the e2e test runs it in Chromium); it must keep
    up with the schema, e.g. the sort enums."""
    from graphql import parse, validate

    from app.graphql.explorer import DEFAULT_QUERY
    from app.graphql.schema import build_schema

    schema = build_schema()._schema
    assert validate(schema, parse(DEFAULT_QUERY)) == []

"""GraphQL over HTTP (issue #13): application/json gets 200 with `errors`, while
application/graphql-response+json gets the REST status of a failed operation; a failed
mutation commits nothing either way and is audited as the failure it was. Every error,
validation and syntax included, carries one of SPEC §8's codes."""

from __future__ import annotations

import pytest

from tests.conftest import unique_key
from tests.graphql.helpers import codes, gql

TWO = """mutation Two($a: ProductCreateInput!, $b: ProductCreateInput!) {
  a: createProduct(input: $a) { id } b: createProduct(input: $b) { id } }"""
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def _events(client, auth, sub: str) -> list[dict]:
    r = await client.get(
        "/api/v1/audit-events",
        params={"actor_sub": sub, "limit": 5},
        headers=auth("compliance_officer", "gh-co"),
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.mark.parametrize(
    ("accept", "status", "media"),
    [
        (None, 200, "application/json"),
        ("application/json", 200, "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", 409, GRAPHQL_RESPONSE),
    ],
)
async def test_failed_mutation_status_and_rollback(client, auth, accept, status, media):
    sub = f"gh-pm-{unique_key()}"
    pm = auth("product_manager", sub)
    taken = unique_key("GH")
    r = await client.post("/api/v1/products", json={"key": taken, "name": "x"}, headers=pm)
    assert r.status_code == 201
    fresh = unique_key("GH")
    headers = {**pm, **({"Accept": accept} if accept else {})}
    r = await client.post(
        "/graphql",
        json={
            "query": TWO,
            "variables": {"a": {"key": fresh, "name": "ok"}, "b": {"key": taken, "name": "dup"}},
        },
        headers=headers,
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(media)
    body = r.json()
    assert body["data"] is None and codes(body) == ["CONFLICT"]
    # The first field's product was rolled back with the rest.
    listed = await client.get("/api/v1/products", params={"limit": 200}, headers=pm)
    assert fresh not in {p["key"] for p in listed.json()["data"]}
    # Audited as the conflict it was, whatever the HTTP status said.
    latest = next(e for e in await _events(client, auth, sub) if e["path"] == "/graphql")
    assert latest["status_code"] == 409
    assert latest["outcome"] == "error" and latest["changed_fields"] == []


async def test_denied_query_is_200_for_json_and_audited_as_denied(client, auth):
    sub = f"gh-eng-{unique_key()}"
    st, body = await gql(
        client, "{ auditEvents(first: 1) { totalCount } }", headers=auth("engineer", sub)
    )
    assert st == 200 and codes(body) == ["FORBIDDEN"]
    latest = (await _events(client, auth, sub))[0]
    assert latest["status_code"] == 403 and latest["outcome"] == "denied"


@pytest.mark.parametrize(
    "query",
    [
        "{ me { nope } }",  # unknown field (was GRAPHQL_VALIDATION_FAILED)
        "{ me { ",  # syntax error (had no code)
        "query($x: Int) { me { sub } }",  # unused variable
        '{ products(first: "ten") { totalCount } }',  # a literal of the wrong type
    ],
)
async def test_every_request_error_is_bad_user_input(client, auth, query):
    st, body = await gql(client, query, headers=auth("exec", "gh-ex"))
    assert st == 200, body
    assert body["errors"] and codes(body) == ["BAD_USER_INPUT"] * len(body["errors"])
    r = await client.post(
        "/graphql",
        json={"query": query},
        headers={**auth("exec", "gh-ex"), "Accept": GRAPHQL_RESPONSE},
    )
    assert r.status_code == 400 and r.headers["content-type"] == GRAPHQL_RESPONSE

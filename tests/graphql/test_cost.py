"""The query cost limit (issue 19 item 8): page sizes multiplied along the path, summed over
aliases and root fields (mutations included), checked before anything executes."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import httpx
import pytest
from graphql import parse

from app.graphql.limits import MUTATION_COST, estimate_cost
from app.graphql.schema import build_schema
from app.main import create_app
from bench.graphql_bench import ROUNDS_QUERY
from tests.api.factories import make_world
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql_strict as gql

ISSUE_QUERY = "{ stories(first: 200) { nodes { product { stories(first: 200) { nodes { product { stories(first: 200) { nodes { id title description } } } } } } } } }"


@pytest.fixture(scope="module")
def schema():
    return build_schema().graphql_schema


def cost(schema, query: str, variables=None, operation_name=None) -> int:
    return estimate_cost(schema, parse(query), operation_name, variables)


def test_the_estimate_multiplies_page_sizes_along_the_path(schema):
    # 1 connection + 200 nodes + 200 products + 200 connections + 200·200 nodes
    two = "{ stories(first: 200) { nodes { product { stories(first: 200) { nodes { id } } } } } }"
    assert cost(schema, two) == 40_601
    assert cost(schema, ISSUE_QUERY) > 8_000_000
    # default page size (50) when `first` is absent; scalars are free
    assert cost(schema, "{ stories { nodes { id title } } }") == 51
    assert cost(schema, "{ me { sub } }") == 1
    # aliases and root fields are summed; fragments count where they are spread
    assert (
        cost(
            schema,
            "{ a: stories(first: 10) { nodes { id } } b: stories(first: 10) { nodes { id } } }",
        )
        == 22
    )
    frag = "query { ...F } fragment F on Query { products(first: 2) { nodes { stories(first: 4) { edges { node { id } } } } } }"
    assert cost(schema, frag) == 1 + 2 + 2 + 8 + 8
    # a page size from a variable counts as its value; unknown: the largest page (200)
    q = "query Q($n: Int!) { stories(first: $n) { nodes { product { id } } } }"
    assert cost(schema, q, {"n": 5}) == 11
    assert cost(schema, q, {}) == 401
    # each mutation root field (aliases too) costs MUTATION_COST on top
    m = 'mutation { a: archiveStory(id: "x") { id } b: archiveStory(id: "y") { id } }'
    assert cost(schema, m) == 2 * (1 + MUTATION_COST)
    # the operation the request names
    two_ops = "query A { me { sub } } query B { stories { nodes { id } } }"
    assert cost(schema, two_ops, operation_name="B") == 51


def test_the_benchmark_document_fits_the_default_limit(schema, settings):
    assert cost(schema, ROUNDS_QUERY, {"id": "x"}) <= settings.graphql_max_cost


async def test_the_issue_query_is_refused_before_it_runs(client, auth, app, settings):
    h = auth("engineer", "gq-cost-eng")
    st, body = await gql(client, ISSUE_QUERY, headers=h)
    assert st == 400 and body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    message = body["errors"][0]["message"]
    assert "estimated cost" in message and str(settings.graphql_max_cost) in message
    # 30 aliases (the alias limit) of a page of 200 stories with their products: refused too
    aliases = " ".join(
        f"a{i}: stories(first: 200) {{ nodes {{ product {{ id }} }} }}" for i in range(30)
    )
    st, body = await gql(client, "{ " + aliases + " }", headers=h)
    assert st == 400 and codes(body) == ["BAD_USER_INPUT"], body
    # a page size passed as a variable counts as what it is
    q = "query Q($n: Int!) { stories(first: $n) { nodes { product { stories(first: $n) { nodes { id } } } } } }"
    st, body = await gql(client, q, {"n": 200}, headers=h)
    assert st == 400 and codes(body) == ["BAD_USER_INPUT"]
    st, body = await gql(client, q, {"n": 5}, headers=h)
    assert st == 200 and "errors" not in body, body


@pytest.fixture(scope="module")
async def small_cap(settings):
    """An app whose cap is 250: two mutations fit, three do not."""
    app = create_app(settings.model_copy(update={"graphql_max_cost": 250}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.engine.dispose()


async def test_aliased_mutations_count_and_a_refused_one_changes_nothing(small_cap, client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    upd = 'x{n}: updateStory(id: "{id}", input: {{title: "t{n}"}}) {{ id title }}'
    three = "mutation { " + " ".join(upd.format(n=n, id=story["id"]) for n in range(3)) + " }"
    st, body = await gql(small_cap, three, headers=w.pm)
    assert st == 400 and codes(body) == ["BAD_USER_INPUT"] and "estimated cost" in str(body)
    after = (await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)).json()
    assert after["title"] == story["title"] and after["version"] == story["version"]
    two = "mutation { " + " ".join(upd.format(n=n, id=story["id"]) for n in range(2)) + " }"
    st, body = await gql(small_cap, two, headers=w.pm)
    assert st == 200 and body["data"]["x1"]["title"] == "t1", body
    # the default page size counts when `first` is absent: 5 pages of 50 > 250
    five = "{ " + " ".join(f"p{i}: stories {{ nodes {{ id }} }}" for i in range(5)) + " }"
    st, body = await gql(small_cap, five, headers=w.pm)
    assert st == 400 and codes(body) == ["BAD_USER_INPUT"]

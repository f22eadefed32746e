"""GraphQL search: the same hits, order and permission scope as REST."""

from __future__ import annotations

from tests.api.factories import make_world
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql as _gql
from tests.search.test_rest import word


async def gql(client, query, variables, headers):
    status, body = await _gql(client, query, variables, headers=headers)
    assert status == 200 and "errors" not in body, body
    return body["data"]


Q = """query($q: String!, $types: [SearchType!], $first: Int!, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    nodes { type id title snippet productId score }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_graphql_search_equals_rest_and_pages(client, auth):
    w = await make_world(client, auth)
    term = word()
    for n in range(3):
        await w.story(title=f"Graph {term} {n}", description=f"{term} " * n)
    await w.roadmap_item(title=f"Item {term}")
    rest = (await client.get("/api/v1/search", params={"q": term}, headers=w.pm)).json()
    data = await gql(client, Q, {"q": term, "first": 50}, headers=w.pm)
    nodes = data["search"]["nodes"]
    assert [(n["type"].lower(), n["id"], n["score"]) for n in nodes] == [
        (h["type"], h["id"], h["score"]) for h in rest["data"]
    ]
    seen, after = [], None
    while True:
        page = (await gql(client, Q, {"q": term, "first": 3, "after": after}, headers=w.pm))[
            "search"
        ]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [h["id"] for h in rest["data"]]
    only = await gql(client, Q, {"q": term, "first": 50, "types": ["ROADMAP_ITEM"]}, headers=w.pm)
    assert [n["type"] for n in only["search"]["nodes"]] == ["ROADMAP_ITEM"]


async def test_graphql_search_bad_input(client, auth):
    w = await make_world(client, auth)
    _, body = await _gql(client, Q, {"q": "!!", "first": 500}, headers=w.pm)
    assert codes(body) == ["BAD_USER_INPUT"]
    _, body = await _gql(client, Q, {"q": "!!", "first": 5}, headers=w.pm)  # no words: no hits
    assert not body.get("errors") and body["data"]["search"]["nodes"] == [], body

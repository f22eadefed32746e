"""Statements per GraphQL query are bounded by its depth, not by the rows it returns."""

from __future__ import annotations

from contextlib import contextmanager

from tests.conftest import unique_key
from tests.explain import sent_statements
from tests.graphql.helpers import gql

ROADMAP_PAGE = """
query RoadmapPage($id: ID!) {
  product(id: $id) {
    key
    roadmapItems(first: 50, sort: RICE_SCORE_DESC) {
      totalCount
      edges { cursor node {
        title riceScore evidenceCount
        product { key }
        stories(first: 10) { totalCount nodes { key status roadmapItem { title } product { key } } }
        insights(first: 10) { totalCount nodes { title quote interview { title redacted } } }
      } }
      pageInfo { hasNextPage endCursor }
    }
    stories(first: 100) { totalCount nodes { key } }
  }
}
"""


@contextmanager
def count_statements(app):
    """The text of every statement sent while inside (tests/explain.py: sent_statements)."""
    seen: list[str] = []
    with sent_statements(app, lambda statement, params: seen.append(statement)):
        yield seen


async def _roadmap(client, auth, n: int) -> str:
    pm = auth("product_manager", "n1-pm")

    async def m(query: str, i: dict) -> dict:
        status, body = await gql(client, query, {"i": i}, pm)
        assert status == 200, body
        return next(iter(body["data"].values()))

    p = await m(
        "mutation($i: ProductCreateInput!) { createProduct(input: $i) { id } }",
        {"key": unique_key("NP"), "name": "N+1"},
    )
    iv = await m(
        "mutation($i: InterviewCreateInput!) { createInterview(input: $i) { id } }",
        {
            "productId": p["id"],
            "title": "t",
            "conductedOn": "2024-01-02",
            "participantPersona": "NURSE",
        },
    )
    for k in range(n):
        item = await m(
            "mutation($i: RoadmapItemCreateInput!) { createRoadmapItem(input: $i) { id } }",
            {
                "productId": p["id"],
                "title": f"item {k}",
                "reach": k,
                "impact": 1.0,
                "confidence": 0.5,
                "effort": 1.0,
            },
        )
        story_ids = []
        for j in range(2):
            s = await m(
                "mutation($i: StoryCreateInput!) { createStory(input: $i) { id } }",
                {"productId": p["id"], "roadmapItemId": item["id"], "title": f"s{j}"},
            )
            story_ids.append(s["id"])
        await m(
            "mutation($i: InsightCreateInput!) { createInsight(input: $i) { id } }",
            {
                "interviewId": iv["id"],
                "title": f"n{k}",
                "quote": "too many alerts",
                "roadmapItemIds": [item["id"]],
                "storyIds": story_ids,
            },
        )
    return p["id"]


async def _statements(app, client, auth, product_id: str) -> tuple[int, dict]:
    with count_statements(app) as seen:
        status, body = await gql(
            client, ROADMAP_PAGE, {"id": product_id}, auth("product_manager", "n1-pm")
        )
    assert status == 200 and "errors" not in body, body
    return len(seen), body["data"]["product"]


async def test_statement_count_does_not_grow_with_rows(app, client, auth):
    small, big = await _roadmap(client, auth, 2), await _roadmap(client, auth, 20)
    n_small, data_small = await _statements(app, client, auth, small)
    n_big, data_big = await _statements(app, client, auth, big)
    assert data_small["roadmapItems"]["totalCount"] == 2
    assert data_big["roadmapItems"]["totalCount"] == 20
    first = data_big["roadmapItems"]["edges"][0]["node"]
    assert first["stories"]["totalCount"] == 2 and first["insights"]["totalCount"] == 1
    assert first["insights"]["nodes"][0]["interview"]["redacted"] is False
    assert n_small == n_big, (n_small, n_big)
    assert n_big <= 20, n_big  # and few in absolute terms


async def test_statement_count_is_the_same_for_one_item_and_many(app, client, auth):
    one, many = await _roadmap(client, auth, 1), await _roadmap(client, auth, 7)
    n_one, _ = await _statements(app, client, auth, one)
    n_many, data = await _statements(app, client, auth, many)
    assert data["roadmapItems"]["totalCount"] == 7
    assert n_one == n_many, (n_one, n_many)

"""Nested pages select only the columns their selection needs (app/graphql/columns.py): the
SQL leaves out what the document does not ask for, the answers equal those read from whole
rows, and rows of only some columns never answer a lookup by id."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

from typing import Any

import pytest

from app.stories.schemas import StoryOut
from tests.conftest import IS_PG, unique_key
from tests.graphql.helpers import gql
from tests.graphql.test_n_plus_one import count_statements
from tests.graphql.test_parity import selection

PM = ("product_manager", "cols-pm")
STORY_FIELDS = selection(StoryOut)


async def _m(client, auth, query: str, i: dict[str, Any]) -> dict[str, Any]:
    status, body = await gql(client, query, {"i": i}, auth(*PM))
    assert status == 200 and "errors" not in body, body
    return next(iter(body["data"].values()))


@pytest.fixture(scope="module")
async def world(client, auth) -> dict[str, Any]:
    p = await _m(
        client,
        auth,
        "mutation($i: ProductCreateInput!) { createProduct(input: $i) { id } }",
        {"key": unique_key("COL"), "name": "Columns"},
    )
    item = await _m(
        client,
        auth,
        "mutation($i: RoadmapItemCreateInput!) { createRoadmapItem(input: $i) { id } }",
        {
            "productId": p["id"],
            "title": "Alert fatigue",
            "description": "Only the whole row knows this description.",
            "theme": "alerting",
            "targetQuarter": "2026-Q3",
        },
    )
    stories = []
    for n in range(3):
        s = await _m(
            client,
            auth,
            "mutation($i: StoryCreateInput!) { createStory(input: $i) { id key } }",
            {
                "productId": p["id"],
                "roadmapItemId": item["id"],
                "title": f"Story {n}",
                "labels": ["sepsis", f"l{n}"],
                "storyPoints": n + 1,
                "acceptanceCriteria": [
                    {"given": "a nurse", "when": f"she opens {n}", "then": "the trend shows"}
                ],
            },
        )
        stories.append(s)
    return {"product": p["id"], "item": item["id"], "stories": stories}


@pytest.mark.parametrize(
    ("doc", "statements"),
    [
        # Rendered by PostgreSQL (JsonPage): one statement for both levels there.
        (
            """query($id: ID!) { product(id: $id) { roadmapItems(first: 5) { nodes { title stories(first: 5) { nodes { key title } } } } } }""",
            1 if IS_PG else 2,
        ),
        # pageInfo: rows read into Python on every database, one statement per level.
        (
            """query($id: ID!) { product(id: $id) { roadmapItems(first: 5) { nodes { title stories(first: 5) { pageInfo { hasNextPage } nodes { key title } } } } } }""",
            2,
        ),
    ],
)
async def test_page_selects_only_requested_columns(world, app, client, auth, doc, statements):
    with count_statements(app) as seen:
        status, body = await gql(client, doc, {"id": world["product"]}, auth(*PM))
    assert status == 200 and "errors" not in body, body
    nodes = body["data"]["product"]["roadmapItems"]["nodes"][0]["stories"]["nodes"]
    assert [n["title"] for n in nodes] == ["Story 0", "Story 1", "Story 2"]
    windows = [s for s in seen if "row_number()" in s.lower()]
    assert len(windows) == statements, seen
    for sql in windows:
        for column in ("acceptance_criteria", "labels", "clinical_review", "description"):
            assert column not in sql, (column, sql)
        assert "title" in sql


async def test_nested_rows_answer_like_whole_rows(world, client, auth):
    """Every Story field, through fragments, inline fragments, aliases and edges, equals the
    same field read by id (a whole row)."""
    nested = f"""
query($id: ID!) {{
  product(id: $id) {{
    roadmapItems(first: 5) {{
      edges {{ cursor node {{ ...Item }} }}
    }}
  }}
}}
fragment Item on RoadmapItem {{
  id title
  stories(first: 5) {{ pageInfo {{ endCursor }} nodes {{ ... on Story {{ ...S }} k: key }} }}
  again: stories(first: 5) {{ edges {{ node {{ id criteria: acceptanceCriteria {{ given when }} }} }} }}
}}
fragment S on Story {{ {STORY_FIELDS} }}
"""
    status, body = await gql(client, nested, {"id": world["product"]}, auth(*PM))
    assert status == 200 and "errors" not in body, body
    item = body["data"]["product"]["roadmapItems"]["edges"][0]["node"]
    assert len(item["stories"]["nodes"]) == 3
    for node, again in zip(item["stories"]["nodes"], item["again"]["edges"], strict=True):
        status, one = await gql(
            client,
            f"query($id: ID!) {{ story(id: $id) {{ {STORY_FIELDS} }} }}",
            {"id": node["id"]},
            auth(*PM),
        )
        assert status == 200 and "errors" not in one, one
        whole = one["data"]["story"]
        assert {k: v for k, v in node.items() if k != "k"} == whole
        assert node["k"] == whole["key"]
        assert again["node"]["criteria"] == [
            {"given": c["given"], "when": c["when"]} for c in whole["acceptanceCriteria"]
        ]


async def test_partial_rows_do_not_answer_lookups_by_id(world, client, auth):
    """The page's roadmap item rows hold only `title` (+ keys): a story's roadmapItem must
    still come whole (description, theme, targetQuarter)."""
    doc = """query($id: ID!) { product(id: $id) { roadmapItems(first: 5) { nodes { title stories(first: 1) { nodes { roadmapItem { title description theme targetQuarter evidenceCount } } } } } } }"""
    status, body = await gql(client, doc, {"id": world["product"]}, auth(*PM))
    assert status == 200 and "errors" not in body, body
    item = body["data"]["product"]["roadmapItems"]["nodes"][0]
    assert item["stories"]["nodes"][0]["roadmapItem"] == {
        "title": "Alert fatigue",
        "description": "Only the whole row knows this description.",
        "theme": "alerting",
        "targetQuarter": "2026-Q3",
        "evidenceCount": 0,
    }


async def test_connection_fragments_and_cursors_on_few_columns(world, client, auth):
    """A fragment on the connection, totalCount, and cursors cut from rows of few columns
    (a sort column the selection does not name) page correctly."""
    doc = """query($id: ID!, $after: String) { product(id: $id) { roadmapItems(first: 1) { nodes { stories(first: 2, after: $after, sort: STORY_POINTS_DESC) { ...C } } } } }
fragment C on StoryConnection { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { storyPoints } } }"""
    status, body = await gql(client, doc, {"id": world["product"]}, auth(*PM))
    assert status == 200 and "errors" not in body, body
    page = body["data"]["product"]["roadmapItems"]["nodes"][0]["stories"]
    assert [e["node"]["storyPoints"] for e in page["edges"]] == [3, 2]
    assert page["pageInfo"]["hasNextPage"] is True and page["totalCount"] == 3
    status, body = await gql(
        client, doc, {"id": world["product"], "after": page["pageInfo"]["endCursor"]}, auth(*PM)
    )
    assert status == 200 and "errors" not in body, body
    page = body["data"]["product"]["roadmapItems"]["nodes"][0]["stories"]
    assert [e["node"]["storyPoints"] for e in page["edges"]] == [1]

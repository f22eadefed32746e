"""Nested story pages rendered by PostgreSQL (JsonPage in app/graphql/fastpath.py): when a
document asks a stories connection only for plain node fields, one statement per level
builds each parent's nodes as JSON text. The answers must be the bytes graphql-core gives
(fast path off), with the same audit ids; anything else the document asks for, and every
database but PostgreSQL, takes the resolver path."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import IS_PG, unique_key
from tests.explain import generic_plan, rows_read, sent_statements
from tests.graphql.test_fastpath import _audit, _both, _same, _same_audit
from tests.graphql.test_n_plus_one import count_statements

TRICKY = [
    'Quote " and backslash \\ and slash /',
    "Tab\tnew\nline\rcarriage \x01 \x08 \x0c \x1f controls",
    "Unicode é ü 漢字 emoji 🩺 line sep \u2028 para \u2029 del \x7f",
    "</script><!-- html -->",
    "",
]

ITEM_PAGE = """
query P($id: ID!) {
  product(id: $id) {
    key
    roadmapItems(first: 5) {
      nodes {
        title
        stories(first: 4) {
          __typename
          nodes { id key title status storyPoints sprint persona clinicalReviewRequired jiraKey __typename }
        }
      }
    }
  }
}
"""

# (name, document, variables besides $id, whether the database renders the stories)
CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("item page", ITEM_PAGE, {}, True),
    (
        "aliases and sort",
        "query P($id: ID!) { product(id: $id) { roadmapItems { nodes { s: stories(first: 2, sort: RANK_DESC) { n: nodes { t: title k: key st: status } } } } } }",
        {},
        True,
    ),
    (
        "variables and filters",
        "query P($id: ID!, $first: Int!, $status: StoryStatus, $arch: Boolean!) { product(id: $id) { roadmapItems { nodes { stories(first: $first, status: $status, includeArchived: $arch) { nodes { key status } } } } } }",
        {"first": 3, "status": "BACKLOG", "arch": True},
        True,
    ),
    (
        "archived included",
        "query P($id: ID!) { product(id: $id) { stories(first: 50, includeArchived: true) { nodes { key archivedKey: key } } } }",
        {},
        True,
    ),
    (
        "product stories and fragments",
        'query P($id: ID!) { product(id: $id) { stories(first: 50, sprint: "S1") { nodes { ...F ... on Story { rank } } } } } fragment F on Story { key title storyPoints }',
        {},
        True,
    ),
    (
        "skip and include",
        "query P($id: ID!, $y: Boolean!) { product(id: $id) { stories { nodes { key @include(if: $y) title @skip(if: $y) } } } }",
        {"y": True},
        True,
    ),
    (
        "nested levels and floats",
        "query P($id: ID!) { product(id: $id) { roadmapItems { __typename nodes { __typename id title status horizon riceScore reach impact confidence effort stories(first: 2) { nodes { key storyPoints } __typename } } } } }",
        {},
        True,
    ),
    (
        "nested with variables",
        "query P($id: ID!, $n: Int!, $s: StoryStatus) { product(id: $id) { roadmapItems(first: $n, sort: TITLE_ASC) { nodes { title stories(first: $n, status: $s) { nodes { key } } } } } }",
        {"n": 2, "s": "BACKLOG"},
        True,
    ),
    (
        "nested connection not renderable",
        "query P($id: ID!) { product(id: $id) { roadmapItems { nodes { title stories { pageInfo { hasNextPage } nodes { key } } } } } }",
        {},
        False,
    ),
    (
        "inner rendered, outer not",
        "query P($id: ID!) { product(id: $id) { roadmapItems { nodes { title targetQuarter approvedAt stories { nodes { key } } } } } }",
        {},
        True,
    ),
    (
        "total count",
        "query P($id: ID!) { product(id: $id) { roadmapItems { nodes { stories { totalCount nodes { key } } } } } }",
        {},
        True,
    ),
    (
        "total counts at every level, filtered, limited, aliased",
        "query P($id: ID!) { product(id: $id) { n: roadmapItems(first: 2) { t: totalCount nodes { title stories(first: 1, status: BACKLOG) { __typename c: totalCount nodes { key } totalCount } } } stories(first: 3, includeArchived: true) { totalCount nodes { key } } } }",
        {},
        True,
    ),
    (
        "total count of a page the database renders alone",
        "query P($id: ID!) { product(id: $id) { key approvedAt: createdAt roadmapItems { totalCount nodes { stories(first: 1) { totalCount nodes { key } } } } } }",
        {},
        True,
    ),
    (
        "edges and page info",
        "query P($id: ID!) { product(id: $id) { stories(first: 2) { edges { cursor node { key } } pageInfo { hasNextPage endCursor } } } }",
        {},
        False,
    ),
    (
        "nested object in nodes",
        "query P($id: ID!) { product(id: $id) { stories { nodes { key roadmapItem { title } } } } }",
        {},
        False,
    ),
    (
        "datetime and list fields",
        "query P($id: ID!) { product(id: $id) { stories { nodes { key createdAt labels } } } }",
        {},
        False,
    ),
]


@pytest.fixture(scope="module")
async def page(client, auth) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    pm = auth("product_manager", f"jp-pm-{tag}")

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await client.post("/api/v1" + path, json=body, headers=pm)
        assert r.status_code == 201, r.text
        return r.json()

    product = await post("/products", {"key": unique_key("JP"), "name": "Json pages"})
    pid = product["id"]
    rice = [
        {"reach": 100, "impact": 2, "confidence": 0.5, "effort": 4},  # 25.0: integral float
        {"reach": 7, "impact": 0.25, "confidence": 0.3, "effort": 3},  # 0.175
        {},  # no score: null
    ]
    items = [
        await post("/roadmap-items", {"product_id": pid, "title": f"Item {i}", **r})
        for i, r in enumerate(rice)
    ]
    stories = []
    for i, title in enumerate(TRICKY * 2):
        body: dict[str, Any] = {
            "product_id": pid,
            "roadmap_item_id": items[i % 2]["id"],  # the third item has no stories
            "title": title or "x",
            "story_points": [None, 1, 3, 8][i % 4],
            "sprint": "S1" if i % 3 else None,
            "persona": "ICU nurse" if i % 2 else None,
        }
        stories.append(await post("/stories", body))
    r = await client.delete(f"/api/v1/stories/{stories[0]['id']}", headers=pm)
    assert r.status_code == 200, r.text
    # Titles with control characters and the like went in as sent.
    r = await client.get(f"/api/v1/stories/{stories[1]['id']}", headers=pm)
    assert r.json()["title"] == TRICKY[1]
    return {"product": product, "pm": pm}


@pytest.mark.parametrize(("name", "query", "variables", "rendered"), CASES)
async def test_answers_like_graphql_core(
    page, app, client, standard, name, query, variables, rendered
):
    variables = {"id": page["product"]["id"], **variables}
    fastpath = app.state.graphql_schema.fastpath
    fallbacks = fastpath.fallbacks
    with count_statements(app) as seen:
        a, b, ra, rb = await _both(client, standard, page["pm"], query, variables, None)
    _same(a, b, name)
    body = a.json()
    assert "errors" not in body and body["data"]["product"], body
    json_sql = [s for s in seen if "string_agg" in s]
    assert len(json_sql) == (1 if rendered and IS_PG else 0), (name, seen)
    # The rendered statement answered: a failing one would fall back, with the same bytes.
    assert fastpath.fallbacks == fallbacks, name
    fast, std = await _audit(app, ra), await _audit(app, rb)
    assert sorted(fast["resource_ids"]) == sorted(std["resource_ids"]), name
    assert fast["graphql_operation"] == std["graphql_operation"] == "query P"


async def test_rendered_page_holds_the_tricky_values(page, client):
    r = await client.post(
        "/graphql",
        json={"query": ITEM_PAGE, "variables": {"id": page["product"]["id"]}},
        headers=page["pm"],
    )
    items = r.json()["data"]["product"]["roadmapItems"]["nodes"]
    assert [len(i["stories"]["nodes"]) for i in items] == [4, 4, 0]
    titles = {s["title"] for i in items for s in i["stories"]["nodes"]}
    assert set(TRICKY[1:4]) <= titles
    first = items[0]["stories"]
    assert first["__typename"] == "StoryConnection"
    node = first["nodes"][0]
    assert node["__typename"] == "Story" and node["status"] == "BACKLOG"
    assert {n["storyPoints"] for i in items for n in i["stories"]["nodes"]} == {None, 1, 3, 8}


async def test_a_cursor_takes_the_resolver_path(page, app, client, standard):
    pid = page["product"]["id"]
    q = "query P($id: ID!, $after: String) { product(id: $id) { stories(first: 2, after: $after) { nodes { key } } } }"
    r = await client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { product(id: $id) { stories(first: 2) { pageInfo { endCursor } } } }",
            "variables": {"id": pid},
        },
        headers=page["pm"],
    )
    cursor = r.json()["data"]["product"]["stories"]["pageInfo"]["endCursor"]
    with count_statements(app) as seen:
        a, b, _, _ = await _both(
            client, standard, page["pm"], q, {"id": pid, "after": cursor}, None
        )
    _same(a, b, "after")
    assert not [s for s in seen if "string_agg" in s]
    assert len(a.json()["data"]["product"]["stories"]["nodes"]) == 2


async def test_unauthenticated_and_refused_answer_like_graphql_core(page, client, standard):
    pid = page["product"]["id"]
    a, b, _, _ = await _both(client, standard, {}, ITEM_PAGE, {"id": pid}, None)
    _same(a, b, "no token")
    assert a.status_code == 401


async def test_a_float_the_database_would_write_otherwise_takes_the_rows(
    client, auth, app, standard
):
    """effort 0.00001 is `1e-05` in PostgreSQL's text: the rendered page is refused and the
    rows answer (the same bytes as graphql-core's)."""
    pm = auth("product_manager", f"jp-pm-{uuid.uuid4().hex[:6]}")
    r = await client.post(
        "/api/v1/products", json={"key": unique_key("JF"), "name": "Floats"}, headers=pm
    )
    pid = r.json()["id"]
    for effort in (0.00001, 2):
        r = await client.post(
            "/api/v1/roadmap-items",
            json={
                "product_id": pid,
                "title": f"e{effort}",
                "reach": 1,
                "impact": 1,
                "confidence": 1,
                "effort": effort,
            },
            headers=pm,
        )
        assert r.status_code == 201, r.text
    q = "query P($id: ID!) { product(id: $id) { roadmapItems { nodes { title effort riceScore } } } }"
    with count_statements(app) as seen:
        a, b, ra, rb = await _both(client, standard, pm, q, {"id": pid}, None)
    _same(a, b, "tiny float")
    efforts = [n["effort"] for n in a.json()["data"]["product"]["roadmapItems"]["nodes"]]
    assert efforts == [0.00001, 2.0] and b'"effort":0.00001' in a.content
    if IS_PG:
        # Tried for product(id) with its items, then for the items alone; then the rows.
        assert len([s for s in seen if "string_agg" in s]) == 2
        assert len([s for s in seen if "row_number()" in s and "string_agg" not in s]) == 1
    fast, std = await _audit(app, ra), await _audit(app, rb)
    assert sorted(fast["resource_ids"]) == sorted(std["resource_ids"])


async def test_product_by_id_renders_like_get_product(client, auth, app, standard):
    """product(id) as one rendered object: an archived product still answers (as get()
    does), a missing one is the same NOT_FOUND, and the audit event names the product."""
    pm = auth("product_manager", f"jp-pm-{uuid.uuid4().hex[:6]}")
    r = await client.post(
        "/api/v1/products", json={"key": unique_key("JA"), "name": "Archived"}, headers=pm
    )
    pid = r.json()["id"]
    assert (await client.delete(f"/api/v1/products/{pid}", headers=pm)).status_code == 200
    q = "query P($id: ID!) { product(id: $id) { __typename id key name handlesPhi lifecycleStage roadmapItems { nodes { id } } } }"
    for variables in ({"id": pid}, {"id": str(uuid.uuid4())}):
        with count_statements(app) as seen:
            a, b, ra, rb = await _both(client, standard, pm, q, variables, None)
        _same(a, b, "product")
        fast, std = await _audit(app, ra), await _audit(app, rb)
        assert fast == std
    assert len([s for s in seen if "string_agg" in s]) == (1 if IS_PG else 0)
    # 200 + NOT_FOUND over HTTP (application/json); audited as the 404 it stands for.
    assert a.status_code == 200 and fast["status_code"] == 404 and fast["outcome"] == "denied"


# Root story lists (issue #17): one product's or roadmap item's stories rendered in one
# statement, timestamps included. (name, document, variables besides $id/$item, rendered)
ROOT_CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    (
        "flat list",
        "query P($id: ID!) { stories(first: 50, productId: $id) { nodes { id roadmapItemId title status storyPoints createdAt } } }",
        {},
        True,
    ),
    (
        "archived, timestamps, total count, typename, sort",
        "query P($id: ID!) { s: stories(first: 4, productId: $id, includeArchived: true, sort: CREATED_AT_DESC) { __typename totalCount n: nodes { __typename key createdAt updatedAt archivedAt } } }",
        {},
        True,
    ),
    (
        "filters and variables",
        "query P($id: ID!, $st: StoryStatus, $sp: String) { stories(productId: $id, status: $st, sprint: $sp) { totalCount nodes { key sprint } } }",
        {"st": "BACKLOG", "sp": "S1"},
        True,
    ),
    (
        "one roadmap item",
        "query P($item: ID!) { stories(first: 2, roadmapItemId: $item) { totalCount nodes { key title } } }",
        {},
        True,
    ),
    (
        "product and roadmap item",
        "query P($id: ID!, $item: ID!) { stories(productId: $id, roadmapItemId: $item) { nodes { key } } }",
        {},
        False,
    ),
    (
        "labels",
        'query P($id: ID!) { stories(productId: $id, labels: ["x"]) { nodes { key } } }',
        {},
        False,
    ),
    (
        "no parent",
        "query P { stories(first: 1) { nodes { key } } }",
        {},
        False,
    ),
    (
        "page info",
        "query P($id: ID!) { stories(productId: $id) { pageInfo { hasNextPage } nodes { key } } }",
        {},
        False,
    ),
    (
        "a malformed product id",
        'query P { stories(productId: "nope") { nodes { key } } }',
        {},
        False,
    ),
]


@pytest.mark.parametrize(("name", "query", "variables", "rendered"), ROOT_CASES)
async def test_root_story_lists_answer_like_graphql_core(
    page, app, client, standard, name, query, variables, rendered
):
    r = await client.post(
        "/graphql",
        json={
            "query": "query P($id: ID!) { product(id: $id) { roadmapItems(first: 1) { nodes { id } } } }",
            "variables": {"id": page["product"]["id"]},
        },
        headers=page["pm"],
    )
    item = r.json()["data"]["product"]["roadmapItems"]["nodes"][0]["id"]
    given = {"id": page["product"]["id"], "item": item, **variables}
    used = {k: v for k, v in given.items() if f"${k}" in query}
    fastpath = app.state.graphql_schema.fastpath
    fallbacks = fastpath.fallbacks
    with count_statements(app) as seen:
        a, b, ra, rb = await _both(client, standard, page["pm"], query, used or None, None)
    _same(a, b, name)
    json_sql = [s for s in seen if "string_agg" in s]
    assert len(json_sql) == (1 if rendered and IS_PG else 0), (name, seen)
    if rendered:
        assert fastpath.fallbacks == fallbacks, name
    _same_audit(await _audit(app, ra), await _audit(app, rb), a.json(), name)
    if rendered:
        assert a.json()["data"] and "errors" not in a.json(), a.text


async def test_a_null_id_renders_null(client, auth, standard):
    """A story outside any roadmap item: its roadmapItemId is null in a rendered list, as
    graphql-core writes it (concat() once wrote '""': it skips a null argument)."""
    pm = auth("product_manager", f"jn-pm-{uuid.uuid4().hex[:6]}")
    r = await client.post(
        "/api/v1/products", json={"key": unique_key("JN"), "name": "Null ids"}, headers=pm
    )
    pid = r.json()["id"]
    for title in ("loose", "another"):
        r = await client.post(
            "/api/v1/stories", json={"product_id": pid, "title": title}, headers=pm
        )
        assert r.status_code == 201, r.text
    query = (
        "query P($id: ID!) { stories(first: 5, productId: $id) { nodes { title roadmapItemId } } }"
    )
    a, b, _, _ = await _both(client, standard, pm, query, {"id": pid}, None)
    _same(a, b, "null id")
    assert [n["roadmapItemId"] for n in a.json()["data"]["stories"]["nodes"]] == [None, None]


@pytest.mark.skipif(not IS_PG, reason="the database renders timestamps on PostgreSQL only")
async def test_rendered_timestamps_are_what_isoformat_writes(app):
    """to_char in UTC, the microseconds left out when zero: the bytes of Python's
    `datetime.isoformat()` of the aware value asyncpg returns."""
    from datetime import UTC, datetime

    from sqlalchemy import literal, select

    from app.core.jsonpages import _isoformat
    from app.db.types import UTCDateTime

    values = [
        datetime(2026, 12, 4, 15, 30, tzinfo=UTC),
        datetime(2026, 12, 4, 15, 30, 0, 120000, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        # (datetime.min and datetime.max are asyncpg's -infinity and infinity: isfinite()
        # refuses such pages and the rows answer)
        datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999998, tzinfo=UTC),
    ]
    async with app.state.sessionmaker() as s:
        for v in values:
            shown = await s.scalar(select(_isoformat(literal(v, UTCDateTime()))))
            assert shown == '"' + v.isoformat() + '"', v
        assert await s.scalar(select(_isoformat(literal(None, UTCDateTime())))) == "null"


@pytest.mark.skipif(not IS_PG, reason="the database renders pages on PostgreSQL only")
@pytest.mark.parametrize("sort", ["", ", sort: RANK_DESC"])
async def test_a_rendered_page_reads_its_rows_not_its_parents_whole(
    client, auth, app, settings, sort
):
    """Each parent's rows are read in page order and the read stops after the page (LATERAL
    … LIMIT per parent), so paging a product of many stories does not read or sort them
    all, in either direction. Counted on the statement's own EXPLAIN ANALYZE on its generic
    plan, with sequential scans off so the answer does not depend on the planner's view of a
    tiny table."""
    from tests.api.factories import make_world

    big = await make_world(client, auth)
    for n in range(30):
        await big.story(title=f"Story {n}")
    small = await make_world(client, auth)
    await small.story(title="alone")
    doc = (
        "query P($id: ID!) { stories(first: 2, productId: $id" + sort + ") { nodes { id title } } }"
    )
    captured: list[tuple[str, Any]] = []

    def on(statement: str, params: Any) -> None:
        if "string_agg" in statement:
            captured.append((statement, params))

    with sent_statements(app, on):
        for world in (big, small):
            r = await client.post(
                "/graphql", json={"query": doc, "variables": {"id": world.pid}}, headers=world.pm
            )
            assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert len(captured) == 2, captured
    for (statement, params), most in zip(captured, (3, 1), strict=True):
        plan = await generic_plan(settings, statement, params)
        # first: 2 and the row after it at most; the small product's one story
        assert rows_read(plan, "story") <= most, plan

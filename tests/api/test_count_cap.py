"""totalCount is counted up to COUNT_CAP (app/core/repository.py): exact below it, COUNT_CAP at or
above it, so a page with its count never reads a whole large product."""

from __future__ import annotations

import pytest
from sqlalchemy import event

import app.core.repository as repository
from tests.api.factories import make_world
from tests.graphql.helpers import gql

DOC = "query($p: ID!) { stories(productId: $p, first: 2) { totalCount nodes { id } } }"


@pytest.mark.parametrize(("cap", "expected"), [(10_000, 5), (5, 5), (3, 3)])
async def test_total_count_is_exact_below_the_cap_and_the_cap_above(
    client, auth, monkeypatch, cap, expected
):
    w = await make_world(client, auth)
    for n in range(5):
        await w.story(title=f"Story {n}")
    monkeypatch.setattr(repository, "COUNT_CAP", cap)
    status, body = await gql(client, DOC, {"p": w.pid}, w.pm)
    assert status == 200 and "errors" not in body, body
    assert body["data"]["stories"]["totalCount"] == expected
    assert len(body["data"]["stories"]["nodes"]) == 2


async def test_the_count_statement_is_bounded_and_reads_ids_only(client, auth, app):
    """The COUNT runs over a LIMITed subquery of ids: no correlated evidence_count, no
    scan past the cap."""
    w = await make_world(client, auth)
    await w.story()
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().lower().startswith("select count("):
            seen.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        status, body = await gql(client, DOC, {"p": w.pid}, w.pm)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert status == 200 and body["data"]["stories"]["totalCount"] == 1, body
    (stmt,) = [s for s in seen if "LIMIT" in s.upper() and "story" in s]
    assert "insight_story" not in stmt and "acceptance_criteria" not in stmt


NESTED = """
query($p: ID!) {
  product(id: $p) {
    stories(first: 1) { totalCount nodes { id } }
    roadmapItems { nodes { stories(first: 1) { totalCount nodes { id } } } }
  }
}
"""


@pytest.mark.parametrize(("cap", "expected"), [(10_000, 4), (3, 3)])
async def test_a_nested_total_count_is_capped_like_a_root_one(
    client, auth, monkeypatch, cap, expected
):
    """A connection's totalCount inside an object (rendered by PostgreSQL, or counted per
    parent by the loaders elsewhere) means what a root one means: up to COUNT_CAP."""
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    for n in range(4):
        await w.story(title=f"Story {n}", roadmap_item_id=item["id"])
    monkeypatch.setattr(repository, "COUNT_CAP", cap)
    status, body = await gql(client, NESTED, {"p": w.pid}, w.pm)
    assert status == 200 and "errors" not in body, body
    product = body["data"]["product"]
    assert product["stories"]["totalCount"] == expected
    (node,) = product["roadmapItems"]["nodes"]
    assert node["stories"]["totalCount"] == expected
    assert len(node["stories"]["nodes"]) == 1

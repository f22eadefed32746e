"""The number of SQL statements a list request runs does not grow with the page size
(no N+1: evidence counts, links and redaction inputs are loaded per page, not per row)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.api.factories import World, make_world

ROWS = 52


@contextmanager
def count_statements(app):
    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


@pytest.fixture(scope="module")
async def big_world(client, auth) -> World:
    """One product with more than 50 of each resource, linked as evidence."""
    w = await make_world(client, auth)
    interview = await w.interview()
    items = [await w.roadmap_item(reach=i, impact=1, confidence=1, effort=1) for i in range(ROWS)]
    stories = [await w.story(roadmap_item_id=items[i % 5]["id"]) for i in range(ROWS)]
    for i in range(ROWS - 1):
        await w.insight(
            interview["id"],
            story_ids=[stories[i]["id"], stories[i + 1]["id"]],
            roadmap_item_ids=[items[i]["id"]],
        )
    for _ in range(ROWS - 1):
        await w.interview()
    return w


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stories?product_id={pid}",
        "/api/v1/stories?product_id={pid}&sort=-story_points",
        "/api/v1/roadmap-items?product_id={pid}&sort=-rice_score",
        "/api/v1/insights?product_id={pid}",
        "/api/v1/interviews?product_id={pid}",
    ],
)
async def test_list_statement_count_does_not_grow_with_page_size(app, client, big_world, path):
    w = big_world
    url = path.format(pid=w.pid)
    counts = {}
    for limit in (5, 50):
        # Warm up once so one-time work (first connection, caches) is not counted.
        await client.get(f"{url}&limit={limit}", headers=w.pm)
        with count_statements(app) as statements:
            r = await client.get(f"{url}&limit={limit}", headers=w.pm)
        assert r.status_code == 200, r.text
        assert len(r.json()["data"]) == limit
        counts[limit] = len(statements)
    print(f"{path}: {counts}")
    assert counts[50] <= counts[5], counts
    assert counts[5] <= 12, counts


async def test_single_get_statement_count_is_small(app, client, big_world):
    w = big_world
    story = (await client.get(f"/api/v1/stories?product_id={w.pid}&limit=1", headers=w.pm)).json()
    sid = story["data"][0]["id"]
    with count_statements(app) as statements:
        r = await client.get(f"/api/v1/stories/{sid}", headers=w.pm)
    assert r.status_code == 200 and r.json()["evidence_count"] >= 1
    assert len(statements) <= 8, statements

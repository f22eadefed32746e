"""The REST story list's statement is one whose generic plan is right: PostgreSQL caches a
prepared statement's generic plan only when it looks no worse than planning each execution
for its values, and planning costs more than running the page (issue #17). With a parent key
compared as `=`, the generic plan walked the (rank, id) index and filtered out every other
product's stories; compared as a range leading the ORDER BY (Repository._key_range), it reads
the (key, rank, id) index from the page's first row and stops after it. Checked on the
statement the app sends, with the generic plan forced, by its EXPLAIN ANALYZE."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.factories import make_world
from tests.conftest import IS_PG
from tests.explain import generic_plan, rows_read, sent_statements

pytestmark = pytest.mark.skipif(not IS_PG, reason="PostgreSQL's plan cache")

FIELDS = "&fields=id,roadmap_item_id,title,status,story_points,created_at"


async def _story_statement(app, client, path: str, headers: dict[str, str]) -> tuple[str, Any]:
    """The SELECT … FROM story that GET `path` sent (to asyncpg directly, app/db/prepared.py,
    or through SQLAlchemy), with its parameters; and the response."""
    seen: list[tuple[str, Any]] = []
    with sent_statements(app, lambda statement, params: seen.append((statement, params))):
        r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    story = [(s, p) for s, p in seen if "FROM story \n" in s and "ORDER BY" in s]
    assert len(story) == 1, seen
    return story[0][0], (r, story[0][1])


async def test_a_story_page_reads_its_rows_on_thegeneric_plan(app, client, auth, settings):
    """A page of a product (or a roadmap item) of 30 stories and one of a product of one story
    beside it read limit + 1 rows at most from `story` on the generic plan: the first page, a
    sparse one, and a page after a cursor; the answers are those of the rows."""
    big = await make_world(client, auth)
    big_item = await big.roadmap_item(title="Big")
    for n in range(30):
        await big.story(title=f"Story {n}", roadmap_item_id=big_item["id"])
    small = await make_world(client, auth)
    small_item = await small.roadmap_item(title="Small")
    alone = await small.story(title="alone", roadmap_item_id=small_item["id"])

    pages = [
        (big, f"product_id={big.pid}", 3),
        (small, f"product_id={small.pid}", 1),
        (small, f"product_id={small.pid}{FIELDS}", 1),
        (big, f"roadmap_item_id={big_item['id']}", 3),
        (small, f"roadmap_item_id={small_item['id']}", 1),
        (small, f"product_id={small.pid}&roadmap_item_id={small_item['id']}", 1),
        (big, f"product_id={big.pid}&sort=-rank", 3),
    ]
    for world, query, most in pages:
        path = f"/api/v1/stories?{query}&limit=2"
        statement, (r, params) = await _story_statement(app, client, path, world.pm)
        if world is small:
            assert [s["id"] for s in r.json()["data"]] == [alone["id"]], query
        plan = await generic_plan(settings, statement, params)
        assert rows_read(plan, "story") <= most, (query, plan)

    # a later page of the big product: after the cursor of its 10th story
    r = await client.get(f"/api/v1/stories?product_id={big.pid}&limit=10", headers=big.pm)
    after = r.json()["next_cursor"]
    path = f"/api/v1/stories?product_id={big.pid}&limit=2&cursor={after}"
    statement, (r, params) = await _story_statement(app, client, path, big.pm)
    assert [s["title"] for s in r.json()["data"]] == ["Story 10", "Story 11"]
    plan = await generic_plan(settings, statement, params)
    # (a row comparison after the cursor: the read starts there, apply_keyset)
    assert rows_read(plan, "story") <= 3, plan

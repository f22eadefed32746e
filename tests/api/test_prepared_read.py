"""The list pages read through app.db.prepared (a cached Core SELECT run by asyncpg) hold the
same rows, values and value types as SQLAlchemy's execution of the same statement, take the
SQLAlchemy path in a transaction, and report a driver failure through SQLAlchemy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.core.repository import ListQuery
from app.db.prepared import PreparedRead
from app.roadmap.repository import RoadmapItemRepository
from app.stories.repository import StoryRepository
from tests.api.factories import make_world
from tests.conftest import IS_PG

pytestmark = pytest.mark.skipif(not IS_PG, reason="the asyncpg driver's path")


def _plain(rows: list[Any]) -> list[tuple[tuple[str, Any, type], ...]]:
    return [tuple((k, getattr(r, k), type(getattr(r, k))) for k in r._fields) for r in rows]


async def _both(app, repo_cls, columns, **filters):
    """(rows through SQLAlchemy, rows through PreparedRead) of the same first page."""
    out = []
    for prepared in (False, True):
        cache = repo_cls.__dict__.get("_page_stmt_cache")
        if cache is not None:
            cache.clear()
        async with app.state.read_sessionmaker() as session:
            repo = repo_cls(session)
            if not prepared:  # the SQLAlchemy statement this shape would have used
                original = PreparedRead.usable
                PreparedRead.usable = staticmethod(lambda *a, **k: False)  # type: ignore[method-assign]
                try:
                    page = await repo.page_filtered(
                        ListQuery(limit=3), as_rows=True, columns=columns, **filters
                    )
                finally:
                    PreparedRead.usable = original  # type: ignore[method-assign]
            else:
                page = await repo.page_filtered(
                    ListQuery(limit=3), as_rows=True, columns=columns, **filters
                )
                built = list(repo_cls.__dict__["_page_stmt_cache"].values())
                assert any(isinstance(b, PreparedRead) for b in built)
        out.append((_plain(page.items), page.next_cursor))
    return out


@pytest.mark.parametrize("columns", [None, ("id", "title", "status", "created_at", "labels")])
async def test_story_rows_are_sqlalchemys(app, client, auth, columns) -> None:
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    for n in range(4):
        await w.story(
            title=f"Story {n}",
            story_points=n or None,
            labels=["a", "b"][:n],
            roadmap_item_id=item["id"] if n % 2 else None,
            acceptance_criteria=[{"given": "g", "when": "w", "then": "t"}],
        )
    via_sqlalchemy, via_driver = await _both(
        app, StoryRepository, columns, product_id=uuid.UUID(w.pid)
    )
    assert via_driver == via_sqlalchemy
    assert len(via_driver[0]) == 3 and via_driver[1] is not None


async def test_roadmap_rows_are_sqlalchemys(app, client, auth) -> None:
    w = await make_world(client, auth)
    for n in range(4):
        await w.roadmap_item(title=f"Item {n}", reach=n + 1, impact=1, confidence=1, effort=1)
    via_sqlalchemy, via_driver = await _both(
        app, RoadmapItemRepository, None, product_id=uuid.UUID(w.pid)
    )
    assert via_driver == via_sqlalchemy


async def test_in_a_transaction_sqlalchemy_runs_it(app, client, auth) -> None:
    w = await make_world(client, auth)
    await w.story()
    async with app.state.sessionmaker() as session:  # transactional (a write request's)
        page = await StoryRepository(session).page_filtered(
            ListQuery(limit=3), as_rows=True, product_id=uuid.UUID(w.pid)
        )
        assert session.in_transaction()
        assert type(page.items[0]).__module__.startswith("sqlalchemy")


async def test_a_driver_failure_is_sqlalchemys(app, client, auth) -> None:
    """A failure is SQLAlchemy's error, as before; a statement the driver could not run but
    SQLAlchemy can still answers."""
    from sqlalchemy.exc import DBAPIError

    w = await make_world(client, auth)
    await w.story()
    pid = uuid.UUID(w.pid)
    async with app.state.read_sessionmaker() as session:
        repo = StoryRepository(session)
        first = await repo.page_filtered(ListQuery(limit=3), as_rows=True, product_id=pid)
        with pytest.raises(DBAPIError):  # asyncpg refuses the value; SQLAlchemy wraps it
            await repo.page_filtered(ListQuery(limit=3), as_rows=True, product_id="nope")
        cache = StoryRepository.__dict__["_page_stmt_cache"]
        for built in cache.values():
            if isinstance(built, PreparedRead):
                built.sql = "SELECT broken"
        try:
            again = await repo.page_filtered(ListQuery(limit=3), as_rows=True, product_id=pid)
        finally:
            cache.clear()
        assert [r.id for r in again.items] == [r.id for r in first.items]


async def test_concurrent_statements_on_one_session_wait_for_each_other(app, client, auth):
    """GraphQL resolvers share the request's session concurrently: a prepared read and
    statements through SQLAlchemy on the same connection take turns (SQLAlchemy's adapter
    lock, which must exist for the prepared path to be taken)."""
    import asyncio

    from sqlalchemy import text

    w = await make_world(client, auth)
    await w.story()
    pid = uuid.UUID(w.pid)
    async with app.state.read_sessionmaker() as session:
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection._execute_mutex, asyncio.Lock)
        repo = StoryRepository(session)

        async def page() -> list[Any]:
            p = await repo.page_filtered(ListQuery(limit=3), as_rows=True, product_id=pid)
            return [r.id for r in p.items]

        async def other() -> Any:
            return (await session.execute(text("SELECT pg_sleep(0.01), 1"))).all()

        results = await asyncio.gather(page(), other(), page(), other(), page())
        assert results[0] == results[2] == results[4] and len(results[0]) == 1
        built = StoryRepository.__dict__["_page_stmt_cache"].values()
        assert any(isinstance(b, PreparedRead) for b in built)

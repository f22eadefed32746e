"""The gates migration carries recorded approvals and reviews over into their history tables
(both dialects), and downgrades cleanly."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import downgrade, upgrade
from tests.test_migrations import fresh_url  # noqa: F401  (fixture: a database of its own)

BEFORE = "bd4c17df450a"
WHEN = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _filler(col: sa.Column) -> Any:
    t = col.type
    if isinstance(t, sa.Uuid) or col.name == "id" or col.name.endswith("_id"):
        return uuid.uuid4()
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.Integer):
        return 1
    if isinstance(t, sa.DateTime):
        return WHEN
    if isinstance(t, sa.JSON):
        return []
    if isinstance(t, sa.Float):
        return 1.0
    return "X1"


def _run(url: str, fn) -> Any:
    async def go() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _insert(conn, table: str, **values: Any) -> None:
    t = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = {c.name: _filler(c) for c in t.columns if not c.nullable and c.name not in values}
    row.update(values)
    if conn.dialect.name == "sqlite":  # reflected as CHAR(32): ids as the Uuid type stores them
        row = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in row.items()}
    conn.execute(t.insert().values(**row))


def test_existing_approvals_and_reviews_become_history(fresh_url):  # noqa: F811
    upgrade(BEFORE, fresh_url)
    pid, approved, plain, sid, pending_sid = (uuid.uuid4() for _ in range(5))
    review = {
        "status": "approved",
        "reviewer_sub": "dr-who",
        "reviewed_at": WHEN.isoformat(),
        "comment": "fine",
    }

    def seed(conn) -> None:
        _insert(conn, "product", id=pid, key="MIG1")
        _insert(
            conn,
            "roadmap_item",
            id=approved,
            product_id=pid,
            version=4,
            approved_by="exec-1",
            approved_at=WHEN,
        )
        _insert(conn, "roadmap_item", id=plain, product_id=pid)
        _insert(
            conn,
            "story",
            id=sid,
            product_id=pid,
            roadmap_item_id=approved,  # a reference the downgrade must live with
            key="MIG1-1",
            version=3,
            clinical_review=review,
        )
        pending = {**review, "status": "pending", "reviewer_sub": None, "reviewed_at": None}
        _insert(
            conn, "story", id=pending_sid, product_id=pid, key="MIG1-2", clinical_review=pending
        )

    _run(fresh_url, seed)
    upgrade("head", fresh_url)

    def read(conn) -> dict[str, Any]:
        q = lambda sql: [dict(r._mapping) for r in conn.execute(sa.text(sql))]  # noqa: E731
        return {
            "items": q("SELECT id, approval_status FROM roadmap_item"),
            "approvals": q("SELECT * FROM roadmap_item_approval"),
            "reviews": q("SELECT * FROM story_review"),
        }

    got = _run(fresh_url, read)
    status = {uuid.UUID(str(i["id"])): i["approval_status"] for i in got["items"]}
    assert status == {approved: "current", plain: "none"}
    [a] = got["approvals"]
    assert uuid.UUID(str(a["roadmap_item_id"])) == approved
    assert (a["version"], a["approver_sub"], a["stale_at"]) == (4, "exec-1", None)
    [r] = got["reviews"]
    assert uuid.UUID(str(r["story_id"])) == sid
    assert (r["version"], r["status"], r["reviewer_sub"], r["comment"], r["ended_at"]) == (
        3,
        "approved",
        "dr-who",
        "fine",
        None,
    )

    downgrade(BEFORE, fresh_url)
    tables = _run(fresh_url, lambda conn: sa.inspect(conn).get_table_names())
    assert "roadmap_item_approval" not in tables and "story_review" not in tables
    upgrade("head", fresh_url)

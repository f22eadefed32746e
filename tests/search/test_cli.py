"""`python -m app search reindex` rebuilds the indexes from the rows (both databases)."""

from __future__ import annotations

import os
import subprocess
import sys

from app.db.migrate import upgrade
from tests.conftest import IS_PG
from tests.test_migrations import fresh_url  # noqa: F401  (fixture: a database of its own)
from tests.test_seed import _rows


def _run(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path), "ENVIRONMENT": "test"}
    done = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_reindex_rebuilds_a_lost_index(fresh_url, tmp_path):  # noqa: F811
    upgrade("head", fresh_url)
    _run(fresh_url, tmp_path, "seed")
    counts = _rows(
        fresh_url,
        "SELECT (SELECT count(*) FROM story) + (SELECT count(*) FROM roadmap_item) + "
        "(SELECT count(*) FROM insight) + (SELECT count(*) FROM interview) AS n",
    )[0]["n"]
    assert counts > 0
    # the demo has owners, assignees and a discussion (issue #16)
    assert _rows(fresh_url, "SELECT count(*) AS n FROM comment")[0]["n"] >= 12
    assert _rows(fresh_url, "SELECT count(*) AS n FROM story WHERE assignee_sub IS NOT NULL")[0][
        "n"
    ]
    assert not _rows(fresh_url, "SELECT id FROM roadmap_item WHERE owner_sub IS NULL")
    table = "search_document" if IS_PG else "search_fts"
    before = _rows(fresh_url, f"SELECT count(*) AS n FROM {table}")[0]["n"]  # noqa: S608
    assert before == counts  # the triggers indexed every seeded row
    # lose the index (say, restored from a dump without it), then rebuild
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def wipe() -> None:
        engine = create_async_engine(fresh_url)
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        await engine.dispose()

    asyncio.run(wipe())
    assert _rows(fresh_url, f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0  # noqa: S608
    done = _run(fresh_url, tmp_path, "search", "reindex")
    assert f"indexed {counts} documents" in done.stderr
    assert "search reindex" in done.stderr  # the progress bar
    assert _rows(fresh_url, f"SELECT count(*) AS n FROM {table}")[0]["n"] == counts  # noqa: S608

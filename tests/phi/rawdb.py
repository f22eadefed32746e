"""Plain SQL access to the test database, bypassing the ORM and the PHI column type, so tests
see exactly what is stored at rest."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings


def is_sqlite(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite")


def sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


def id_param(settings: Settings, value: str | uuid.UUID) -> Any:
    """An id as the dialect stores it (SQLite: 32 hex chars; PostgreSQL: uuid)."""
    u = uuid.UUID(str(value))
    return u.hex if is_sqlite(settings) else u


async def fetch(settings: Settings, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a plain SQL query (no PHI decryption), as dicts."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]
    finally:
        await engine.dispose()


async def execute(settings: Settings, sql: str, **params: Any) -> int:
    """Run one plain SQL write and commit it; returns the row count."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return result.rowcount
    finally:
        await engine.dispose()


async def row(settings: Settings, table: str, id_: str) -> dict[str, Any]:
    rows = await fetch(
        settings,
        f"SELECT * FROM {table} WHERE id = :id",  # noqa: S608 - table names come from tests
        id=id_param(settings, id_),
    )
    assert len(rows) == 1, rows
    return rows[0]


def _read_in_child(path: Path) -> bytes:
    # Not open()/close() here: closing any descriptor of the database file drops every POSIX
    # lock this process holds on it, and the app's pooled SQLite connections rely on those.
    code = "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code, str(path)], capture_output=True, check=True, timeout=60
    )
    return done.stdout


async def sqlite_file_bytes(settings: Settings) -> bytes:
    """The database file (plus any WAL) after checkpointing the WAL into it."""
    await fetch(settings, "PRAGMA wal_checkpoint(TRUNCATE)")
    path = sqlite_path(settings)
    data = _read_in_child(path)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += _read_in_child(wal)
    return data


async def table_names(settings: Settings) -> list[str]:
    if is_sqlite(settings):
        rows = await fetch(
            settings,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
    else:
        rows = await fetch(
            settings,
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
    return sorted(r["name"] for r in rows)


async def all_text(settings: Settings) -> dict[str, str]:
    """Every table's full content rendered as one text per table (for needle searches)."""
    out = {}
    for name in await table_names(settings):
        rows = await fetch(settings, f'SELECT * FROM "{name}"')  # noqa: S608 - catalog names
        out[name] = "\n".join(" | ".join(str(v) for v in r.values()) for r in rows)
    return out

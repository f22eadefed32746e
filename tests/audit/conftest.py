"""Audit-trail fixtures: an isolated database per module for tests that tamper with the chain
or need exact event counts, and plain-SQL access that bypasses the ORM (what an attacker with
database access sees and does)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db.migrate import upgrade
from app.main import create_app
from tests.conftest import IS_PG, TEST_URL, _pg_admin


class RawDb:
    """Plain SQL on a database URL: no ORM, no app triggers bypassed unless asked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = url.startswith("postgresql")

    def id(self, value: str | uuid.UUID) -> Any:
        """An id as the dialect stores it (SQLite: 32 hex chars; PostgreSQL: uuid)."""
        u = uuid.UUID(str(value))
        return u if self.pg else u.hex

    async def fetch(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return [dict(r._mapping) for r in await conn.execute(text(sql), params)]
        finally:
            await engine.dispose()

    async def scalar(self, sql: str, **params: Any) -> Any:
        rows = await self.fetch(sql, **params)
        return next(iter(rows[0].values())) if rows else None

    async def run(self, *statements: str | tuple[str, dict[str, Any]]) -> None:
        """Run statements in ONE transaction (DDL included: both dialects make it atomic)."""
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                if not self.pg:
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                for st in statements:
                    sql, params = st if isinstance(st, tuple) else (st, {})
                    await conn.execute(text(sql), params)
                await conn.commit()
        finally:
            await engine.dispose()

    async def tamper(self, table: str, *statements: str | tuple[str, dict[str, Any]]) -> None:
        """Run writes on an append-only table the way an attacker with owner rights would:
        switch its UPDATE/DELETE triggers off, write, switch them back on (one transaction),
        with foreign keys not enforced (PostgreSQL: replication role; SQLite: off)."""
        names = [f"{table}_no_update", f"{table}_no_delete"]
        if self.pg:
            off = [f"ALTER TABLE {table} DISABLE TRIGGER {n}" for n in names]
            on = [f"ALTER TABLE {table} ENABLE TRIGGER {n}" for n in names]
            await self.run("SET LOCAL session_replication_role = replica", *off, *statements, *on)
        else:
            saved = await self.fetch(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN (:a, :b)",
                a=names[0],
                b=names[1],
            )
            assert len(saved) == 2
            drops = [f"DROP TRIGGER {n}" for n in names]
            await self.run(*drops, *statements, *[r["sql"] for r in saved])


def _new_database(tmp_path_factory) -> Iterator[str]:
    if IS_PG:
        name = f"rounds_test_audit_{uuid.uuid4().hex[:10]}"
        url = make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_admin(TEST_URL, f'CREATE DATABASE "{name}"'))
        try:
            upgrade("head", url)
            yield url
        finally:
            asyncio.run(_pg_admin(TEST_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('auditdb') / 'rounds.db'}"
        upgrade("head", url)
        yield url


@pytest.fixture(scope="module")
def iso_url(tmp_path_factory) -> Iterator[str]:
    """A database of this module's own (same leg), fully migrated."""
    yield from _new_database(tmp_path_factory)


@pytest.fixture(scope="module")
def iso_settings(settings: Settings, iso_url: str) -> Settings:
    return settings.model_copy(update={"database_url": iso_url})


@pytest.fixture(scope="module")
async def iso_app(iso_settings: Settings):
    application = create_app(iso_settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="module")
async def iso_client(iso_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=iso_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="module")
def iso_raw(iso_url: str) -> RawDb:
    return RawDb(iso_url)


@pytest.fixture(scope="session")
def raw(database_url: str) -> RawDb:
    """Plain SQL on the shared test database."""
    return RawDb(database_url)

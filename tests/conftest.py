"""Test harness: a real database built by `alembic upgrade head` per leg, real JWTs, real
HTTP through the ASGI app. The leg is chosen by TEST_DATABASE_URL (SQLite by default);
`make test` runs the suite once per leg."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.auth.tokens import mint_token
from app.config import Settings
from app.db.migrate import upgrade
from app.main import create_app

TEST_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = TEST_URL.startswith("postgresql")


def pytest_report_header(config) -> str:
    return f"database leg: {'postgresql' if IS_PG else 'sqlite'}"


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        database="postgres",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A fresh, fully migrated database for this test session."""
    if IS_PG:
        name = f"rounds_test_{uuid.uuid4().hex[:12]}"
        url = make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_admin(TEST_URL, f'CREATE DATABASE "{name}"'))
        upgrade("head", url)
        yield url
        asyncio.run(_pg_admin(TEST_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "rounds.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade("head", url)
        yield url


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(database_url: str, var_dir: Path) -> Settings:
    return Settings(environment="test", database_url=database_url, var_dir=var_dir)


@pytest.fixture(scope="session")
async def app(settings: Settings):
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def token(settings: Settings) -> Callable[..., str]:
    def make(sub: str, role: str, **kw) -> str:
        return mint_token(settings, sub=sub, role=role, **kw)

    return make


@pytest.fixture(scope="session")
def auth(token) -> Callable[..., dict[str, str]]:
    """Headers for a person: auth("product_manager") or auth("engineer", sub="eve")."""

    def make(role: str, sub: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(sub or role, role)}"}

    return make


def unique_key(prefix: str = "T") -> str:
    """A product key unique within the test session (tests share one database)."""
    return (prefix + uuid.uuid4().hex[:9]).upper()[:10]

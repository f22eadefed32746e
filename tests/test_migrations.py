"""The one Alembic history on a fresh database: upgrade head -> downgrade base -> upgrade head,
and the migrated schema matches the models (autogenerate finds nothing to do)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import alembic_config, downgrade, upgrade
from app.db.models import Base
from tests.conftest import IS_PG, TEST_URL, _pg_admin


@pytest.fixture
def fresh_url(tmp_path):
    """A database of its own, separate from the session's shared one."""
    if IS_PG:
        name = f"rounds_mig_{uuid.uuid4().hex[:12]}"
        url = make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_admin(TEST_URL, f'CREATE DATABASE "{name}"'))
        yield url
        asyncio.run(_pg_admin(TEST_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"


def _include(obj, name, type_, reflected, compare_to) -> bool:
    """Skip database-only expression indexes (raw SQL in a migration, e.g. PostgreSQL's GIN
    index on audit_event.resource_ids): they cannot be declared portably on the models and
    autogenerate cannot compare them. Everything else is compared, types included."""
    if type_ == "index" and reflected and compare_to is None:
        return all(isinstance(e, Column) for e in obj.expressions)
    if type_ == "table" and reflected and compare_to is None and name.startswith("search_"):
        return False  # the search index tables (app/search/index.py): SQL-only, per dialect
    return True


def _inspect(url: str, fn) -> Any:
    async def run() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _diff(url: str) -> list[Any]:
    def compare(conn) -> list[Any]:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        return compare_metadata(ctx, Base.metadata)

    return _inspect(url, compare)


def _tables(url: str) -> set[str]:
    return _inspect(url, lambda conn: set(inspect(conn).get_table_names()))


def _revision(url: str) -> str | None:
    return _inspect(url, lambda conn: MigrationContext.configure(conn).get_current_revision())


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_downgrade_upgrade_and_models_match(fresh_url):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    model_tables = set(Base.metadata.tables)

    upgrade("head", fresh_url)
    assert _revision(fresh_url) == head
    assert model_tables <= _tables(fresh_url)

    downgrade("base", fresh_url)
    assert _revision(fresh_url) is None
    assert _tables(fresh_url) - {"alembic_version"} == set(), "downgrade base leaves tables"

    upgrade("head", fresh_url)
    assert _revision(fresh_url) == head
    diff = _diff(fresh_url)
    assert diff == [], "models and migrations disagree:\n" + "\n".join(map(repr, diff))

"""`python -m app search reindex`: rebuild the full-text indexes, with a progress bar."""

# ruff: noqa: S608  (SQL is assembled from this package's constants; values are bound)

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import text
from tqdm import tqdm

from app.config import get_settings
from app.search.index import DOCUMENTS, FTS_TABLE, PG_TABLE, TYPES, pg_fill, sqlite_fill

CHUNK = 2000


async def reindex(*, progress: bool = True) -> int:
    """Rebuild every search index from the rows; returns the number of documents indexed.
    The index table (FTS5 on SQLite, search_document on PostgreSQL) is refilled in one
    transaction: searches see the old index until it commits."""
    from app.db.session import create_engine

    engine = create_engine(get_settings())
    try:
        async with engine.begin() as conn:
            counts = {
                t: (
                    await conn.execute(text(f"SELECT count(*) FROM {DOCUMENTS[t][0]}"))
                ).scalar_one()
                for t in TYPES
            }
            total = sum(counts.values())
            with tqdm(total=total, desc="search reindex", unit="doc", disable=not progress) as bar:
                if conn.dialect.name == "postgresql":
                    await conn.execute(text(f"DELETE FROM {PG_TABLE}"))
                    for t in TYPES:
                        await conn.execute(text(pg_fill(t)))
                        bar.update(counts[t])
                    return total
                await conn.execute(text(f"DELETE FROM {FTS_TABLE}"))
                for t in TYPES:
                    table = DOCUMENTS[t][0]
                    ids = (
                        (await conn.execute(text(f"SELECT id FROM {table} ORDER BY id")))
                        .scalars()
                        .all()
                    )
                    for start in range(0, len(ids), CHUNK):
                        chunk = ids[start : start + CHUNK]
                        names = ", ".join(f":i{n}" for n in range(len(chunk)))
                        await conn.execute(
                            text(f"{sqlite_fill(t)} WHERE id IN ({names})"),
                            {f"i{n}": v for n, v in enumerate(chunk)},
                        )
                        bar.update(len(chunk))
            return total
    finally:
        await engine.dispose()


def _cmd_reindex(args: argparse.Namespace) -> int:
    n = asyncio.run(reindex(progress=not args.quiet))
    print(f"indexed {n} documents", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser("search", help="full-text search").add_subparsers(
        dest="cmd", required=True
    )
    r = search.add_parser("reindex", help="rebuild the search indexes from the rows")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_reindex)

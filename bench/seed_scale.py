"""Seed a benchmark database at scale with COPY: 1,000,000 stories across 200 products
(issue #17), each product with 20 roadmap items, the bench engineer a member of all.

`bench/run.py --scale` runs the scenarios on such a database instead of the 10,000-story one
(`--stories` and `--products` set the size); alone:

    python bench/seed_scale.py [--db rounds_bench_scale] [--stories 1000000] [--products 200]

Rows go in with asyncpg's binary COPY in chunks (`copy_records_to_table`), with
`session_replication_role = replica` for the load: no foreign-key checks and no row triggers,
so the full-text search table (`story_search`, filled by a trigger) stays empty for these
rows — search is measured by `bench/search_bench.py`, not here. ANALYZE at the end. Story
texts, criteria and statuses follow `bench/run.py`'s seed; ranks are per product, in number
order, so each product's list walks its (product_id, rank, id) index.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    LABELS,
    PERSONAS,
    STATUSES,
    SUBJECT,
    WANTS,
    _admin,
    _pg_url,
)

CHUNK = 20_000
ITEMS_PER_PRODUCT = 20
STORY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
    "product_id",
    "roadmap_item_id",
    "key",
    "number",
    "title",
    "persona",
    "as_a",
    "i_want",
    "so_that",
    "description",
    "acceptance_criteria",
    "status",
    "story_points",
    "rank",
    "sprint",
    "labels",
    "clinical_review_required",
    "clinical_review",
    "jira_key",
    "created_by",
)


def _criteria_variants(rnd: random.Random) -> list[str]:
    """A few dozen acceptance-criteria documents (JSON text) the stories pick from."""
    out = []
    for persona in PERSONAS:
        for n in range(2, 5):
            out.append(
                orjson.dumps(
                    [
                        {
                            "id": f"AC-{k}",
                            "given": f"a {persona} on the unit dashboard with {k + 2} flagged "
                            "patients",
                            "when": "the risk score of one patient crosses the alert threshold",
                            "then": "the patient moves to the top of the list and the row is "
                            "highlighted",
                            "met": rnd.random() < 0.3,
                        }
                        for k in range(1, n + 1)
                    ]
                ).decode()
            )
    return out


PENDING_REVIEW = orjson.dumps(
    {"status": "pending", "reviewer_sub": None, "reviewed_at": None, "comment": None}
).decode()


def story_records(product_id, key: str, roadmap_ids: list, n: int, rnd: random.Random, criteria):
    """The COPY records (tuples in STORY_COLUMNS order) of one product's `n` stories."""
    from app.db.types import uuid7

    start = datetime.now(UTC) - timedelta(days=400)
    for i in range(1, n + 1):
        want, so_that = rnd.choice(WANTS)
        persona = rnd.choice(PERSONAS)
        created = start + timedelta(minutes=i * 5)
        clinical = rnd.random() < 0.25
        yield (
            uuid7(),
            created,
            created + timedelta(hours=rnd.randint(0, 300)),
            rnd.randint(1, 6),
            created + timedelta(days=3) if rnd.random() < 0.02 else None,
            product_id,
            rnd.choice(roadmap_ids) if rnd.random() < 0.6 else None,
            f"{key}-{i}",
            i,
            f"{persona.capitalize()} can {want} (#{i})",
            persona,
            f"a {persona}",
            f"to {want}",
            so_that,
            "Context from the discovery interviews; see the linked insights. " * rnd.randint(1, 4),
            rnd.choice(criteria),
            rnd.choice(STATUSES),
            rnd.choice([None, 1, 2, 3, 5, 8, 13]),
            f"{i:010d}",
            f"2026-S{rnd.randint(1, 12):02d}" if rnd.random() < 0.5 else None,
            orjson.dumps(rnd.sample(LABELS, rnd.randint(0, 3))).decode(),
            clinical,
            PENDING_REVIEW if clinical else None,
            f"{key}J-{i}" if rnd.random() < 0.4 else None,
            "bench-pm",
        )


async def _copy(conn, table: str, columns: tuple[str, ...], records) -> int:
    chunk, total = [], 0
    for record in records:
        chunk.append(record)
        if len(chunk) >= CHUNK:
            await conn.copy_records_to_table(table, records=chunk, columns=columns)
            total += len(chunk)
            chunk = []
    if chunk:
        await conn.copy_records_to_table(table, records=chunk, columns=columns)
        total += len(chunk)
    return total


async def seed(url: str, n_stories: int, n_products: int) -> str:
    """COPY the products, memberships, roadmap items and stories; returns the first
    product's id (a product of n_stories / n_products stories)."""
    import asyncpg

    from app.db.types import utcnow, uuid7

    rnd = random.Random(17)
    criteria = _criteria_variants(rnd)
    now = utcnow()
    per_product, extra = divmod(n_stories, n_products)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("SET session_replication_role = replica")
        products = [(uuid7(), f"S{k:04d}") for k in range(n_products)]
        sizes = [per_product + (1 if k < extra else 0) for k in range(n_products)]
        await conn.copy_records_to_table(
            "product",
            columns=(
                "id",
                "created_at",
                "updated_at",
                "version",
                "key",
                "name",
                "description",
                "lifecycle_stage",
                "intended_use",
                "samd_significance",
                "samd_situation",
                "fda_pathway",
                "iec62304_class",
                "handles_phi",
                "model_type",
                "performance_metrics",
                "created_by",
            ),
            records=[
                (
                    pid,
                    now,
                    now,
                    1,
                    key,
                    f"Sepsis early warning {key}",
                    "Bedside sepsis risk score for adult inpatients.",
                    "development",
                    "Inform clinical management of adult inpatients at risk.",
                    "drive_management",
                    "critical",
                    "510k",
                    "B",
                    True,
                    "gradient boosted trees",
                    '{"auroc": 0.87}',
                    "bench-pm",
                )
                for (pid, key), size in zip(products, sizes, strict=True)
            ],
        )
        await conn.copy_records_to_table(
            "story_counter",
            columns=("product_id", "last_number"),
            records=[(pid, size) for (pid, _), size in zip(products, sizes, strict=True)],
        )
        await conn.copy_records_to_table(
            "membership",
            columns=("product_id", "subject", "created_at", "added_by"),
            records=[(pid, s, now, "pm") for pid, _ in products for s in (SUBJECT, "bench-pm")],
        )
        roadmap: dict = {}
        items = []
        for pid, _ in products:
            roadmap[pid] = [uuid7() for _ in range(ITEMS_PER_PRODUCT)]
            for k, rid in enumerate(roadmap[pid]):
                items.append(
                    (
                        rid,
                        now,
                        now,
                        1,
                        pid,
                        f"Theme {k}: alerting improvements",
                        "",
                        rnd.choice(["alerting", "integration", "model"]),
                        rnd.choice(["now", "next", "later"]),
                        f"2026-Q{rnd.randint(1, 4)}",
                        "planned",
                        rnd.randint(10, 5000),
                        2.0,
                        0.8,
                        3.0,
                        "bench-pm",
                    )
                )
        await conn.copy_records_to_table(
            "roadmap_item",
            columns=(
                "id",
                "created_at",
                "updated_at",
                "version",
                "product_id",
                "title",
                "description",
                "theme",
                "horizon",
                "target_quarter",
                "status",
                "reach",
                "impact",
                "confidence",
                "effort",
                "created_by",
            ),
            records=items,
        )

        def all_stories():
            for (pid, key), size in zip(products, sizes, strict=True):
                yield from story_records(pid, key, roadmap[pid], size, rnd, criteria)

        t0 = time.perf_counter()
        total = await _copy(conn, "story", STORY_COLUMNS, all_stories())
        print(f"copied {total} stories in {time.perf_counter() - t0:.0f}s", flush=True)
        await conn.execute("SET session_replication_role = origin")
        # VACUUM as well: a million freshly copied rows are what autovacuum goes for next,
        # and it would do so while the first scenario is measured (its database CPU was
        # charged to those requests: 3x the flat list's at 10k stories, not once vacuumed).
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()
    return str(products[0][0])


def prepare_database(admin_url: str, database: str, n_stories: int, n_products: int) -> str:
    """Drop and create `database`, migrate it, COPY the rows; returns a product id."""
    from app.db.migrate import upgrade

    url = _pg_url(admin_url, database)
    asyncio.run(
        _admin(
            admin_url,
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            f'CREATE DATABASE "{database}"',
        )
    )
    upgrade("head", url)
    return asyncio.run(seed(url, n_stories, n_products))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="rounds_bench_scale")
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    opts = parser.parse_args()
    t0 = time.perf_counter()
    product_id = prepare_database(opts.pg, opts.db, opts.stories, opts.products)
    print(
        f"{opts.db}: {opts.products} products, {opts.stories} stories "
        f"(first product {product_id}) in {time.perf_counter() - t0:.0f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""GraphQL "roadmap page" benchmark: Rounds' strawberry API against PostGraphile 5.

The page: 1 product → 20 roadmap items → 10 stories each (221 objects), the same fields on
both sides (ids, titles, status, horizon, RICE score; story key/title/status/points). Both
servers run in the same run over the same PostgreSQL database and the same rows:

- **rounds**: `uvicorn app.main:create_app`, 1 worker, authentication, permissions and the
  audit trail ON, an engineer's bearer token (the harness's `app_server`).
- **postgraphile**: PostGraphile 5 (amber preset, node 22 from the npm registry) from
  `bench/postgraphile/` — `npm ci` there at bench time; no auth, no audit, no GraphiQL.

Before measuring, both answers are fetched once and compared: the same product, the same
roadmap items and the same stories in the same order (221 objects each).

The flat list (`ROUNDS_LIST_QUERY`): one product's first 50 stories, 6 fields, against
PostGraphile's `allStories(first: 50, condition: {productId:})`, checked the same way.
The checks: Rounds req/s ÷ PostGraphile req/s ≥ 1.0 for each document (issue #17).

Registered as the harness scenario `graphql` (`python bench/run.py --only graphql`), and
runnable alone: `python bench/graphql_bench.py` builds its own database
`rounds_bench_graphql` (alembic upgrade head), seeds only the page, and runs the same
scenario with the harness's runner.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scenarios import (  # noqa: E402
    BenchEnv,
    Check,
    Load,
    Scenario,
    Server,
    app_server,
    scenario,
)

PG_DIR = ROOT / "bench" / "postgraphile"
PAGE_KEY = "RMAP"  # the page's product; its own key so it lives beside the harness's seed
N_ITEMS = 20
N_STORIES = 10
LIST_FIRST = 50
TARGET_RATIO = 1.0  # issue #17: both documents at least as fast as PostGraphile 5

# --------------------------------------------------------------------------- the query

ROUNDS_QUERY = """
query RoadmapPage($id: ID!) {
  product(id: $id) {
    id key name
    roadmapItems(first: 20) {
      nodes {
        id title status horizon riceScore
        stories(first: 10) {
          nodes { id key title status storyPoints }
        }
      }
    }
  }
}
""".strip()

# PostGraphile 5 (amber): the `id` column is exposed as `rowId` (`id` is the Relay node id),
# foreign keys as `<table>sBy<Column>` connections. Aliases give the answer Rounds' shape;
# orderBy matches Rounds' default sorts (roadmap items by created_at, stories by rank).
POSTGRAPHILE_QUERY = """
query RoadmapPage($id: UUID!) {
  product: productByRowId(rowId: $id) {
    id: rowId key name
    roadmapItems: roadmapItemsByProductId(first: 20, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
      nodes {
        id: rowId title status horizon riceScore
        stories: storiesByRoadmapItemId(first: 10, orderBy: [RANK_ASC, ROW_ID_ASC]) {
          nodes { id: rowId key title status storyPoints }
        }
      }
    }
  }
}
""".strip()


# The flat list a backlog screen sends: one product's first 50 stories in backlog (rank)
# order, 6 fields, no nesting. PostGraphile's equivalent is `allStories` with a condition.
ROUNDS_LIST_QUERY = """
query Backlog($id: ID!) {
  stories(first: 50, productId: $id) {
    nodes { id roadmapItemId title status storyPoints createdAt }
  }
}
""".strip()

POSTGRAPHILE_LIST_QUERY = """
query Backlog($id: UUID!) {
  stories: allStories(first: 50, condition: {productId: $id}, orderBy: [RANK_ASC, ROW_ID_ASC]) {
    nodes { id: rowId roadmapItemId title status storyPoints createdAt }
  }
}
""".strip()


def graphql_body(query: str, product_id: str) -> str:
    return json.dumps({"query": query, "variables": {"id": product_id}}, separators=(",", ":"))


def page_ids(body: Any) -> list[str]:
    """Ids of the page's objects in document order: product, then each item and its stories."""
    if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
        raise SystemExit(f"GraphQL answered errors: {json.dumps(body)[:800]}")
    product = body["data"]["product"]
    if product is None:
        raise SystemExit("GraphQL answered product: null")
    ids = [str(product["id"])]
    for item in product["roadmapItems"]["nodes"]:
        ids.append(str(item["id"]))
        ids.extend(str(s["id"]) for s in item["stories"]["nodes"])
    return ids


def list_ids(body: Any) -> list[tuple[str, str, str, int]]:
    """(id, roadmap item, title, points) of the flat list's stories in order."""
    if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
        raise SystemExit(f"GraphQL answered errors: {json.dumps(body)[:800]}")
    return [
        (str(s["id"]), str(s["roadmapItemId"]), s["title"], s["storyPoints"])
        for s in body["data"]["stories"]["nodes"]
    ]


def verify_same_page(first: dict[str, Any]) -> None:
    """Both servers must return the same 221 objects in the same order (and the same 50
    stories of the flat list) before we measure."""
    rounds_list, pgl_list = list_ids(first["rounds-list"]), list_ids(first["postgraphile-list"])
    if len(rounds_list) != LIST_FIRST or rounds_list != pgl_list:
        raise SystemExit(
            f"flat list not comparable: rounds returned {len(rounds_list)} stories, "
            f"postgraphile {len(pgl_list)} (expected {LIST_FIRST}, the same in the same order)"
        )
    rounds, pgl = page_ids(first["rounds"]), page_ids(first["postgraphile"])
    expected = 1 + N_ITEMS * (1 + N_STORIES)
    if len(rounds) != expected or rounds != pgl:
        raise SystemExit(
            f"not comparable: rounds returned {len(rounds)} objects, postgraphile {len(pgl)} "
            f"(expected {expected}, same ids in the same order)"
        )
    a, b = first["rounds"]["data"]["product"], first["postgraphile"]["data"]["product"]
    for ia, ib in zip(a["roadmapItems"]["nodes"], b["roadmapItems"]["nodes"], strict=True):
        if (ia["title"], ia["status"].lower(), ia["riceScore"]) != (
            ib["title"],
            ib["status"].lower(),
            ib["riceScore"],
        ):
            raise SystemExit(f"roadmap item {ia['id']} differs: {ia} vs {ib}")
    print(
        f"  verified: both servers return the same {expected} objects "
        f"and the same {LIST_FIRST} stories",
        flush=True,
    )


# --------------------------------------------------------------------------- seed


async def _seed_page(url: str, members: tuple[str, ...]) -> str:
    """One product with 20 roadmap items × 10 stories; idempotent (reuses product RMAP)."""
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.db.models import Base  # noqa: F401 - registers every table
    from app.db.types import utcnow, uuid7
    from app.members.models import Membership
    from app.products.models import Product, StoryCounter
    from app.roadmap.models import RoadmapItem, rice_score
    from app.stories.models import Story

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            found = await conn.scalar(select(Product.id).where(Product.key == PAGE_KEY))
            if found is not None:
                return str(found)
            now = utcnow()
            start = now - timedelta(days=90)
            product_id = uuid7()
            await conn.execute(
                insert(Product.__table__).values(
                    id=product_id,
                    created_at=now,
                    updated_at=now,
                    version=1,
                    key=PAGE_KEY,
                    name="Medication reconciliation assistant",
                    description="Suggests discrepancies between home and inpatient medications.",
                    lifecycle_stage="development",
                    intended_use="Inform pharmacists during admission medication reconciliation.",
                    samd_significance="inform_management",
                    samd_situation="serious",
                    fda_pathway="not_a_device",
                    handles_phi=True,
                    performance_metrics={"precision": 0.91},
                    created_by="bench-pm",
                )
            )
            await conn.execute(
                insert(StoryCounter.__table__).values(
                    product_id=product_id, last_number=N_ITEMS * N_STORIES
                )
            )
            await conn.execute(
                insert(Membership.__table__),
                [
                    {"product_id": product_id, "subject": s, "created_at": now, "added_by": "pm"}
                    for s in members
                ],
            )
            statuses = ["proposed", "planned", "in_progress", "shipped"]
            story_statuses = ["backlog", "ready", "in_progress", "in_review", "done"]
            items, stories = [], []
            for k in range(N_ITEMS):
                rid = uuid7()
                reach, impact, confidence, effort = 100 * (k + 1), 2.0, 0.8, 1.0 + k % 5
                created = start + timedelta(hours=k)
                items.append(
                    {
                        "id": rid,
                        "created_at": created,
                        "updated_at": created,
                        "version": 1,
                        "product_id": product_id,
                        "title": f"Reconciliation theme {k + 1:02d}: discrepancy alerts",
                        "description": "",
                        "theme": ["alerting", "integration", "model"][k % 3],
                        "horizon": ["now", "next", "later"][k % 3],
                        "target_quarter": f"2026-Q{k % 4 + 1}",
                        "status": statuses[k % 4],
                        "reach": reach,
                        "impact": impact,
                        "confidence": confidence,
                        "effort": effort,
                        "rice_score": rice_score(reach, impact, confidence, effort),
                        "approved_by": "bench-exec" if statuses[k % 4] != "proposed" else None,
                        "approved_at": created if statuses[k % 4] != "proposed" else None,
                        "created_by": "bench-pm",
                    }
                )
                for j in range(N_STORIES):
                    n = k * N_STORIES + j + 1
                    sc = created + timedelta(minutes=j)
                    stories.append(
                        {
                            "id": uuid7(),
                            "created_at": sc,
                            "updated_at": sc,
                            "version": 1,
                            "product_id": product_id,
                            "roadmap_item_id": rid,
                            "key": f"{PAGE_KEY}-{n}",
                            "number": n,
                            "title": f"Pharmacist sees discrepancy #{n} on the admission list",
                            "persona": "pharmacist",
                            "as_a": "a pharmacist",
                            "i_want": "to see home/inpatient discrepancies first",
                            "so_that": "I reconcile before the first dose",
                            "description": "",
                            "acceptance_criteria": [],
                            "status": story_statuses[n % 5],
                            "story_points": [1, 2, 3, 5, 8][n % 5],
                            # rank descending within an item so rank order ≠ insertion order
                            "rank": f"{k:04d}{N_STORIES - j:04d}",
                            "labels": ["medrec"],
                            "clinical_review_required": False,
                            "created_by": "bench-pm",
                        }
                    )
            await conn.execute(insert(RoadmapItem.__table__), items)
            await conn.execute(insert(Story.__table__), stories)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE product, roadmap_item, story, membership")
        return str(product_id)
    finally:
        await engine.dispose()


def seed_page(database_url: str, members: tuple[str, ...] = ("bench-engineer",)) -> str:
    return asyncio.run(_seed_page(database_url, members))


# --------------------------------------------------------------------------- servers


def ensure_postgraphile() -> Path:
    """npm ci (or install) in bench/postgraphile once; returns the node 22 binary."""
    node = PG_DIR / "node_modules" / ".bin" / "node"
    if not (node.exists() and (PG_DIR / "node_modules" / "postgraphile").is_dir()):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is required for the PostGraphile side (apt-get install npm)")
        verb = "ci" if (PG_DIR / "package-lock.json").exists() else "install"
        print(f"npm {verb} in {PG_DIR.relative_to(ROOT)} …", flush=True)
        subprocess.run(
            [npm, verb, "--no-audit", "--no-fund", "--loglevel=error"], cwd=PG_DIR, check=True
        )
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True).stdout
    if not version.startswith("v22."):
        raise SystemExit(f"{node} is {version.strip()!r}, expected node 22 (npm package node@22)")
    return node


def postgraphile_server(env: BenchEnv) -> Server:
    node = ensure_postgraphile()
    url = env.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return Server(
        name="postgraphile",
        argv=(str(node), str(PG_DIR / "server.mjs"), "--port", "{port}"),
        env={"DATABASE_URL": url, "NODE_ENV": "production"},
        ready_path="/graphql",
    )


@scenario("graphql")
def roadmap_page(env: BenchEnv) -> Scenario:
    """The roadmap page and the flat list over POST /graphql: Rounds (auth + audit) vs
    PostGraphile 5, in the same run."""
    product_id = seed_page(env.database_url)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    bearer = {**headers, "Authorization": f"Bearer {env.token}"}
    return Scenario(
        name="graphql",
        description=(
            "roadmap page (1 product → 20 items → 10 stories) and flat list (50 stories, "
            "6 fields) over POST /graphql, Rounds (auth + audit) vs PostGraphile 5"
        ),
        servers=[app_server(env, "rounds"), postgraphile_server(env)],
        loads=[
            Load(
                "rounds",
                "rounds",
                "/graphql",
                method="POST",
                headers=bearer,
                body=graphql_body(ROUNDS_QUERY, product_id),
            ),
            Load(
                "postgraphile",
                "postgraphile",
                "/graphql",
                method="POST",
                headers=headers,
                body=graphql_body(POSTGRAPHILE_QUERY, product_id),
            ),
            Load(
                "rounds-list",
                "rounds",
                "/graphql",
                method="POST",
                headers=bearer,
                body=graphql_body(ROUNDS_LIST_QUERY, product_id),
            ),
            Load(
                "postgraphile-list",
                "postgraphile",
                "/graphql",
                method="POST",
                headers=headers,
                body=graphql_body(POSTGRAPHILE_LIST_QUERY, product_id),
            ),
        ],
        checks=[
            Check(
                "page: rounds / postgraphile req/s", "ratio", "rounds", "postgraphile", TARGET_RATIO
            ),
            Check(
                "flat list: rounds / postgraphile req/s",
                "ratio",
                "rounds-list",
                "postgraphile-list",
                TARGET_RATIO,
            ),
        ],
        verify=verify_same_page,
    )


# --------------------------------------------------------------------------- standalone

STANDALONE_DB = "rounds_bench_graphql"


def _prepare_standalone(admin_url: str) -> BenchEnv:
    from app.auth.tokens import mint_token
    from app.config import Settings
    from app.db.migrate import upgrade
    from bench.run import RESULTS, SUBJECT, _admin, _pg_url

    url = _pg_url(admin_url, STANDALONE_DB)
    asyncio.run(
        _admin(
            admin_url,
            f'DROP DATABASE IF EXISTS "{STANDALONE_DB}" WITH (FORCE)',
            f'CREATE DATABASE "{STANDALONE_DB}"',
        )
    )
    upgrade("head", url)
    product_id = seed_page(url, (SUBJECT,))
    var_dir = RESULTS / "var"
    settings = Settings(environment="development", database_url=url, var_dir=var_dir)
    token = mint_token(settings, sub=SUBJECT, role="engineer", name="Bench Engineer", ttl=6 * 3600)
    return BenchEnv(database_url=url, token=token, product_id=product_id, var_dir=var_dir)


def main() -> int:
    import argparse

    from bench import run

    parser = argparse.ArgumentParser(description="GraphQL roadmap page: Rounds vs PostGraphile 5")
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--label", default=None, help="also save results as <label>.json")
    opts = parser.parse_args()

    run.ensure_wrk()
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    env = _prepare_standalone(opts.pg)
    results = {"graphql": run.run_scenario(roadmap_page(env), opts)}
    run.print_report(results, opts)
    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "options": {
            k: getattr(opts, k) for k in ("duration", "warmup", "repeats", "connections", "threads")
        },
        "scenarios": results,
    }
    name = opts.label or "graphql"
    (run.RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2))
    print(f"\nwrote {run.RESULTS / f'{name}.json'} ({time.perf_counter() - t0:.0f}s total)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Search latency over 100k stories on PostgreSQL, through the real API (ASGI, auth, audit).

Usage: python bench/search_bench.py [--stories 100000] [--queries 300]
       (BENCH_PG_URL: an admin URL of the server; a database of its own is made and dropped)

Stories get synthetic titles and descriptions drawn from a Zipf-like vocabulary, so some
words match a large share of rows (the hard case for ranking) and most match few.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.tokens import mint_token
from app.config import Settings
from app.db.migrate import upgrade
from app.main import create_app
from app.search.index import PG_INDEX, PG_TABLE, pg_fill, pg_trigger

COMMON = (
    "patient nurse alert sepsis score ward triage medication dose order chart vitals "
    "escalation pager lab result review discharge admission icu bed monitor"
).split()
SYLLABLES = "ka lo mi ne ru sa te vo zi ba de fi gu ho ja ki lu ma no pe qu ri".split()


def vocabulary(n: int, rng: random.Random) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return COMMON + sorted(words)


def sentence(vocab: list[str], rng: random.Random, n: int) -> str:
    # Zipf-ish: index = int(len * u^3) favours the front of the list (the common words)
    return " ".join(vocab[int(len(vocab) * rng.random() ** 3)] for _ in range(n))


async def admin(url: str, sql: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def seed(url: str, n: int, vocab: list[str], rng: random.Random, pid: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        # bulk load: the trigger and the GIN index off, then one fill and one index build
        _, trg, _ = pg_trigger("story")
        await conn.execute(text(f"ALTER TABLE story DISABLE TRIGGER {trg}"))
        await conn.execute(text(f"DROP INDEX ix_{PG_TABLE}_vector"))
        batch = []
        for i in range(1, n + 1):
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "p": uuid.UUID(pid),
                    "key": f"BENCH-{i}",
                    "num": i,
                    "title": sentence(vocab, rng, rng.randint(4, 8)).capitalize(),
                    "desc": sentence(vocab, rng, rng.randint(20, 60)),
                    "rank": f"{i:010d}",
                }
            )
            if len(batch) == 5000 or i == n:
                await conn.execute(
                    text(
                        "INSERT INTO story (id, product_id, key, number, title, description, "
                        "acceptance_criteria, status, rank, labels, clinical_review_required, "
                        "created_at, updated_at, version) VALUES (:id, :p, :key, :num, :title, "
                        ":desc, '[]', 'backlog', :rank, '[]', false, now(), now(), 1)"
                    ),
                    batch,
                )
                batch = []
                print(f"\rseeded {i}/{n} stories", end="", file=sys.stderr)
        print(file=sys.stderr)
        t0 = time.perf_counter()
        await conn.execute(text(pg_fill("story")))
        await conn.execute(text(PG_INDEX))
        await conn.execute(text(f"ALTER TABLE story ENABLE TRIGGER {trg}"))
        print(f"indexed in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


KINDS = ("common word", "rare word", "prefix", "two words")


def queries(vocab: list[str], rng: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:  # a common word
            out.append(rng.choice(COMMON))
        elif kind == 1:  # a rarer word
            out.append(rng.choice(vocab[len(COMMON) :]))
        elif kind == 2:  # type-ahead prefix
            w = rng.choice(vocab)
            out.append(w[: max(3, len(w) - 2)])
        else:  # two words
            out.append(f"{rng.choice(COMMON)} {rng.choice(vocab)}")
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def run(url: str, n: int, vocab: list[str], rng: random.Random, nq: int) -> dict:
    settings = Settings(environment="test", database_url=url, var_dir=Path("var/bench"))
    app = create_app(settings)
    pm = "bench-pm"
    token = mint_token(settings, sub=pm, role="product_manager")
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        r = await client.post(
            "/api/v1/products", json={"key": "BENCH", "name": "Bench"}, headers=headers
        )
        assert r.status_code == 201, r.text
        await seed(url, n, vocab, rng, r.json()["id"])
        qs = queries(vocab, rng, nq)
        result = await measure(client, headers, qs)
    await app.state.engine.dispose()
    return result


async def measure(client: httpx.AsyncClient, headers: dict, qs: list[str]) -> dict[str, float]:
    times = []
    kinds: dict[str, list[float]] = {}
    for q in qs[:20]:  # warm-up
        await client.get("/api/v1/search", params={"q": q}, headers=headers)
    for i, q in enumerate(qs):
        t0 = time.perf_counter()
        r = await client.get("/api/v1/search", params={"q": q, "limit": 20}, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        kinds.setdefault(KINDS[i % 4], []).append(times[-1])
        assert r.status_code == 200, r.text
    for kind, ts in kinds.items():
        print(f"  {kind}: p50 {statistics.median(ts):.1f} ms, p99 {pct(ts, 99):.1f} ms")
    return {
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "p99": pct(times, 99),
        "max": max(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    base = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    if base.startswith("postgresql://"):
        base = "postgresql+asyncpg://" + base.removeprefix("postgresql://")
    name = f"rounds_bench_search_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    rng = random.Random(16)
    asyncio.run(admin(base, f'CREATE DATABASE "{name}"'))
    try:
        upgrade("head", url)
        vocab = vocabulary(5000, rng)
        result = asyncio.run(run(url, args.stories, vocab, rng, args.queries))
        print(
            f"search over {args.stories} stories, {args.queries} queries through the API: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in result.items())
        )
        return 0 if result["p99"] <= 50 else 1
    finally:
        if args.keep:
            print(f"kept database {name}", file=sys.stderr)
        else:
            asyncio.run(admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    raise SystemExit(main())

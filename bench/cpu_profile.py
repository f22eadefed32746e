"""In-process CPU per request of one benchmark request (no wrk, no second process).

Serves the app through httpx's ASGITransport against a benchmark database that `bench/run.py`
or `bench/graphql_bench.py` prepared, runs the request sequentially, and prints the process
CPU per request (optionally a cProfile of the loop). Useful to see a change's effect on the
app's own cost on a noisy shared machine, where req/s moves with other load.

Usage:
  python bench/cpu_profile.py graphql [--db rounds_bench_graphql] [-n 400] [--profile]
      [--document 'query($id: ID!) {...}' | --document list] [--fastpath off]
  python bench/cpu_profile.py stories [--db rounds_bench] [--audit off]
      [--path '/api/v1/stories?product_id={product}&limit=50'] [--product-key BENCH]
  python bench/cpu_profile.py floor-asgi | floor-fastapi
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=OUT \
      python bench/cpu_profile.py stories --callgrind [-n 150]

`{product}` in --path is the product's id (--product-key picks the product; by default RMAP
for graphql, any product for stories). `--document list` is the bench's flat list
(ROUNDS_LIST_QUERY). The floor modes serve a bare ASGI app and a bare FastAPI route, each
answering a small JSON, under the same harness (the httpx client's own cost included): what
no middleware or dependency of Rounds can remove.

`--callgrind` (under valgrind, as above): one round, instrumentation switched on only around
the measured loop (`callgrind_control -i on/off`), the audit sealer and the webhook worker
set to wake hourly (under valgrind a request takes ~50x longer, so their time-based work
would otherwise be charged to the requests); instructions per request are the `totals:` of
OUT divided by -n (`--callgrind` prints the line to run).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _instrument(on: bool) -> None:
    """callgrind's instrumentation of this process on or off (blocking on purpose: nothing
    else of the loop should run meanwhile)."""
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", pid], check=True)


async def _measure(opts: argparse.Namespace, once: Callable[[], Awaitable[int]]) -> None:
    for _ in range(opts.warmup):
        size = await once()
    if opts.callgrind:
        _instrument(True)
        for _ in range(opts.n):
            await once()
        _instrument(False)
        print(f"{opts.what}: {opts.n} requests instrumented ({size} bytes); per request:")
        print(f"  awk '/^totals:/ {{print $2 / {opts.n}}}' OUT")
        return
    # CPU time, not wall time: waits on the database are not the app's cost.
    profiler = cProfile.Profile(time.process_time) if opts.profile else None
    best = None
    for _round in range(opts.rounds):
        if profiler:
            profiler.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(opts.n):
            await once()
        cpu = (time.process_time() - c0) / opts.n * 1000
        wall = (time.perf_counter() - t0) / opts.n * 1000
        if profiler:
            profiler.disable()
        print(f"{opts.what}: cpu {cpu:.3f} ms/req, wall {wall:.3f} ms/req ({size} bytes)")
        best = cpu if best is None else min(best, cpu)
    print(f"best cpu {best:.3f} ms/req (load average {os.getloadavg()[0]:.2f})")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(opts.sort)
        stats.print_stats(opts.top)
        if opts.dump:
            stats.dump_stats(opts.dump)


def _floor_app(kind: str) -> Any:
    body = b'{"status":"ok"}'
    if kind == "floor-asgi":

        async def bare(scope: Any, receive: Any, send: Any) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return bare
    from fastapi import FastAPI, Request
    from starlette.responses import Response

    app = FastAPI()

    @app.get("/api/v1/stories")
    async def hello(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return app


async def _main(opts: argparse.Namespace) -> None:
    import httpx

    if opts.what.startswith("floor"):
        transport = httpx.ASGITransport(app=_floor_app(opts.what))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def floor_once() -> int:
                r = await client.get("/api/v1/stories?limit=50", headers={"authorization": "x"})
                return len(r.content)

            await _measure(opts, floor_once)
        return

    from sqlalchemy import text

    from app.auth.tokens import mint_token
    from app.config import Settings
    from app.main import create_app
    from bench.graphql_bench import ROUNDS_LIST_QUERY, ROUNDS_QUERY, graphql_body
    from bench.run import RESULTS, SUBJECT, _pg_url
    from bench.scenarios import BenchEnv, story_body

    url = _pg_url(opts.pg, opts.db)
    extra: dict[str, Any] = {}
    if opts.callgrind:
        from app.audit import sealer

        assert sealer.run_sealer.__kwdefaults__ is not None
        sealer.run_sealer.__kwdefaults__["interval"] = 3600.0
        extra["webhook_poll_seconds"] = 3600.0
    settings = Settings(
        environment="development",
        database_url=url,
        var_dir=RESULTS / "var",
        audit_enabled=opts.audit == "on",
        graphql_fastpath=opts.fastpath == "on",
        **extra,
    )
    token = mint_token(settings, sub=SUBJECT, role="engineer", name="Bench", ttl=3600)
    app = create_app(settings)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    document = ROUNDS_LIST_QUERY if opts.document == "list" else opts.document or ROUNDS_QUERY
    async with app.router.lifespan_context(app):
        async with app.state.engine.connect() as conn:
            key = opts.product_key or ("RMAP" if opts.what == "graphql" else None)
            stmt = "SELECT id FROM product " + ("WHERE key = :k" if key else "LIMIT 1")
            product_id = str((await conn.execute(text(stmt), {"k": key} if key else {})).scalar())
        path = opts.path.replace("{product}", product_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def once() -> int:
                if opts.what == "graphql":
                    r = await client.post(
                        "/graphql", content=graphql_body(document, product_id), headers=headers
                    )
                elif opts.what == "write":
                    r = await client.post(
                        "/api/v1/stories",
                        content=story_body(BenchEnv(url, token, product_id, RESULTS)),
                        headers=headers,
                    )
                else:
                    r = await client.get(path, headers=headers)
                if r.status_code >= 400 or b'"errors":[{"message"' in r.content:
                    raise SystemExit(f"{r.status_code}: {r.text[:500]}")
                return len(r.content)

            await _measure(opts, once)
            if opts.explain:
                await _explain(app, once, opts.explain)


async def _explain(app: Any, once: Callable[[], Awaitable[int]], runs: int) -> None:
    """The database's side of one request: each SELECT it sent (through SQLAlchemy, or to
    asyncpg directly: app/db/prepared.py), prepared and run `runs` times on a connection of
    its own as the app runs it (PostgreSQL plans the first five executions of a prepared
    statement for their values, then may keep a generic plan), then EXPLAIN ANALYZE of the
    last run: planning and execution time."""
    from app.db.explain import execute_call, sent_statements

    seen: list[tuple[str, Any]] = []

    def capture(statement: str, params: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    with sent_statements(app.state.engine, capture):  # for one request
        await once()
    async with app.state.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        for statement, params in seen:
            prepared = await driver.prepare(statement)
            for _ in range(runs):
                await prepared.fetch(*params)
            await driver.execute(f"PREPARE explained AS {statement}")
            call = execute_call(params)
            for _ in range(runs - 1):
                await driver.execute(call)
            plan = await driver.fetch(f"EXPLAIN (ANALYZE, SUMMARY) {call}")
            await driver.execute("DEALLOCATE explained")
            times = [
                r[0].strip()
                for r in plan
                if r[0].strip().startswith(("Planning Time", "Execution Time"))
            ]
            print(f"{' '.join(statement.split())[:90]}…: " + "; ".join(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["graphql", "stories", "write", "floor-asgi", "floor-fastapi"]
    )
    parser.add_argument("--db", default=None)
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("-n", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--audit", choices=["on", "off"], default="on")
    parser.add_argument("--fastpath", choices=["on", "off"], default="on", help="GRAPHQL_FASTPATH")
    parser.add_argument(
        "--path", default="/api/v1/stories?limit=50", help="for stories: GET path ({product})"
    )
    parser.add_argument("--product-key", help="the product whose id {product}/$id stands for")
    parser.add_argument(
        "--document", help="another GraphQL document (variable $id: the product), or 'list'"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="RUNS",
        help="then each SELECT of one request run RUNS times, with the planning and execution "
        "time of the last (EXPLAIN ANALYZE)",
    )
    parser.add_argument("--callgrind", action="store_true", help="under valgrind: see above")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="also write the raw profile to this file")
    opts = parser.parse_args()
    if opts.db is None:
        opts.db = "rounds_bench_graphql" if opts.what == "graphql" else "rounds_bench"
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(_main(opts))


if __name__ == "__main__":
    main()

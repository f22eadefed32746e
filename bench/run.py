"""`make bench`: HTTP throughput of Rounds against a raw baseline, and what the audit costs.

Builds a fresh PostgreSQL database `rounds_bench` (alembic upgrade head), seeds one product
with 10,000 stories and an engineer member, mints the engineer's token, then runs the
registered scenarios (bench/scenarios.py) with wrk: each scenario's loads alternate
`--repeats` times on the same machine, in A B, B A, A B … order so that a drift (a growing
table, a neighbour's load) falls on both sides alike; the best run of each load is reported
with the spread of all runs, and each check is decided on the median of its per-repeat
ratios (subject ÷ reference within the same repeat), not on the two best runs, which picks
outliers. Results: a table on stdout and bench/.results/latest.json.

Usage: python bench/run.py [--only stories,audit] [--duration 12] [--repeats 2] [--app-dir DIR]
       python bench/run.py --scale [--stories 1000000 --products 200]  (COPY seed, issue #17)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scenarios import SCENARIOS, BenchEnv, Check, Load, Scenario, Server  # noqa: E402

RESULTS = ROOT / "bench" / ".results"
# BENCH_DB=… runs beside another bench on the same server (each drops and rebuilds its own).
BENCH_DB = os.environ.get("BENCH_DB", "rounds_bench")
SUBJECT = "bench-engineer"


# ---------------------------------------------------------------- database and fixture


def _pg_url(admin_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(admin_url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def _admin(admin_url: str, *sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


PERSONAS = ["ICU nurse", "hospitalist", "pharmacist", "care coordinator", "patient", "CMIO"]
LABELS = ["sepsis", "ui", "ehr-integration", "alerting", "fhir", "model", "audit", "mobile"]
STATUSES = ["backlog"] * 5 + ["ready"] * 2 + ["in_progress", "in_review", "done", "wont_do"]
WANTS = [
    ("see the risk score trend", "I can escalate before the patient deteriorates"),
    ("acknowledge an alert from the worklist", "alerts do not pile up during handover"),
    ("export the cohort to FHIR", "the research team can validate the model"),
    ("filter patients by unit", "I only see the beds I cover"),
    ("read why the model flagged a patient", "I can judge whether to act on it"),
]


def _story_rows(product_id, roadmap_ids: list, n: int, rnd: random.Random) -> list[dict]:
    from app.db.types import uuid7

    start = datetime.now(UTC) - timedelta(days=200)
    rows = []
    for i in range(1, n + 1):
        want, so_that = rnd.choice(WANTS)
        persona = rnd.choice(PERSONAS)
        created = start + timedelta(minutes=i * 25)
        criteria = [
            {
                "id": f"AC-{k}",
                "given": f"a {persona} on the unit dashboard with {k + 2} flagged patients",
                "when": "the risk score of one patient crosses the alert threshold",
                "then": "the patient moves to the top of the list and the row is highlighted",
                "met": rnd.random() < 0.3,
            }
            for k in range(1, rnd.randint(2, 4) + 1)
        ]
        clinical = rnd.random() < 0.25
        rows.append(
            {
                "id": uuid7(),
                "created_at": created,
                "updated_at": created + timedelta(hours=rnd.randint(0, 300)),
                "version": rnd.randint(1, 6),
                "archived_at": created + timedelta(days=3) if rnd.random() < 0.02 else None,
                "product_id": product_id,
                "roadmap_item_id": rnd.choice(roadmap_ids) if rnd.random() < 0.6 else None,
                "key": f"BENCH-{i}",
                "number": i,
                "title": f"{persona.capitalize()} can {want} (#{i})",
                "persona": persona,
                "as_a": f"a {persona}",
                "i_want": f"to {want}",
                "so_that": so_that,
                "description": "Context from the discovery interviews; see the linked insights. "
                * rnd.randint(1, 4),
                "acceptance_criteria": criteria,
                "status": rnd.choice(STATUSES),
                "story_points": rnd.choice([None, 1, 2, 3, 5, 8, 13]),
                "rank": f"{i:010d}",
                "sprint": f"2026-S{rnd.randint(1, 12):02d}" if rnd.random() < 0.5 else None,
                "labels": rnd.sample(LABELS, rnd.randint(0, 3)),
                "clinical_review_required": clinical,
                "clinical_review": {
                    "status": "pending",
                    "reviewer_sub": None,
                    "reviewed_at": None,
                    "comment": None,
                }
                if clinical
                else None,
                "jira_key": f"SEP-{i}" if rnd.random() < 0.4 else None,
                "created_by": "bench-pm",
            }
        )
    return rows


async def _seed(url: str, n_stories: int) -> str:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.db.models import Base  # noqa: F401 - registers every table
    from app.db.types import utcnow, uuid7
    from app.members.models import Membership
    from app.products.models import Product, StoryCounter
    from app.roadmap.models import RoadmapItem
    from app.stories.models import Story

    rnd = random.Random(42)
    now = utcnow()
    product_id = uuid7()
    roadmap_ids = [uuid7() for _ in range(20)]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Product.__table__).values(
                    id=product_id,
                    created_at=now,
                    updated_at=now,
                    version=1,
                    key="BENCH",
                    name="Sepsis early warning",
                    description="Bedside sepsis risk score for adult inpatients.",
                    lifecycle_stage="development",
                    intended_use="Inform clinical management of adult inpatients at risk.",
                    samd_significance="drive_management",
                    samd_situation="critical",
                    fda_pathway="510k",
                    iec62304_class="B",
                    handles_phi=True,
                    model_type="gradient boosted trees",
                    performance_metrics={"auroc": 0.87, "sensitivity": 0.81},
                    created_by="bench-pm",
                )
            )
            await conn.execute(
                insert(StoryCounter.__table__).values(product_id=product_id, last_number=n_stories)
            )
            await conn.execute(
                insert(Membership.__table__),
                [
                    {"product_id": product_id, "subject": s, "created_at": now, "added_by": "pm"}
                    for s in (SUBJECT, "bench-pm")
                ],
            )
            await conn.execute(
                insert(RoadmapItem.__table__),
                [
                    {
                        "id": rid,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                        "product_id": product_id,
                        "title": f"Theme {k}: alerting improvements",
                        "description": "",
                        "theme": rnd.choice(["alerting", "integration", "model"]),
                        "horizon": rnd.choice(["now", "next", "later"]),
                        "target_quarter": f"2026-Q{rnd.randint(1, 4)}",
                        "status": "planned",
                        "reach": rnd.randint(10, 5000),
                        "impact": 2.0,
                        "confidence": 0.8,
                        "effort": 3.0,
                        "rice_score": None,
                        "created_by": "bench-pm",
                    }
                    for k, rid in enumerate(roadmap_ids)
                ],
            )
            rows = _story_rows(product_id, roadmap_ids, n_stories, rnd)
            for i in range(0, len(rows), 2000):
                await conn.execute(insert(Story.__table__), rows[i : i + 2000])
    finally:
        await engine.dispose()
    # Fresh statistics, or the planner guesses from an empty table and sorts all stories
    # instead of walking the (rank, id) index; and VACUUM, as bench/seed_scale.py does: the
    # new rows are what autovacuum goes for next, while the first scenario is measured.
    await _admin(url, "VACUUM (ANALYZE)")
    return str(product_id)


async def _scalar(url: str, sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _first_product(url: str) -> str:
    """The seeded product (the bench's own, or seed_scale's first) of a kept database."""
    found = await _scalar(url, "SELECT id FROM product WHERE key IN ('BENCH', 'S0000') LIMIT 1")
    if found is None:
        raise SystemExit(f"{BENCH_DB} holds no bench seed; run without --reuse-db first")
    return str(found)


def prepare(
    admin_url: str, n_stories: int, n_products: int | None = None, *, reuse: bool = False
) -> BenchEnv:
    """A fresh BENCH_DB: one product of `n_stories` stories, or with `n_products` (--scale)
    `n_stories` across that many products, COPY'd by bench/seed_scale.py. `reuse`: keep the
    database a previous run seeded (a 1M-story seed takes minutes)."""
    from app.auth.tokens import mint_token
    from app.config import Settings
    from app.db.migrate import upgrade

    t0 = time.perf_counter()
    url = _pg_url(admin_url, BENCH_DB)
    if reuse:
        product_id = asyncio.run(_first_product(url))
        n_stories = asyncio.run(_scalar(url, "SELECT count(*) FROM story"))
        n_products = asyncio.run(_scalar(url, "SELECT count(*) FROM product"))
    elif n_products:
        from bench.seed_scale import prepare_database

        product_id = prepare_database(admin_url, BENCH_DB, n_stories, n_products)
    else:
        asyncio.run(
            _admin(
                admin_url,
                f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)',
                f'CREATE DATABASE "{BENCH_DB}"',
            )
        )
        upgrade("head", url)
        product_id = asyncio.run(_seed(url, n_stories))
    var_dir = RESULTS / "var"
    settings = Settings(environment="development", database_url=url, var_dir=var_dir)
    token = mint_token(settings, sub=SUBJECT, role="engineer", name="Bench Engineer", ttl=6 * 3600)
    print(
        f"prepared {BENCH_DB}: {n_products or 1} product(s), {n_stories} stories in "
        f"{time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    return BenchEnv(database_url=url, token=token, product_id=product_id, var_dir=var_dir)


# ---------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    server: Server
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(server: Server) -> Running:
    port = _free_port()
    log = RESULTS / "logs" / f"{server.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [a.replace("{port}", str(port)) for a in server.argv]
    env = {**os.environ, **server.env}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            argv,
            cwd=server.cwd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(server, port, proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{server.name} exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(running.base + server.ready_path, timeout=2).close()
            return running
        except urllib.error.HTTPError:
            return running  # it answers
        except OSError:
            time.sleep(0.2)
    stop(running)
    raise SystemExit(f"{server.name} did not start in 60s; see {log}")


def stop(running: Running) -> None:
    if running.proc.poll() is not None:
        return
    running.proc.send_signal(signal.SIGTERM)
    try:
        running.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.proc.kill()
        running.proc.wait()


# ---------------------------------------------------------------- load


def _lua(load: Load) -> str:
    def q(s: str) -> str:
        return json.dumps(s)  # a JSON string literal is a valid Lua string literal here

    lines = [f"wrk.method = {q(load.method)}"]
    for k, v in load.headers.items():
        lines.append(f"wrk.headers[{q(k)}] = {q(v)}")
    if load.body is not None:
        lines.append(f"wrk.body = {q(load.body)}")
    return "\n".join(lines) + "\n"


def preflight(running: Running, load: Load) -> Any:
    """One request by hand: the load must answer what it should before wrk hammers it."""
    req = urllib.request.Request(
        running.base + load.path,
        method=load.method,
        headers=load.headers,
        data=load.body.encode() if load.body is not None else None,
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    if status != load.expect_status:
        raise SystemExit(
            f"{load.label}: {load.method} {load.path} answered {status}, "
            f"expected {load.expect_status}: {raw[:500]!r}"
        )
    return json.loads(raw)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rps or not total:
        raise ValueError("unexpected wrk output:\n" + out)
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "p50_ms": pct.get("50"),
        "p90_ms": pct.get("90"),
        "p99_ms": pct.get("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn --workers N: the supervisor and workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants (Linux), to report server CPU per
    request: a figure far less sensitive to other load on the machine than req/s."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan") if p == pid else total
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    return inodes


def _tcp_sockets() -> dict[str, tuple[int, int]]:
    """inode -> (local port, remote port) of every TCP socket (Linux)."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                out[f[9]] = (int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16))
    return out


def _db_backends(pid: int, db_port: int = 5432) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the server `pid`'s connections:
    the database side of its work, which req/s differences alone cannot separate from noise.
    Found through /proc: the server's sockets to the database port, then the postgres
    processes holding their other ends (needs to read their /proc/<pid>/fd: same user or root,
    else nothing is found and the figure reads 0)."""
    sockets = _tcp_sockets()
    ours = {
        p
        for pid_ in _tree(pid)
        for i in _socket_inodes(pid_)
        if i in sockets
        for p in [sockets[i]]
        if p[1] == db_port
    }
    ports = {local for local, _ in ours}
    if not ports:
        return {}
    out: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                ends = (sockets.get(i) for i in _socket_inodes(int(proc.name)))
                if any(e is not None and e[0] == db_port and e[1] in ports for e in ends):
                    out[int(proc.name)] = _cpu_seconds(int(proc.name))
    return out


def _rss_mb(pid: int) -> list[float]:
    """Resident memory (MB) of each serving process: the workers when there are any."""
    procs = _tree(pid)
    out = []
    for p in procs[1:] or procs:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        kb = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if kb:
            out.append(round(int(kb.group(1)) / 1024, 1))
    return out


def run_wrk(running: Running, load: Load, *, duration: float, opts: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_lua(load))
        script = fh.name
    try:
        argv = [
            "wrk",
            f"-t{opts.threads}",
            f"-c{opts.connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            script,
            running.base + load.path,
        ]
        cpu0, db0 = _cpu_seconds(running.proc.pid), _db_backends(running.proc.pid)
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        cpu = _cpu_seconds(running.proc.pid) - cpu0
        db1 = _db_backends(running.proc.pid)
        db_cpu = sum(t - db0.get(p, 0.0) for p, t in db1.items())
    finally:
        os.unlink(script)
    result = parse_wrk(out)
    result["cpu_ms_per_req"] = round(1000 * cpu / max(1, result["requests"]), 3)
    # The database backends' CPU for the same requests (0 for a server not on PostgreSQL).
    result["db_cpu_ms_per_req"] = round(1000 * db_cpu / max(1, result["requests"]), 3)
    result["rss_mb"] = _rss_mb(running.proc.pid)
    return result


# ---------------------------------------------------------------- scenarios


def _ids(body: Any) -> list[str]:
    return [str(d.get("id")) for d in body.get("data", [])] if isinstance(body, dict) else []


def run_scenario(sc: Scenario, opts: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {sc.name}: {sc.description}", flush=True)
    running: dict[str, Running] = {}
    runs: dict[str, list[dict]] = {load.label: [] for load in sc.loads}
    try:
        for server in sc.servers:
            running[server.name] = start(server)
        first = {load.label: preflight(running[load.server], load) for load in sc.loads}
        for a, b in sc.same_ids:
            if _ids(first[a]) != _ids(first[b]):
                raise SystemExit(f"{a} and {b} do not return the same rows; not comparable")
        if sc.verify is not None:
            sc.verify(first)
        for load in sc.loads:
            if opts.warmup > 0:
                run_wrk(running[load.server], load, duration=opts.warmup, opts=opts)
        for rep in range(opts.repeats):
            # A B, then B A: a drift over the run (tables grow under writes) hits both alike.
            for load in sc.loads if rep % 2 == 0 else list(reversed(sc.loads)):
                r = run_wrk(running[load.server], load, duration=opts.duration, opts=opts)
                runs[load.label].append(r)
                bad = r["non_2xx"] + r["socket_errors"]
                print(
                    f"  [{rep + 1}/{opts.repeats}] {load.label:<18} {r['rps']:>9.1f} req/s  "
                    f"p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms  "
                    f"cpu {r['cpu_ms_per_req']:.2f} + db {r['db_cpu_ms_per_req']:.2f} ms/req  "
                    f"rss {r['rss_mb']} MB" + (f"  ERRORS {bad}" if bad else ""),
                    flush=True,
                )
    finally:
        for r in running.values():
            stop(r)
    loads = {}
    for label, rs in runs.items():
        best = max(rs, key=lambda r: r["rps"])
        loads[label] = {
            "best": best,
            "spread_rps": [min(r["rps"] for r in rs), max(r["rps"] for r in rs)],
            # The least server CPU per request seen: the run least disturbed by other load.
            "cpu_ms_per_req": min(r["cpu_ms_per_req"] for r in rs),
            "db_cpu_ms_per_req": min(r.get("db_cpu_ms_per_req", 0.0) for r in rs),
            "runs": rs,
        }
    checks = [_check(c, loads) for c in sc.checks]
    return {"description": sc.description, "loads": loads, "checks": checks}


def _check(c: Check, loads: dict[str, Any]) -> dict[str, Any]:
    """Decided on the median of the per-repeat ratios (each repeat runs subject and
    reference back to back); the ratio of the two best runs is kept for comparison."""
    pairs = list(zip(loads[c.subject]["runs"], loads[c.reference]["runs"], strict=True))
    ratios = sorted(s["rps"] / r["rps"] for s, r in pairs)
    best = loads[c.subject]["best"]["rps"] / loads[c.reference]["best"]["rps"]
    ratio = statistics.median(ratios)
    # The same pairs in CPU (the server's and its database backends') per request: what the
    # subject costs the machine, much less sensitive to other load than req/s.
    cpu = statistics.median(_total_cpu(s) / _total_cpu(r) for s, r in pairs)
    if c.kind == "ratio":
        value, ok, of_best = ratio, ratio >= c.limit, best
    else:
        value, ok, of_best = 1 - ratio, 1 - ratio <= c.limit, 1 - best
    return {
        **asdict(c),
        "value": round(value, 4),
        "ok": ok,
        "of_best_runs": round(of_best, 4),
        "per_repeat": [round(r if c.kind == "ratio" else 1 - r, 4) for r in ratios],
        "cpu_per_request_ratio": round(cpu, 4),
    }


def _total_cpu(run: dict[str, Any]) -> float:
    return run["cpu_ms_per_req"] + run.get("db_cpu_ms_per_req", 0.0)


def print_report(results: dict[str, Any], opts: argparse.Namespace) -> None:
    print(
        f"\nResults (best of {opts.repeats} runs of {opts.duration:g}s, wrk -t{opts.threads} "
        f"-c{opts.connections}; spread = min–max req/s over the runs)"
    )
    head = (
        f"{'scenario':<10} {'load':<18} {'req/s':>9} {'spread':>17} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'cpu ms/req':>11} {'db ms/req':>10}"
    )
    print(head)
    print("-" * len(head))
    for name, res in results.items():
        for label, load in res["loads"].items():
            b = load["best"]
            lo, hi = load["spread_rps"]
            err = b["non_2xx"] + b["socket_errors"]
            print(
                f"{name:<10} {label:<18} {b['rps']:>9.1f} {f'{lo:.0f}–{hi:.0f}':>17} "
                f"{b['p50_ms']:>8.2f} {b['p99_ms']:>8.2f} {load['cpu_ms_per_req']:>11.2f} "
                f"{load['db_cpu_ms_per_req']:>10.2f}" + (f"  errors={err}" if err else "")
            )
    print()
    for name, res in results.items():
        for c in res["checks"]:
            op = "≥" if c["kind"] == "ratio" else "≤"
            shown = f"{c['value']:.2f}" if c["kind"] == "ratio" else f"{c['value'] * 100:.1f}%"
            limit = f"{c['limit']:.2f}" if c["kind"] == "ratio" else f"{c['limit'] * 100:.0f}%"
            verdict = "ok" if c["ok"] else "MISSED"
            fmt = "{:.2f}" if c["kind"] == "ratio" else "{:.1%}"
            each = ", ".join(fmt.format(v) for v in c["per_repeat"])
            print(
                f"{name:<10} {c['label']:<24} {shown:>7}  (target {op} {limit})  {verdict}"
                f"  [median of {len(c['per_repeat'])} repeats: {each}; "
                f"of the best runs {fmt.format(c['of_best_runs'])}; "
                f"CPU per request, app + database, {c['cpu_per_request_ratio']:.2f}×]"
            )


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk not found; installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required: apt-get install -y wrk")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help=f"scenario(s) to run, comma-separated (default all: {', '.join(SCENARIOS)})",
    )
    parser.add_argument("--duration", type=float, default=12, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per load")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--stories", type=int, default=None, help="stories to seed (10,000; --scale 1,000,000)"
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="COPY --stories across --products (bench/seed_scale.py) instead of one product",
    )
    parser.add_argument("--products", type=int, default=200, help="with --scale")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep BENCH_DB as a previous run seeded it"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server (the bench creates rounds_bench there)",
    )
    parser.add_argument("--label", default=None, help="also save results as <label>.json")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="serve the app from this copy of the tree (A/B two versions on one machine)",
    )
    opts = parser.parse_args()

    names = [n.strip() for arg in opts.only for n in arg.split(",") if n.strip()] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")

    ensure_wrk()
    RESULTS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if opts.stories is None:
        opts.stories = 1_000_000 if opts.scale else 10_000
    prepared = prepare(
        opts.pg, opts.stories, opts.products if opts.scale else None, reuse=opts.reuse_db
    )
    env = replace(prepared, app_dir=opts.app_dir.resolve())
    results = {name: run_scenario(SCENARIOS[name](env), opts) for name in names}
    print_report(results, opts)

    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "options": {
            k: getattr(opts, k)
            for k in ("duration", "warmup", "repeats", "connections", "threads", "stories", "scale")
        },
        "scenarios": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(doc, indent=2))
    if opts.label:
        (RESULTS / f"{opts.label}.json").write_text(json.dumps(doc, indent=2))
    print(f"\nwrote {RESULTS / 'latest.json'} ({time.perf_counter() - t0:.0f}s total)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

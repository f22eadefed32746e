"""Benchmark scenarios: what to serve, what load to put on it, and which ratios must hold.

A scenario is a function registered with `@scenario("name")` that receives the prepared
`BenchEnv` (database, token, seeded ids) and returns a `Scenario`: the servers it needs
(any command that listens on `{port}`), the loads (`wrk` runs against one server each) and
the checks comparing loads. `bench/run.py` starts the servers, runs the loads alternately
(round-robin, `--repeats` times) on the same machine, and reports.

Adding a scenario (e.g. GraphQL vs PostGraphile) is one more decorated function here:
declare a `Server` with its own argv/env, `Load`s with method/path/body, and `Check`s.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchEnv:
    """What the harness prepared before the scenarios run."""

    database_url: str  # postgresql+asyncpg://… of the seeded bench database
    token: str  # bearer token of an engineer who is a member of the product
    product_id: str
    var_dir: Path  # the app's var dir (built-in issuer key) for this bench
    python: str = sys.executable
    app_dir: Path = ROOT  # the tree the app is served from (--app-dir: A/B another checkout)


@dataclass(frozen=True)
class Server:
    """A process to benchmark; `{port}` in argv is replaced by a free port."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/"  # any HTTP answer on this path means "accepting requests"
    cwd: Path = ROOT


@dataclass(frozen=True)
class Load:
    """One wrk run against one server."""

    label: str
    server: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expect_status: int = 200


@dataclass(frozen=True)
class Check:
    """`ratio`: subject req/s ÷ reference req/s must be ≥ limit.
    `overhead`: 1 − subject req/s ÷ reference req/s must be ≤ limit."""

    label: str
    kind: Literal["ratio", "overhead"]
    subject: str
    reference: str
    limit: float


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    servers: list[Server]
    loads: list[Load]
    checks: list[Check]
    # Pairs of loads whose first responses must list the same ids (same query, same rows).
    same_ids: list[tuple[str, str]] = field(default_factory=list)
    # Called with {load label: first response body} before measuring; raises if not comparable.
    verify: Callable[[dict], None] | None = None


SCENARIOS: dict[str, Callable[[BenchEnv], Scenario]] = {}


def scenario(name: str) -> Callable[[Callable[[BenchEnv], Scenario]], Callable]:
    def register(fn: Callable[[BenchEnv], Scenario]) -> Callable[[BenchEnv], Scenario]:
        SCENARIOS[name] = fn
        return fn

    return register


def uvicorn_server(
    env: BenchEnv, name: str, target: str, extra_env: dict[str, str] | None = None
) -> Server:
    """A 1-worker uvicorn (uvloop + httptools, no access log), the same for app and baseline."""
    return Server(
        name=name,
        argv=(
            env.python,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ),
        env={
            "DATABASE_URL": env.database_url,
            "ENVIRONMENT": "development",
            "VAR_DIR": str(env.var_dir),
            "DB_ECHO": "false",
            **(extra_env or {}),
        },
    )


def app_server(
    env: BenchEnv, name: str = "app", *, audit: bool = True, extra: dict[str, str] | None = None
) -> Server:
    # 20 pooled connections, like the baseline's asyncpg pool (max_size=20).
    server = uvicorn_server(
        env,
        name,
        "app.main:create_app",
        {"AUDIT_ENABLED": "true" if audit else "false", "DB_POOL_SIZE": "20", **(extra or {})},
    )
    return replace(server, cwd=env.app_dir)


def baseline_server(env: BenchEnv) -> Server:
    return uvicorn_server(env, "baseline", "bench.baseline_app:create_app")


def _auth(env: BenchEnv) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.token}"}


def story_body(env: BenchEnv) -> str:
    """A valid POST /api/v1/stories body: Connextra fields, Gherkin criteria, labels."""
    return json.dumps(
        {
            "product_id": env.product_id,
            "title": "Show the sepsis risk trend on the patient banner",
            "persona": "ICU nurse",
            "as_a": "an ICU nurse",
            "i_want": "to see how the sepsis risk score moved over the last 12 hours",
            "so_that": "I can escalate early when the trend turns",
            "description": "Sparkline next to the score; tap opens the contributing vitals.",
            "acceptance_criteria": [
                {
                    "given": "a patient with at least two scores",
                    "when": "the banner renders",
                    "then": "a sparkline of the last 12 hours is shown",
                },
                {
                    "given": "a score above the alert threshold",
                    "when": "the trend rises",
                    "then": "the sparkline is drawn in the alert colour",
                },
            ],
            "story_points": 3,
            "sprint": "2026-S04",
            "labels": ["sepsis", "banner", "nursing"],
        }
    )


STORIES_PATH = "/api/v1/stories?limit=50"


@scenario("stories")
def stories_vs_baseline(env: BenchEnv) -> Scenario:
    """GET /api/v1/stories?limit=50: the full app vs a raw asyncpg + Starlette floor."""
    return Scenario(
        name="stories",
        description="GET /api/v1/stories?limit=50, app (auth + audit) vs raw asyncpg baseline",
        servers=[app_server(env), baseline_server(env)],
        loads=[
            Load("app", "app", STORIES_PATH, headers=_auth(env)),
            Load("baseline", "baseline", STORIES_PATH),
        ],
        # Issue #17: ≥ 0.6 (was 0.5).
        checks=[Check("app / baseline req/s", "ratio", "app", "baseline", 0.6)],
        same_ids=[("app", "baseline")],
    )


@scenario("audit")
def audit_cost(env: BenchEnv) -> Scenario:
    """What the audit trail costs: the same app with AUDIT_ENABLED on and off."""
    post = {**_auth(env), "Content-Type": "application/json"}
    body = story_body(env)
    return Scenario(
        name="audit",
        description="audit on vs AUDIT_ENABLED=false, GET list and POST create",
        servers=[app_server(env, "app"), app_server(env, "app-noaudit", audit=False)],
        loads=[
            Load("read audit=on", "app", STORIES_PATH, headers=_auth(env)),
            Load("read audit=off", "app-noaudit", STORIES_PATH, headers=_auth(env)),
            Load(
                "write audit=on",
                "app",
                "/api/v1/stories",
                method="POST",
                headers=post,
                body=body,
                expect_status=201,
            ),
            Load(
                "write audit=off",
                "app-noaudit",
                "/api/v1/stories",
                method="POST",
                headers=post,
                body=body,
                expect_status=201,
            ),
        ],
        checks=[
            Check("audit cost on reads", "overhead", "read audit=on", "read audit=off", 0.10),
            Check("audit cost on writes", "overhead", "write audit=on", "write audit=off", 0.15),
        ],
        same_ids=[("read audit=on", "read audit=off")],
    )


@scenario("outbox")
def outbox_cost(env: BenchEnv) -> Scenario:
    """What the change-feed outbox costs a write: POST story with FEED_OUTBOX on and off
    (delivery workers off on both: the cost measured is the event row in the transaction)."""
    post = {**_auth(env), "Content-Type": "application/json"}
    body = story_body(env)
    quiet = {"WEBHOOK_WORKER": "false"}
    return Scenario(
        name="outbox",
        description="POST /api/v1/stories with the change-feed outbox on vs FEED_OUTBOX=false",
        servers=[
            app_server(env, "app-outbox", extra=quiet),
            app_server(env, "app-nooutbox", extra={**quiet, "FEED_OUTBOX": "false"}),
        ],
        loads=[
            Load(
                "write outbox=on",
                "app-outbox",
                "/api/v1/stories",
                method="POST",
                headers=post,
                body=body,
                expect_status=201,
            ),
            Load(
                "write outbox=off",
                "app-nooutbox",
                "/api/v1/stories",
                method="POST",
                headers=post,
                body=body,
                expect_status=201,
            ),
        ],
        checks=[
            Check("outbox cost on writes", "overhead", "write outbox=on", "write outbox=off", 0.10)
        ],
    )


# Scenarios kept in their own modules register themselves on import: "graphql" (Rounds vs
# PostGraphile 5), "stories-fields" and "workers" (bench/rest_bench.py, issue #17).
from bench import graphql_bench, rest_bench  # noqa: E402, F401

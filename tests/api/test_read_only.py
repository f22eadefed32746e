"""GET requests never write: on PostgreSQL they run in autocommit (no BEGIN/COMMIT round trips,
app/db/session.py create_read_sessionmaker), which is only sound while no GET handler changes
data. Every GET operation of the API (taken from the OpenAPI document, so a new route is
covered or fails here) and a GraphQL query over GET are called while a statement listener
records what reaches the database; the only writes allowed are the audit trail's own."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import event, text

from app.main import create_app
from tests.api.factories import World, make_world, new_sub
from tests.conftest import IS_PG

# The request's audit event, and the sealer (its own transaction) run by compliance reads.
AUDIT_WRITES = re.compile(
    r"^\s*(INSERT INTO audit_event\b|INSERT INTO audit_chain\b|DELETE FROM audit_pending\b)",
    re.I,
)
WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE|TRUNCATE|ALTER|CREATE|DROP)\b", re.I
)


@pytest.fixture(scope="module")
async def world(client, auth) -> World:
    w = await make_world(client, auth)
    await w.roadmap_item()
    story = await w.story()
    r = await client.post(
        f"/api/v1/stories/{story['id']}/comments", json={"body": "Read me"}, headers=w.pm
    )
    assert r.status_code == 201, r.text
    interview = await w.interview()
    await w.insight(interview["id"])
    return w


async def _ids(client, w: World, officer: dict[str, str]) -> dict[str, str]:
    async def first(path: str, headers: dict[str, str]) -> str:
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["data"][0]["id"]

    q = f"?product_id={w.pid}"
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://192.88.99.7/hook", "product_id": w.pid},
        headers=w.pm,
    )
    assert hook.status_code == 201, hook.text
    story_ref = await first(f"/api/v1/stories{q}", w.pm)
    return {
        "webhook_id": hook.json()["id"],
        "product_id": w.pid,
        "item_id": await first(f"/api/v1/roadmap-items{q}", w.pm),
        "story_ref": story_ref,
        "interview_id": await first(f"/api/v1/interviews{q}", w.pm),
        "insight_id": await first(f"/api/v1/insights{q}", w.pm),
        "event_id": await first("/api/v1/audit-events?limit=1", officer),
        "comment_id": await first(f"/api/v1/stories/{story_ref}/comments", w.pm),
    }


# GETs with a required query parameter
REQUIRED_QUERY = {"/api/v1/search": "?q=sepsis"}


def _get_paths(app) -> list[str]:
    return [p for p, ops in app.openapi()["paths"].items() if "get" in ops]


@pytest.fixture(scope="module")
async def get_app(settings):
    app = create_app(settings.model_copy(update={"graphql_get_queries": True}))
    yield app
    await app.state.engine.dispose()


@pytest.fixture(scope="module")
async def get_client(get_app):
    transport = httpx.ASGITransport(app=get_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_get_requests_write_nothing_but_their_audit_event(
    app, client, auth, world, get_app, get_client
):
    officer = auth("compliance_officer", new_sub("co"))
    ids = await _ids(client, world, officer)
    calls: list[tuple[str, dict[str, str]]] = []
    for template in _get_paths(app):
        names = re.findall(r"{(\w+)}", template)
        missing = [n for n in names if n not in ids]
        assert not missing, f"add an id for {missing} of GET {template} to this test"
        path = template.format(**ids) + REQUIRED_QUERY.get(template, "")
        headers = officer if path.startswith("/api/v1/audit-events") else world.pm
        calls.append((path, headers))
    # A first-time caller: /me used to remember the person (an upsert) on a GET.
    calls.append(("/api/v1/me", auth("engineer", new_sub("newcomer"))))

    writes: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if WRITE.match(statement) and not AUDIT_WRITES.match(statement):
            writes.append(statement.split("\n", 1)[0][:120])

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    get_engine = get_app.state.engine.sync_engine
    event.listen(get_engine, "before_cursor_execute", on_execute)
    try:
        for path, headers in calls:
            for method in ("GET", "HEAD"):
                r = await client.request(method, path, headers=headers)
                assert r.status_code in (200, 405), (method, path, r.status_code, r.text)
                assert r.status_code == 200 or method == "HEAD", (path, r.text)
        # A query operation over POST runs in autocommit too (UnitOfWork.read_only).
        r = await client.post("/graphql", json={"query": READ_EVERYTHING}, headers=world.pm)
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        # GraphQL over GET (on only in development, docs/graphql.md) reads only too.
        r = await get_client.get("/graphql?query=%7Bme%7Bsub%20productIds%7D%7D", headers=world.pm)
        assert r.status_code == 200 and "errors" not in r.json(), r.text
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(get_engine, "before_cursor_execute", on_execute)
    assert writes == []
    assert len(calls) >= 17


# Nested pages name their size: three levels of default pages (50·50·50) exceed the query
# cost limit (GRAPHQL_MAX_COST, docs/graphql.md#limits).
READ_EVERYTHING = """{
  me { sub productIds }
  products(first: 10) {
    nodes { key roadmapItems(first: 10) { nodes { title stories(first: 10) { nodes { key } } } } }
  }
  stories { totalCount nodes { key roadmapItem { title } product { key } } }
  interviews { nodes { title transcript insights { nodes { quote } } } }
  insights { nodes { title interview { title } } }
}"""


async def test_people_are_remembered_on_writes(client, auth, raw_sql):
    sub = new_sub("pm")
    await client.get("/api/v1/me", headers=auth("product_manager", sub))
    assert await raw_sql("SELECT count(*) FROM user_account WHERE sub = :s", s=sub) == 0
    await make_world(client, lambda role, _sub=None: auth(role, sub))
    assert await raw_sql("SELECT role FROM user_account WHERE sub = :s", s=sub) == (
        "product_manager"
    )


@pytest.mark.skipif(not IS_PG, reason="SQLite keeps transactional read sessions")
async def test_read_sessions_autocommit_on_postgresql(app):
    async with app.state.read_sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        raw = await (await session.connection()).get_raw_connection()
        assert not raw.driver_connection.is_in_transaction()  # no BEGIN was sent
    async with app.state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection.is_in_transaction()


@pytest.fixture
def raw_sql(app):
    async def scalar(sql: str, **params):
        async with app.state.sessionmaker() as session:
            return await session.scalar(text(sql), params)

    return scalar


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL setting")
async def test_connections_run_without_jit(app):
    """JIT compilation costs tens of milliseconds per execution of a statement whose
    estimated cost passes jit_above_cost (the nested GraphQL pages on large tables)."""
    async with app.state.read_sessionmaker() as session:
        assert (await session.execute(text("SHOW jit"))).scalar() == "off"

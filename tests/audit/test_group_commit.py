"""Group commit of audit events that commit alone (reads, failed requests) on PostgreSQL:
every request still gets exactly one durable event before its response, concurrent events
share commits, a refused event fails only its own request, a cancelled request does not
cancel its neighbours' flush, and shutdown drains the queue. SQLite keeps the event on the
request's own connection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.engine import make_url

from app.audit.chain import verify
from app.audit.record import AuditRecord
from app.audit.sealer import seal_all
from app.audit.writer import event_values
from app.main import create_app
from tests.api.factories import assert_problem, make_world
from tests.conftest import IS_PG

pytestmark = pytest.mark.asyncio
pg_only = pytest.mark.skipif(not IS_PG, reason="group commit: PostgreSQL only")


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait (polling the event loop) until `predicate()` holds."""
    async with asyncio.timeout(within):
        # Polling: the batcher's state has no event to wait on, and must not need one.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def inserts_blocked(url: str) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Hold a lock that makes every INSERT into audit_event wait; yields a release function
    (also called on exit). Lets a test queue events behind a flush that is in flight."""
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    tr = conn.transaction()
    await tr.start()
    await conn.execute("LOCK TABLE audit_event IN SHARE MODE")
    released = False

    async def release() -> None:
        nonlocal released
        if not released:
            released = True
            await tr.rollback()

    try:
        yield release
    finally:
        await release()
        await conn.close()


@pytest.fixture(scope="module")
async def world(iso_client, auth):
    w = await make_world(iso_client, auth)
    await w.story()
    return w


async def count_events(raw, rids: list[str]) -> dict[str, int]:
    rows = await raw.fetch(
        # HTTP requests: the caller's id is client_request_id; events appended directly
        # (AuditRecord(request_id=…)) carry it as request_id.
        "SELECT coalesce(client_request_id, request_id) AS rid, count(*) AS n "
        "FROM audit_event GROUP BY coalesce(client_request_id, request_id)",
    )
    found = {r["rid"]: r["n"] for r in rows}
    return {rid: found.get(rid, 0) for rid in rids}


async def test_batcher_only_on_postgresql_and_when_on(app, settings):
    assert (app.state.batcher is not None) == IS_PG
    off = create_app(settings.model_copy(update={"audit_group_commit": False}))
    try:
        assert off.state.batcher is None
    finally:
        await off.state.engine.dispose()


@pg_only
async def test_concurrent_reads_share_commits(iso_app, iso_client, iso_raw, world):
    batcher = iso_app.state.batcher
    before = await iso_raw.scalar("SELECT count(*) FROM audit_event")
    batches0, events0 = batcher.batches, batcher.events
    rids = [f"gc-{uuid.uuid4().hex[:12]}-{i}" for i in range(100)]
    url = f"/api/v1/stories?product_id={world.pid}"
    responses = await asyncio.gather(
        *(iso_client.get(url, headers={**world.pm, "X-Request-ID": rid}) for rid in rids)
    )
    assert [r.status_code for r in responses] == [200] * 100
    assert await iso_raw.scalar("SELECT count(*) FROM audit_event") == before + 100
    assert await count_events(iso_raw, rids) == dict.fromkeys(rids, 1)
    assert batcher.events - events0 == 100
    # Events shared commits: fewer flushes than events.
    assert batcher.batches - batches0 < 100 and batcher.largest > 1, (
        batcher.batches - batches0,
        batcher.largest,
    )
    await seal_all(iso_app.state.engine, wait=True)
    async with iso_app.state.sessionmaker() as s:
        result = await verify(s)
    total = await iso_raw.scalar("SELECT count(*) FROM audit_event")
    assert result == {"ok": True, "checked": total, "first_bad_seq": None, "checkpoint_seq": None}


@pg_only
async def test_only_events_with_nothing_to_commit_are_batched(iso_app, iso_client, iso_raw, world):
    batcher = iso_app.state.batcher
    events0 = batcher.events
    ok_rid, bad_rid = f"gc-w-{uuid.uuid4().hex}", f"gc-f-{uuid.uuid4().hex}"
    # A successful write: its event commits in the write's own transaction.
    created = await iso_client.post(
        "/api/v1/stories",
        json={"product_id": world.pid, "title": "Written with its event"},
        headers={**world.pm, "X-Request-ID": ok_rid},
    )
    assert created.status_code == 201
    assert batcher.events == events0
    # A failed write was rolled back: its event goes alone, so through the batcher.
    refused = await iso_client.post(
        "/api/v1/stories",
        json={"product_id": world.pid},
        headers={**world.pm, "X-Request-ID": bad_rid},
    )
    assert_problem(refused, 422)
    assert batcher.events == events0 + 1
    assert await count_events(iso_raw, [ok_rid, bad_rid]) == {ok_rid: 1, bad_rid: 1}


@pytest.fixture
async def refused_request(iso_raw) -> AsyncIterator[str]:
    """A request id whose event the database refuses (a real trigger raises for it only)."""
    rid = f"refuse-{uuid.uuid4().hex}"
    await iso_raw.run(
        """CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'injected audit failure'; END $$""",
        "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_event FOR EACH ROW "
        f"WHEN (NEW.client_request_id = '{rid}') EXECUTE FUNCTION test_refuse_audit()",
    )
    try:
        yield rid
    finally:
        await iso_raw.run(
            "DROP TRIGGER test_refuse_audit ON audit_event", "DROP FUNCTION test_refuse_audit()"
        )


@pg_only
async def test_refused_event_fails_only_its_own_request(
    iso_app, iso_client, iso_raw, iso_url, world, refused_request
):
    batcher = iso_app.state.batcher
    retried0 = batcher.retried
    url = f"/api/v1/stories?product_id={world.pid}"

    def get(rid: str) -> asyncio.Task:
        return asyncio.create_task(iso_client.get(url, headers={**world.pm, "X-Request-ID": rid}))

    rids = [f"gc-n-{uuid.uuid4().hex[:12]}-{i}" for i in range(9)]
    async with inserts_blocked(iso_url) as release:
        # A first flush waits on the lock, so the next ten events queue up behind it and
        # go out together in the following one.
        first = get(f"gc-first-{uuid.uuid4().hex}")
        await until(lambda: batcher.flushing and batcher.queued == 0 and not first.done())
        tasks = [get(rid) for rid in rids[:4]] + [get(refused_request)]
        tasks += [get(rid) for rid in rids[4:]]
        await until(lambda: batcher.queued == 10)
        await release()
        responses = await asyncio.gather(first, *tasks)
    assert responses[0].status_code == 200
    by_rid = dict(zip([*rids[:4], refused_request, *rids[4:]], responses[1:], strict=True))
    assert_problem(by_rid[refused_request], 503)
    assert [by_rid[rid].status_code for rid in rids] == [200] * 9
    assert batcher.retried == retried0 + 1
    counts = await count_events(iso_raw, [*rids, refused_request])
    assert counts == {**dict.fromkeys(rids, 1), refused_request: 0}


@pg_only
async def test_cancelled_request_does_not_cancel_the_flush(
    iso_app, iso_client, iso_raw, iso_url, world
):
    batcher = iso_app.state.batcher
    url = f"/api/v1/stories?product_id={world.pid}"
    rids = [f"gc-c-{uuid.uuid4().hex[:12]}-{i}" for i in range(6)]

    def get(rid: str) -> asyncio.Task:
        return asyncio.create_task(iso_client.get(url, headers={**world.pm, "X-Request-ID": rid}))

    async with inserts_blocked(iso_url) as release:
        tasks = [get(rids[0])]
        await until(lambda: batcher.flushing and batcher.queued == 0)
        tasks += [get(rid) for rid in rids[1:]]
        await until(lambda: batcher.queued == 5)
        # The client of the request whose event is in the blocked flush goes away, and the
        # client of one that is queued behind it.
        tasks[0].cancel()
        tasks[3].cancel()
        await asyncio.sleep(0.05)
        await release()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert isinstance(results[3], asyncio.CancelledError)
    assert [r.status_code for i, r in enumerate(results) if i not in (0, 3)] == [200] * 4
    await until(lambda: not batcher.flushing)
    # Every event is written, the cancelled requests' included.
    assert await count_events(iso_raw, rids) == dict.fromkeys(rids, 1)


@pg_only
async def test_shutdown_drains_the_queue(iso_settings, iso_raw, iso_url):
    application = create_app(iso_settings.model_copy(update={"gc_tuning": False}))
    batcher = application.state.batcher
    rids = [f"gc-d-{uuid.uuid4().hex[:12]}-{i}" for i in range(20)]
    values = [
        event_values(AuditRecord(request_id=rid, http_method="GET", path="/api/v1/me"), 200)
        for rid in rids
    ]
    async with inserts_blocked(iso_url) as release:
        async with application.router.lifespan_context(application):
            waiters = [asyncio.create_task(batcher.append(v)) for v in values[:5]]
            await until(lambda: batcher.flushing and batcher.queued == 0)
            waiters += [asyncio.create_task(batcher.append(v)) for v in values[5:]]
            await until(lambda: batcher.queued == 15)
            # Shutdown starts while a flush waits and 15 events are queued behind it.
            releaser = asyncio.create_task(released_later(release))
        # The lifespan returned (engine disposed) only after every event was committed.
        assert not batcher.flushing and batcher.queued == 0
        assert await count_events(iso_raw, rids) == dict.fromkeys(rids, 1)
        assert releaser.done()
    assert await asyncio.gather(*waiters) == [None] * 20


async def released_later(release: Callable[[], Awaitable[None]]) -> None:
    await asyncio.sleep(0.2)
    await release()


@pg_only
async def test_graphql_queries_read_like_gets(iso_app, iso_client, iso_raw, world):
    """A query operation switches its request to autocommit reads (UnitOfWork.read_only),
    so its event is group-committed like a GET's; a mutation keeps its event in its own
    transaction."""
    batcher = iso_app.state.batcher
    query = {"query": "query Q($id: ID!) { product(id: $id) { key stories { nodes { key } } } }"}
    mutation = {
        "query": "mutation M($input: StoryCreateInput!) { createStory(input: $input) { id } }",
        "variables": {"input": {"productId": world.pid, "title": "Created over GraphQL"}},
    }
    rids = [f"gc-q-{uuid.uuid4().hex}", f"gc-m-{uuid.uuid4().hex}"]
    events0 = batcher.events
    r = await iso_client.post(
        "/graphql",
        json={**query, "variables": {"id": world.pid}},
        headers={**world.pm, "X-Request-ID": rids[0]},
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert batcher.events == events0 + 1
    r = await iso_client.post(
        "/graphql", json=mutation, headers={**world.pm, "X-Request-ID": rids[1]}
    )
    assert r.status_code == 200 and r.json()["data"]["createStory"]["id"], r.text
    assert batcher.events == events0 + 1
    assert await count_events(iso_raw, rids) == dict.fromkeys(rids, 1)


async def test_read_only_switch_happens_only_before_the_database_is_used(app):
    """UnitOfWork.read_only takes a request to autocommit reads only while nothing ran."""
    from sqlalchemy import text

    from app.db.session import UnitOfWork

    fresh = UnitOfWork(app.state.sessionmaker)
    assert fresh.read_only(app.state.read_sessionmaker) is IS_PG
    used = UnitOfWork(app.state.sessionmaker)
    await used.session.execute(text("SELECT 1"))
    try:
        assert used.read_only(app.state.read_sessionmaker) is False
        assert used.autocommit is False
    finally:
        await used.close()
    made = UnitOfWork(app.state.sessionmaker)
    session = made.session  # created (as the GraphQL context does) but not used yet
    try:
        assert made.read_only(app.state.read_sessionmaker) is IS_PG
        await session.execute(text("SELECT 1"))
        if IS_PG:
            raw = await (await session.connection()).get_raw_connection()
            assert not raw.driver_connection.is_in_transaction()  # autocommit: no BEGIN
    finally:
        await made.close()
        await fresh.close()

"""Every audited request leaves an event; failures to record it fail closed; the chain holds
under concurrent writers; no PHI reaches audit events or logs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpx
import orjson
import pytest

from app.api.deps import Context
from app.audit.chain import verify
from app.audit.sealer import seal_all
from app.main import create_app
from tests.api.factories import assert_problem, make_world, new_sub
from tests.conftest import IS_PG, unique_key

pytestmark = pytest.mark.asyncio


def ids_of(event: dict[str, Any]) -> list[str]:
    value = event["resource_ids"]
    return orjson.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
async def boom_client(settings):
    """A test-only app instance (never the product) with a route that crashes, and a small
    body limit so a 413 is cheap."""
    application = create_app(settings.model_copy(update={"max_body_bytes": 4096}))

    async def explode(ctx: Context) -> dict:
        raise RuntimeError("boom")

    application.router.add_api_route("/api/v1/test-only/explode", explode, methods=["POST"])
    transport = httpx.ASGITransport(
        app=application, client=("203.0.113.7", 50000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await application.state.engine.dispose()


async def test_every_request_yields_an_event(boom_client, auth, raw):
    c = boom_client
    w = await make_world(c, auth)
    story = await w.story()
    eng_sub = new_sub("eng")
    eng = auth("engineer", eng_sub)
    cases: list[tuple[str, str, dict[str, Any], int, str, str | None, str]] = [
        # (method, url, kwargs, status, outcome, actor, action)
        (
            "GET",
            f"/api/v1/stories/{story['id']}",
            {"headers": w.pm},
            200,
            "success",
            w.pm_sub,
            "read",
        ),
        (
            "POST",
            "/api/v1/stories",
            {"headers": w.pm, "json": {"product_id": w.pid, "title": "Audited"}},
            201,
            "success",
            w.pm_sub,
            "create",
        ),
        ("GET", "/api/v1/products", {}, 401, "denied", None, "auth_failed"),
        (
            "GET",
            "/api/v1/products",
            {"headers": {"Authorization": "Bearer x.y.z"}},
            401,
            "denied",
            None,
            "auth_failed",
        ),
        (
            "POST",
            "/api/v1/products",
            {"headers": eng, "json": {"key": unique_key(), "name": "x"}},
            403,
            "denied",
            eng_sub,
            "access_denied",
        ),
        (
            "GET",
            f"/api/v1/stories/{uuid.uuid4()}",
            {"headers": w.pm},
            404,
            "denied",
            w.pm_sub,
            "read",
        ),
        (
            "POST",
            "/api/v1/products",
            {"headers": w.pm, "json": {"key": w.key, "name": "dup"}},
            409,
            "error",
            w.pm_sub,
            "create",
        ),
        (
            "PATCH",
            f"/api/v1/stories/{story['id']}",
            {"headers": {**w.pm, "If-Match": '"99"'}, "json": {"title": "stale"}},
            412,
            "error",
            w.pm_sub,
            "update",
        ),
        (
            "POST",
            "/api/v1/stories",
            {"headers": w.pm, "content": b"x" * 5000},
            413,
            "error",
            None,
            "create",
        ),
        (
            "POST",
            "/api/v1/stories",
            {"headers": w.pm, "json": {"product_id": w.pid}},
            422,
            "error",
            w.pm_sub,
            "create",
        ),
        (
            "POST",
            "/api/v1/stories",
            {"headers": {**w.pm, "Content-Type": "application/json"}, "content": b"{not json"},
            400,
            "error",
            w.pm_sub,
            "create",
        ),
        (  # the query string is not stored (path only)
            "GET",
            f"/api/v1/stories?product_id={w.pid}&limit=5",
            {"headers": w.pm},
            200,
            "success",
            w.pm_sub,
            "search",
        ),
        ("POST", "/api/v1/test-only/explode", {"headers": w.pm}, 500, "error", w.pm_sub, "create"),
    ]
    sent = []
    for i, (method, url, kw, status, outcome, actor, action) in enumerate(cases):
        rid = f"mix-{uuid.uuid4().hex[:12]}-{i}"
        headers = {**kw.pop("headers", {}), "X-Request-ID": rid, "User-Agent": "audit-test/1"}
        r = await c.request(method, url, headers=headers, **kw)
        assert r.status_code == status, (url, r.status_code, r.text)
        # The server's own id is echoed; the caller's is kept beside it (client_request_id).
        assert r.headers["x-request-id"] != rid and len(r.headers["x-request-id"]) == 32
        if status >= 400:
            assert_problem(r, status)
        sent.append((rid, method, url.split("?")[0], status, outcome, actor, action, r))

    for rid, method, path, status, outcome, actor, action, _ in sent:
        events = await raw.fetch("SELECT * FROM audit_event WHERE client_request_id = :r", r=rid)
        assert len(events) >= 1, (rid, status)
        e = events[0]
        assert (e["status_code"], e["outcome"], e["action"]) == (status, outcome, action), rid
        assert e["http_method"] == method and e["path"] == path
        assert e["source_ip"] == "203.0.113.7" and e["user_agent"] == "audit-test/1"
        if actor is not None:
            assert e["actor_sub"] == actor
        if status >= 400:
            assert e["changed_fields"] in ([], "[]")
    created = sent[1]
    [event] = await raw.fetch(
        "SELECT * FROM audit_event WHERE client_request_id = :r", r=created[0]
    )
    assert ids_of(event) == [created[7].json()["id"]]
    assert event["resource_type"] == "story" and event["product_id"] == w.pid
    assert sent[2][7].json()["status"] == 401 and event["actor_type"] == "user"


async def test_request_id_is_generated_or_sanitized(client, auth, raw):
    pm = auth("product_manager", "pm-rid")
    r = await client.get("/api/v1/products", headers=pm)
    generated = r.headers["x-request-id"]
    assert len(generated) == 32
    evil = await client.get("/api/v1/products", headers={**pm, "X-Request-ID": "a b\tc<script>"})
    assert evil.headers["x-request-id"] != "a b\tc<script>"
    assert (
        len(await raw.fetch("SELECT id FROM audit_event WHERE request_id = :r", r=generated)) == 1
    )


async def test_source_ip_honours_trusted_proxies(app, auth, raw):
    pm = auth("product_manager", "pm-xff")

    async def call(peer: str, xff: str) -> str:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            rid = f"xff-{uuid.uuid4().hex}"
            h = {**pm, "X-Forwarded-For": xff, "X-Request-ID": rid}
            await c.get("/api/v1/products", headers=h)
        [e] = await raw.fetch(
            "SELECT source_ip FROM audit_event WHERE client_request_id = :r", r=rid
        )
        return e["source_ip"]

    # Behind our proxy (127.0.0.1 is trusted by default): the client the proxy saw.
    assert await call("127.0.0.1", "198.51.100.9, 127.0.0.1") == "198.51.100.9"
    # From anywhere else X-Forwarded-For is the caller's claim, not evidence.
    assert await call("203.0.113.50", "198.51.100.9") == "203.0.113.50"


@pytest.fixture
async def failing_audit(raw):
    """Make the event insert fail for real inside the database for one user agent."""
    if raw.pg:
        await raw.run(
            """CREATE OR REPLACE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'injected audit failure'; END $$""",
            "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_event FOR EACH ROW "
            "WHEN (NEW.user_agent = 'fail-audit') EXECUTE FUNCTION test_fail_audit()",
        )
    else:
        await raw.run(
            "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_event "
            "WHEN NEW.user_agent = 'fail-audit' "
            "BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END"
        )
    try:
        yield {"User-Agent": "fail-audit"}
    finally:
        if raw.pg:
            await raw.run(
                "DROP TRIGGER test_fail_audit ON audit_event", "DROP FUNCTION test_fail_audit()"
            )
        else:
            await raw.run("DROP TRIGGER test_fail_audit")


async def test_write_fails_closed_when_event_cannot_be_written(client, auth, raw, failing_audit):
    w = await make_world(client, auth)
    title = f"Never stored {uuid.uuid4().hex}"
    rid = f"fail-{uuid.uuid4().hex}"
    r = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": title},
        headers={**w.pm, **failing_audit, "X-Request-ID": rid},
    )
    assert_problem(r, 503)
    assert r.headers["x-request-id"] != rid
    assert await raw.scalar("SELECT count(*) FROM story WHERE title = :t", t=title) == 0
    listed = await client.get(f"/api/v1/stories?product_id={w.pid}", headers=w.pm)
    assert listed.json()["data"] == []
    assert (
        await raw.scalar("SELECT count(*) FROM audit_event WHERE client_request_id = :r", r=rid)
        == 0
    )
    # The same request with a working audit trail goes through.
    ok = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": title}, headers=w.pm
    )
    assert ok.status_code == 201


async def test_phi_read_fails_closed(client, auth, failing_audit):
    w = await make_world(client, auth)
    interview = await w.interview(
        participant_name="Ottoline Brackenbury",
        participant_contact="ottoline.b@example.org",
        transcript="Ottoline Brackenbury said the pump alarm is silent at night.",
    )
    url = f"/api/v1/interviews/{interview['id']}"
    full = await client.get(url, headers=w.pm)
    assert full.status_code == 200 and full.json()["participant_name"] == "Ottoline Brackenbury"
    r = await client.get(url, headers={**w.pm, **failing_audit})
    assert_problem(r, 503)
    assert "Ottoline" not in r.text and "Brackenbury" not in r.text and "pump" not in r.text
    assert "etag" not in r.headers


@pytest.mark.skipif(not IS_PG, reason="concurrent writers: PostgreSQL only")
async def test_concurrent_writers_keep_a_gap_free_chain(iso_client, iso_app, iso_raw, auth):
    pm_sub = new_sub("pm")
    pm = auth("product_manager", pm_sub)
    r = await iso_client.post(
        "/api/v1/products", json={"key": unique_key("C"), "name": "Load"}, headers=pm
    )
    pid = r.json()["id"]
    engine = iso_app.state.engine
    stop = asyncio.Event()

    async def sealer_worker() -> None:  # several app processes' sealers racing the writers
        while not stop.is_set():
            await seal_all(engine)
            await asyncio.sleep(0.01)

    sealers = [asyncio.create_task(sealer_worker()) for _ in range(3)]
    responses = await asyncio.gather(
        *(
            iso_client.post(
                "/api/v1/stories", json={"product_id": pid, "title": f"Story {i}"}, headers=pm
            )
            for i in range(200)
        )
    )
    stop.set()
    await asyncio.gather(*sealers)
    assert [r.status_code for r in responses] == [201] * 200
    await seal_all(engine, wait=True)
    async with iso_app.state.sessionmaker() as s:
        result = await verify(s)
    events = await iso_raw.scalar("SELECT count(*) FROM audit_event")
    assert result == {"ok": True, "checked": events, "first_bad_seq": None, "checkpoint_seq": None}
    seqs = await iso_raw.fetch(
        "SELECT min(seq) AS lo, max(seq) AS hi, count(*) AS n FROM audit_chain"
    )
    assert seqs == [{"lo": 1, "hi": events, "n": events}]
    keys = {r.json()["key"] for r in responses}
    assert len(keys) == 200


PHI = {
    "participant_name": "Zebulon Quillfeather",
    "participant_contact": "zq.fake@example.org, +1 617-555-0199",
    "transcript": "Zebulon Quillfeather called from +1 617-555-0199 about the infusion pump. "
    "Write to zq.fake@example.org before the review.",
    "summary": "Quillfeather wants quieter alarms; reach him at 617-555-0199.",
}
NEEDLES = (
    "Zebulon",
    "Quillfeather",
    "zq.fake@example.org",
    "617-555-0199",
    "Zebulon Quillfeather called from +1 617-555-0199",
    PHI["summary"],
)
# The redacted renditions ("[NAME] called from [PHONE] …") are not PHI and may appear in
# SQL parameter logs; the identifiers and the original sentences must not.


async def test_no_phi_in_audit_events_or_logs(client, auth, raw, caplog):
    caplog.set_level(logging.DEBUG, logger="rounds")
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    w = await make_world(client, auth)
    interview = await w.interview(**PHI)
    url = f"/api/v1/interviews/{interview['id']}"
    clin_sub = new_sub("clin")
    clin = await w.member("clinician", clin_sub)
    for headers in (w.pm, clin, auth("compliance_officer", "co-phi")):
        assert (await client.get(url, headers=headers)).status_code == 200
    await client.get(f"/api/v1/interviews?product_id={w.pid}", headers=w.pm)
    upd = await client.patch(url, json={"transcript": PHI["transcript"] + " Again."}, headers=w.pm)
    assert upd.status_code == 200
    bad = await client.patch(url, json={"participant_name": 12345, "transcript": 1}, headers=w.pm)
    assert bad.status_code == 422
    assert not any(n in bad.text for n in NEEDLES)
    export = await client.get(
        "/api/v1/audit-events/export", headers=auth("compliance_officer", "co-phi")
    )
    assert export.status_code == 200

    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(name.startswith("sqlalchemy") for name, _ in records), "logs were captured"
    leaks = [(name, n) for name, msg in records for n in NEEDLES if n in msg]
    assert leaks == [], [(n, m[:300]) for n, m in records if any(x in m for x in NEEDLES)][:5]

    rows = await raw.fetch("SELECT * FROM audit_event")
    dump = orjson.dumps(rows, default=str).decode()
    assert [n for n in NEEDLES if n in dump] == []
    assert [n for n in NEEDLES if n in export.text] == []
    mine = [r for r in rows if str(interview["id"]) in str(r["resource_ids"])]
    assert mine and any(r["phi_accessed"] for r in mine)

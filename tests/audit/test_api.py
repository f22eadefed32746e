"""The compliance API over REST: who may use it, filters, pagination, verify, FHIR export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from tests.api.factories import assert_problem, make_world, new_sub, walk

pytestmark = pytest.mark.asyncio

URL = "/api/v1/audit-events"


def co(auth) -> dict[str, str]:
    return auth("compliance_officer", "co-api")


@pytest.mark.parametrize("role", ["product_manager", "engineer", "clinician", "exec", "admin"])
@pytest.mark.parametrize("path", ["", "/verify", "/export?format=fhir", f"/{uuid.uuid4()}"])
async def test_only_compliance_officers(client, auth, raw, role, path):
    sub = new_sub(role)
    r = await client.get(URL + path, headers={**auth(role, sub), "X-Request-ID": f"deny-{sub}"})
    assert_problem(r, 403)
    events = await raw.fetch(
        "SELECT * FROM audit_event WHERE client_request_id = :r", r=f"deny-{sub}"
    )
    assert [(e["action"], e["outcome"], e["actor_sub"]) for e in events] == [
        ("access_denied", "denied", sub)
    ]


async def test_anonymous_is_401(client):
    assert_problem(await client.get(URL), 401)


async def test_list_filters_and_chain_fields(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)
    await client.get(f"/api/v1/stories/{uuid.uuid4()}", headers=w.pm)

    r = await client.get(URL, params={"actor_sub": w.pm_sub}, headers=co(auth))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    events = body["data"]
    # product create, story create, story read, story 404 — newest first
    assert [e["action"] for e in events] == ["read", "read", "create", "create"]
    assert [e["status_code"] for e in events] == [404, 200, 201, 201]
    assert [e["outcome"] for e in events] == ["denied", "success", "success", "success"]
    assert events[1]["path"] == f"/api/v1/stories/{story['id']}"
    assert events[1]["resource_ids"] == [story["id"]] and events[1]["resource_type"] == "story"
    assert events[2]["changed_fields"] and events[2]["product_id"] == w.pid
    for e in events:
        assert e["actor_role"] == "product_manager" and e["actor_type"] == "user"
        assert isinstance(e["seq"], int) and len(e["hash"]) == 64 and len(e["prev_hash"]) == 64
        assert e["source_ip"] == "203.0.113.7" and e["request_id"]

    def only(**params):
        return client.get(URL, params={"actor_sub": w.pm_sub, **params}, headers=co(auth))

    assert [e["status_code"] for e in (await only(outcome="denied")).json()["data"]] == [404]
    assert len((await only(action="create")).json()["data"]) == 2
    assert len((await only(resource_type="story")).json()["data"]) == 3
    by_resource = await client.get(URL, params={"resource_id": story["id"]}, headers=co(auth))
    assert [e["action"] for e in by_resource.json()["data"]] == ["read", "create"]
    first = events[-1]["occurred_at"]
    assert len((await only(since=first)).json()["data"]) == 4
    assert len((await only(until=first)).json()["data"]) == 0
    later = (datetime.fromisoformat(first) + timedelta(days=1)).replace(tzinfo=None)
    assert (await only(since=later.isoformat())).json()["data"] == []  # naive = UTC

    rows = await walk(client, f"{URL}?actor_sub={w.pm_sub}&limit=1", co(auth))
    assert [e["id"] for e in rows] == [e["id"] for e in events]
    oldest_first = await walk(
        client, f"{URL}?actor_sub={w.pm_sub}&limit=3&sort=occurred_at", co(auth)
    )
    assert [e["id"] for e in oldest_first] == [e["id"] for e in reversed(events)]


async def test_list_is_itself_audited(client, auth, raw):
    sub = new_sub("co")
    headers = {**auth("compliance_officer", sub), "X-Request-ID": f"search-{sub}"}
    r = await client.get(URL, params={"limit": 3}, headers=headers)
    returned = [e["id"] for e in r.json()["data"]]
    [event] = await raw.fetch(
        "SELECT action, resource_type, resource_ids FROM audit_event WHERE client_request_id = :r",
        r=f"search-{sub}",
    )
    assert event["action"] == "search" and event["resource_type"] == "audit_event"
    ids = event["resource_ids"]
    assert (orjson.loads(ids) if isinstance(ids, str) else ids) == returned

    one = await client.get(f"{URL}/{returned[0]}", headers=headers)
    assert one.status_code == 200 and one.json()["id"] == returned[0]
    assert_problem(await client.get(f"{URL}/{uuid.uuid4()}", headers=headers), 404)


@pytest.mark.parametrize(
    "query",
    [
        "action=smile",
        "outcome=maybe",
        "since=yesterday",
        "limit=0",
        "limit=500",
        "cursor=abc",
        "sort=actor_sub",
    ],
)
async def test_bad_list_queries_are_422(client, auth, query):
    assert_problem(await client.get(f"{URL}?{query}", headers=co(auth)), 422)


async def test_verify_endpoint(client, auth):
    await client.get("/api/v1/products", headers=auth("product_manager", "pm-verify"))
    r = await client.get(f"{URL}/verify", headers=co(auth))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ok", "checked", "first_bad_seq", "checkpoint_seq"}
    assert body["ok"] is True and body["first_bad_seq"] is None and body["checked"] >= 2


async def test_fhir_export_validates_line_by_line(client, auth, raw):
    w = await make_world(client, auth)
    story = await w.story()
    await client.get(f"/api/v1/products/{uuid.uuid4()}", headers=w.pm)  # 404, denied
    await client.get("/api/v1/products", headers={"Authorization": "Bearer nope"})  # 401

    sub = new_sub("co")
    headers = {**auth("compliance_officer", sub), "X-Request-ID": f"export-{sub}"}
    r = await client.get(f"{URL}/export", params={"format": "fhir"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+ndjson")
    lines = r.content.splitlines()
    total = await raw.scalar("SELECT count(*) FROM audit_event")
    assert total - 1 <= len(lines) <= total  # everything but (maybe) the export's own event

    resources = [FhirAuditEvent.model_validate_json(line) for line in lines]
    by_id = {res.id: res for res in resources}
    assert len(by_id) == len(resources)
    seqs = [orjson.loads(line)["entity"][-1] for line in lines]
    chain = [int(d["valueString"]) for e in seqs for d in e["detail"] if d["type"] == "chain_seq"]
    assert chain == list(range(1, len(chain) + 1)), "exported in chain order"

    mine = [
        r
        for r in resources
        if r.agent[0].who
        and r.agent[0].who.identifier
        and r.agent[0].who.identifier.value == w.pm_sub
    ]
    assert [(m.subtype[0].code, m.action, m.outcome) for m in mine] == [
        ("create", "C", "0"),
        ("create", "C", "0"),
        ("read", "R", "4"),
    ]
    created = mine[1]
    assert created.type.code == "rest"
    assert created.recorded.tzinfo is not None
    assert created.agent[0].requestor is True
    assert created.agent[0].role[0].coding[0].code == "product_manager"
    assert created.agent[0].network.address == "203.0.113.7"
    assert created.source.observer.display == "Rounds"
    whats = [e.what.identifier.value for e in created.entity]
    assert story["id"] in whats
    story_entity = next(e for e in created.entity if e.what.identifier.value == story["id"])
    assert story_entity.type.code == "story"
    request_entity = created.entity[-1]
    details = {d.type: d.valueString for d in request_entity.detail}
    assert details["http_method"] == "POST" and details["path"] == "/api/v1/stories"
    assert details["request_id"]

    failed = [r for r in resources if r.subtype[0].code == "auth_failed"]
    assert failed and all(f.outcome == "4" and f.type.code == "110114" for f in failed)

    [event] = await raw.fetch(
        "SELECT action FROM audit_event WHERE client_request_id = :r", r=f"export-{sub}"
    )
    assert event["action"] == "export"


async def test_unknown_export_format_is_422(client, auth):
    r = await client.get(f"{URL}/export", params={"format": "csv"}, headers=co(auth))
    body = assert_problem(r, 422)
    assert ["query", "format"] in [e["loc"] for e in body["errors"]]


async def test_export_filters(client, auth):
    w = await make_world(client, auth)
    await w.story()
    r = await client.get(
        f"{URL}/export", params={"format": "fhir", "actor_sub": w.pm_sub}, headers=co(auth)
    )
    lines = r.content.splitlines()
    assert len(lines) == 2
    for line in lines:
        FhirAuditEvent.model_validate_json(line)
    since = datetime.now(UTC) + timedelta(hours=1)
    r = await client.get(
        f"{URL}/export", params={"format": "fhir", "since": since.isoformat()}, headers=co(auth)
    )
    assert r.status_code == 200 and r.content == b""

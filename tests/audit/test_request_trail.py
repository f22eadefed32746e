"""What a caller controls never lands verbatim in the audit trail (issue 19 item 16): the
path is the route template with validated ids, the user agent is truncated and scanned, and
the caller's X-Request-Id is kept only beside the server's own request id."""

from __future__ import annotations

import uuid

import httpx

from tests.api.factories import make_world

PHI_PATH = "John Smith DOB 01-02-1960 MRN 778899"


async def event_of(raw, r: httpx.Response) -> dict:
    [e] = await raw.fetch(
        "SELECT * FROM audit_event WHERE request_id = :r", r=r.headers["x-request-id"]
    )
    return e


async def test_unmatched_path_is_a_marker(client, auth, raw):
    pm = auth("product_manager", "trail-pm")
    for url in (f"/api/v1/stories/x/{PHI_PATH}", f"/api/v1/{PHI_PATH}", f"/graphql/{PHI_PATH}"):
        r = await client.get(url, headers=pm)
        assert r.status_code == 404
        e = await event_of(raw, r)
        assert e["path"] == "<unmatched>", e["path"]
        assert "Smith" not in str(e.values())


async def test_matched_path_keeps_ids_and_templates_the_rest(client, auth, raw):
    w = await make_world(client, auth)
    story = await w.story()
    by_id = await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)
    by_key = await client.get(f"/api/v1/stories/{story['key']}", headers=w.pm)
    typed = await client.get(f"/api/v1/stories/{PHI_PATH}", headers=w.pm)
    assert (by_id.status_code, by_key.status_code, typed.status_code) == (200, 200, 404)
    assert (await event_of(raw, by_id))["path"] == f"/api/v1/stories/{story['id']}"
    assert (await event_of(raw, by_key))["path"] == f"/api/v1/stories/{story['key']}"
    assert (await event_of(raw, typed))["path"] == "/api/v1/stories/{story_ref}"
    members = await client.get(f"/api/v1/products/{w.pid}/members", headers=w.pm)
    assert (await event_of(raw, members))["path"] == f"/api/v1/products/{w.pid}/members"
    # Refused before routing (body too large): the documented operation's template.
    big = await client.post(
        "/api/v1/stories",
        content=b"x" * (2 * 1024 * 1024),
        headers={**w.pm, "content-type": "application/json"},
    )
    assert big.status_code == 413
    e = await event_of(raw, big)
    assert (e["path"], e["resource_type"]) == ("/api/v1/stories", "story")


async def test_user_agent_is_truncated_and_scanned(client, auth, raw):
    pm = auth("engineer", "trail-ua")
    long = await client.get("/api/v1/products", headers={**pm, "User-Agent": "A/1 " + "x" * 600})
    assert len((await event_of(raw, long))["user_agent"]) == 256
    phi = await client.get(
        "/api/v1/products",
        headers={**pm, "User-Agent": "curl/8.0 patient John Smith DOB 01/02/1960 617-555-0143"},
    )
    assert (await event_of(raw, phi))["user_agent"] == "<redacted>"
    plain = await client.get("/api/v1/products", headers={**pm, "User-Agent": "rounds-cli/1.2"})
    assert (await event_of(raw, plain))["user_agent"] == "rounds-cli/1.2"
    bot = await client.get(
        "/api/v1/products", headers={**pm, "User-Agent": "Jira-Webhook/1.0 (+https://x.example)"}
    )
    assert (await event_of(raw, bot))["user_agent"] == "Jira-Webhook/1.0 (+[URL])"


async def test_callers_request_id_never_becomes_the_event_request_id(client, auth, raw):
    pm = auth("engineer", "trail-rid")
    mine = f"dup-{uuid.uuid4().hex[:8]}"
    rs = [await client.get("/api/v1/products", headers={**pm, "X-Request-Id": mine}) for _ in "ab"]
    events = [await event_of(raw, r) for r in rs]
    assert len({e["request_id"] for e in events}) == 2
    assert all(e["request_id"] != mine and e["client_request_id"] == mine for e in events)
    junk = await client.get("/api/v1/products", headers={**pm, "X-Request-Id": "a b<script>"})
    assert (await event_of(raw, junk))["client_request_id"] is None

"""Every committed change writes its SPEC §10 event in the same transaction (outbox), from the
audit record's write touches: REST and GraphQL alike, ids and field names only."""

from __future__ import annotations

import json

import pytest

from tests.api.factories import make_world, new_sub
from tests.feed.helpers import events_for

pytestmark = pytest.mark.asyncio

PHI_NAME = "Marguerite Okonkwo-Feld"
PHI_PHONE = "617-555-0199"


async def test_story_lifecycle_events(app, client, auth):
    w = await make_world(client, auth)
    story = await w.story(clinical_review_required=True)
    r = await client.patch(
        f"/api/v1/stories/{story['id']}", json={"sprint": "S7", "story_points": 3}, headers=w.pm
    )
    assert r.status_code == 200, r.text
    clin = await w.member("clinician")
    r = await client.post(
        f"/api/v1/stories/{story['id']}/clinical-review", json={"status": "approved"}, headers=clin
    )
    assert r.status_code == 200, r.text
    r = await client.delete(f"/api/v1/stories/{story['id']}", headers=w.pm)
    assert r.status_code == 200, r.text

    events = await events_for(app, story["id"])
    assert [e["type"] for e in events] == [
        "story.created",
        "story.updated",
        "story.reviewed",
        "story.archived",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    assert sorted(events[1]["changed_fields"]) == ["sprint", "story_points"]
    assert events[2]["changed_fields"] == ["clinical_review"]
    assert all(str(e["product_id"]) == w.pid for e in events)
    assert events[0]["actor_sub"] == w.pm_sub
    assert events[0]["resource_type"] == "story"


async def test_failed_write_and_noop_write_emit_nothing(app, client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    r = await client.patch(
        f"/api/v1/stories/{story['id']}", json={"status": "done"}, headers=w.pm
    )  # backlog -> done is not a move: 409, rolled back
    assert r.status_code == 409
    r = await client.patch(
        f"/api/v1/stories/{story['id']}", json={"title": story["title"]}, headers=w.pm
    )
    assert r.status_code == 200  # same value: nothing changed
    assert [e["type"] for e in await events_for(app, story["id"])] == ["story.created"]


async def test_phi_interview_update_emits_names_not_values(app, client, auth):
    w = await make_world(client, auth)
    interview = await w.interview(
        participant_name=PHI_NAME, transcript=f"{PHI_NAME} can be reached at {PHI_PHONE}."
    )
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"transcript": f"Follow-up: {PHI_NAME} called from {PHI_PHONE} again."},
        headers=w.pm,
    )
    assert r.status_code == 200, r.text
    events = await events_for(app, interview["id"])
    assert [e["type"] for e in events] == ["interview.created", "interview.updated"]
    assert "transcript" in events[1]["changed_fields"]
    text = json.dumps(events, default=str)
    assert PHI_NAME not in text and PHI_PHONE not in text and "Follow-up" not in text


async def test_purge_emits_interview_purged_and_insight_updates(app, client, auth):
    w = await make_world(client, auth)
    interview = await w.interview(participant_name=PHI_NAME)
    insight = await w.insight(interview["id"], quote=f"{PHI_NAME}: too late")
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"consent_status": "withdrawn"}, headers=w.pm
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/interviews/{interview['id']}/purge",
        headers=auth("compliance_officer", new_sub("co")),
    )
    assert r.status_code == 200, r.text
    types = [e["type"] for e in await events_for(app, interview["id"])]
    assert types[-1] == "interview.purged"
    insight_events = await events_for(app, insight["id"])
    assert insight_events[-1]["type"] == "insight.updated"
    assert insight_events[-1]["changed_fields"] == ["quote"]


async def test_members_roadmap_products_and_graphql(app, client, auth):
    w = await make_world(client, auth)
    subject = new_sub("eng")
    r = await client.post(
        f"/api/v1/products/{w.pid}/members", json={"subject": subject}, headers=w.pm
    )
    assert r.status_code == 201
    r = await client.delete(f"/api/v1/products/{w.pid}/members/{subject}", headers=w.pm)
    assert r.status_code == 204
    assert [e["type"] for e in await events_for(app, subject)] == ["member.added", "member.removed"]

    item = await w.roadmap_item()
    r = await client.post(
        f"/api/v1/roadmap-items/{item['id']}/approve", headers=auth("exec", new_sub("exec"))
    )
    assert r.status_code == 200
    assert [e["type"] for e in await events_for(app, item["id"])] == [
        "roadmap_item.created",
        "roadmap_item.approved",
    ]
    assert [e["type"] for e in await events_for(app, w.pid)] == ["product.created"]

    q = """mutation($id: ID!) { updateProduct(id: $id, input: {name: "Renamed"}) { id version } }"""
    r = await client.post("/graphql", json={"query": q, "variables": {"id": w.pid}}, headers=w.pm)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    events = await events_for(app, w.pid)
    assert [e["type"] for e in events] == ["product.created", "product.updated"]
    assert events[1]["changed_fields"] == ["name"]
    assert events[1]["version"] == r.json()["data"]["updateProduct"]["version"]


async def test_emit_adds_an_explicit_event_type():
    """`app.feed.emit`: how a service adds an event its audit touch does not imply."""
    from types import SimpleNamespace

    from app.audit.record import AuditRecord
    from app.feed import emit
    from app.feed.events import events_of

    record = AuditRecord(request_id="r1", http_method="PATCH", path="/api/v1/stories/x")
    record.touch("update", "story", ["s-1"], product_id="p-1", changed=["title"])
    emit(
        SimpleNamespace(audit=record),
        "story.review_reset",
        "story",
        "s-1",
        product_id="p-1",
        changed=["clinical_review"],
    )
    events = events_of(record)
    assert [(e.type, e.resource_id, e.changed_fields) for e in events] == [
        ("story.updated", "s-1", ("title",)),
        ("story.review_reset", "s-1", ("clinical_review",)),
    ]
    assert record.action == "update"  # the audit event itself is unchanged by emit


async def test_gate_invalidations_are_events(app, client, auth):
    """A material change to an approved roadmap item and a content change to a signed-off
    story emit roadmap_item.approval_stale and story.review_reset (issue #15), naming the
    fields that caused them."""
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    url = f"/api/v1/roadmap-items/{item['id']}"
    assert (await client.post(f"{url}/approve", headers=auth("exec"))).status_code == 200
    r = await client.patch(url, json={"effort": 30}, headers=w.pm)
    assert r.status_code == 200 and r.json()["approval_status"] == "stale", r.text
    events = await events_for(app, item["id"])
    assert [e["type"] for e in events][-3:-2] == ["roadmap_item.approved"]
    # one request: both in its transaction
    assert {e["type"] for e in events[-2:]} == {
        "roadmap_item.updated",
        "roadmap_item.approval_stale",
    }
    [stale] = [e for e in events if e["type"] == "roadmap_item.approval_stale"]
    assert stale["changed_fields"] == ["effort"] and str(stale["product_id"]) == w.pid

    story = await w.story(clinical_review_required=True)
    clin = await w.member("clinician")
    surl = f"/api/v1/stories/{story['id']}"
    r = await client.post(f"{surl}/clinical-review", json={"status": "approved"}, headers=clin)
    assert r.status_code == 200, r.text
    r = await client.patch(surl, json={"i_want": "the dose doubled"}, headers=w.pm)
    assert r.status_code == 200 and r.json()["clinical_review"]["status"] == "pending", r.text
    events = await events_for(app, story["id"])
    assert {e["type"] for e in events[-2:]} == {"story.updated", "story.review_reset"}
    [reset] = [e for e in events if e["type"] == "story.review_reset"]
    assert reset["changed_fields"] == ["i_want"]
    # a status move resets nothing and emits no reset
    r = await client.patch(surl, json={"status": "ready"}, headers=w.pm)
    assert r.status_code == 200, r.text
    assert [e["type"] for e in await events_for(app, story["id"])].count("story.review_reset") == 1

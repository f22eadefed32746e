"""The exec-approval gate over REST: the workflow table, direct jumps, approvals of a version
(stale after a material change), the approvals history, and their audit events."""

from __future__ import annotations

from typing import Any

import pytest

from app.roadmap import workflow
from tests.api.factories import assert_problem, error_locs, make_world, new_sub, walk

URL = "/api/v1/roadmap-items"
STATUSES = ["proposed", "planned", "in_progress", "shipped", "cancelled"]
# SPEC §12 as a hand-written table (not read from app code): the moves each status allows.
MOVES = {
    "proposed": {"planned", "in_progress", "shipped", "cancelled"},
    "planned": {"proposed", "in_progress", "shipped", "cancelled"},
    "in_progress": {"planned", "shipped", "cancelled"},
    "shipped": {"in_progress"},
    "cancelled": {"proposed"},
}
GATED = {"in_progress", "shipped"}
MATERIAL = {
    "title": "Quieter alerts",
    "description": "Now with a new scope",
    "horizon": "now",
    "target_quarter": "2027-Q3",
    "reach": 5000,
    "impact": 3.0,
    "confidence": 0.5,
    "effort": 30.0,
}
BASE = {
    "title": "Alert fatigue triage",
    "description": "Fewer false alarms",
    "horizon": "next",
    "target_quarter": "2027-Q1",
    "reach": 100,
    "impact": 1.0,
    "confidence": 0.8,
    "effort": 3.0,
}


def test_workflow_table_matches_spec():
    assert {s: set(workflow.moves(s)) for s in STATUSES} == MOVES
    assert {s for s in STATUSES if workflow.needs_approval(s)} == GATED


async def approve(client, auth, item_id: str, body: Any = None, **headers) -> Any:
    sub = new_sub("exec")
    kw = {} if body is None else {"json": body}
    r = await client.post(
        f"{URL}/{item_id}/approve", headers={**auth("exec", sub), **headers}, **kw
    )
    return r, sub


async def item_in(client, auth, w, status: str, *, approved: bool) -> dict[str, Any]:
    """An item of `w` in `status` whose approval is current (approved) or stale (not)."""
    item = await w.roadmap_item(**BASE)
    url = f"{URL}/{item['id']}"
    if status in GATED or approved:
        r, _ = await approve(client, auth, item["id"])
        assert r.status_code == 200, r.text
    if status != "proposed":
        r = await client.patch(url, json={"status": status}, headers=w.pm)
        assert r.status_code == 200, r.text
    if not approved and status in GATED:
        r = await client.patch(url, json={"effort": 8.0}, headers=w.pm)
        assert r.status_code == 200, r.text
        assert r.json()["approval_status"] == "stale"
    got = (await client.get(url, headers=w.pm)).json()
    assert got["status"] == status
    assert got["approval_status"] == (
        "current" if approved else "stale" if status in GATED else "none"
    )
    return got


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "unapproved"])
@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("start", STATUSES)
async def test_every_move(client, auth, start, target, approved):
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, start, approved=approved)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={"status": target}, headers=w.pm)
    if target == start:
        assert r.status_code == 200 and r.json()["version"] == item["version"]
        return
    allowed_now = sorted(t for t in MOVES[start] if approved or t not in GATED)
    locked = sorted(t for t in MOVES[start] if not approved and t in GATED)
    if target in MOVES[start] and (approved or target not in GATED):
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target
        return
    body = assert_problem(r, 409)
    assert sorted(body["allowed"]) == allowed_now
    assert sorted(body["approval_required"]) == locked
    if target in locked:
        assert body["reason"] == "approval_required"
        assert "approval required" in body["detail"]
    else:
        assert body["reason"] == "not_allowed"
    for name in allowed_now:
        assert name in body["detail"]
    after = (await client.get(url, headers=w.pm)).json()
    assert after == item, "a refused move changes nothing"


async def test_direct_jump_to_shipped_needs_a_current_approval(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(**BASE)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={"status": "shipped"}, headers=w.pm)
    body = assert_problem(r, 409)
    assert body["reason"] == "approval_required"
    assert body["allowed"] == ["planned", "cancelled"]
    assert body["approval_required"] == ["in_progress", "shipped"]
    got = (await client.get(url, headers=w.pm)).json()
    assert got["status"] == "proposed" and got["approved_by"] is None and got["version"] == 1

    ok, exec_sub = await approve(client, auth, item["id"])
    assert ok.status_code == 200
    shipped = await client.patch(url, json={"status": "shipped"}, headers=w.pm)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped" and shipped.json()["approved_by"] == exec_sub


@pytest.mark.parametrize("status", ["in_progress", "shipped"])
async def test_create_in_a_gated_status_is_409_approval_required(client, auth, status):
    w = await make_world(client, auth)
    r = await client.post(
        URL, json={"product_id": w.pid, "title": "x", "status": status}, headers=w.pm
    )
    body = assert_problem(r, 409)
    assert body["reason"] == "approval_required"
    assert body["allowed"] == ["proposed", "planned", "cancelled"]
    listed = await client.get(f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm)
    assert listed.json()["data"] == []


@pytest.mark.parametrize("field", sorted(MATERIAL))
async def test_a_material_change_makes_the_approval_stale(client, auth, field):
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "planned", approved=True)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={field: MATERIAL[field]}, headers=w.pm)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["approval_status"] == "stale"
    assert changed["approved_by"] is None and changed["approved_at"] is None
    assert changed["version"] == item["version"] + 1

    history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert len(history) == 1
    entry = history[0]
    assert entry["status"] == "stale" and entry["current"] is False
    assert entry["stale_fields"] == [field] and entry["stale_by"] == w.pm_sub
    assert entry["stale_reason"] == "material_change" and entry["stale_at"]

    blocked = await client.patch(url, json={"status": "in_progress"}, headers=w.pm)
    assert assert_problem(blocked, 409)["reason"] == "approval_required"


@pytest.mark.parametrize(
    "patch",
    [
        {"theme": "safety"},
        {"status": "proposed"},
        {"effort": 3.0},  # the same value: no change
        {"title": "Alert fatigue triage"},
        {"status": "in_progress"},
    ],
)
async def test_non_material_or_no_op_changes_keep_the_approval(client, auth, patch):
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "planned", approved=True)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json=patch, headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.json()["approval_status"] == "current"
    assert r.json()["approved_by"] == item["approved_by"]
    assert r.json()["approved_at"] == item["approved_at"]
    history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert [e["current"] for e in history] == [True]


async def test_a_change_cannot_ride_on_the_approval_it_invalidates(client, auth):
    """A PATCH that changes effort and moves to in_progress is judged after the change."""
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "planned", approved=True)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={"status": "in_progress", "effort": 30.0}, headers=w.pm)
    body = assert_problem(r, 409)
    assert body["reason"] == "approval_required"
    got = (await client.get(url, headers=w.pm)).json()
    assert got == item, "nothing changed: effort, status and the approval are as they were"
    history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert [e["current"] for e in history] == [True]


async def test_material_change_in_progress_is_accepted_and_flagged(client, auth):
    """The README choice: an in_progress item may be re-estimated; it keeps its status,
    shows approval_status stale, and cannot ship until an exec approves the new version."""
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "in_progress", approved=True)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={"effort": 30.0}, headers=w.pm)
    assert r.status_code == 200, r.text
    flagged = r.json()
    assert flagged["status"] == "in_progress" and flagged["approval_status"] == "stale"
    assert flagged["approved_by"] is None and flagged["rice_score"] == pytest.approx(
        100 * 1 * 0.8 / 30, abs=1e-3
    )
    listed = await client.get(f"{URL}?product_id={w.pid}&status=in_progress", headers=w.pm)
    assert [(i["id"], i["approval_status"]) for i in listed.json()["data"]] == [
        (item["id"], "stale")
    ]

    ship = await client.patch(url, json={"status": "shipped"}, headers=w.pm)
    body = assert_problem(ship, 409)
    assert body["reason"] == "approval_required" and body["allowed"] == ["planned", "cancelled"]
    # Pausing or cancelling need no approval.
    assert (await client.patch(url, json={"status": "planned"}, headers=w.pm)).status_code == 200
    back = await client.patch(url, json={"status": "in_progress"}, headers=w.pm)
    assert_problem(back, 409)

    again, exec_sub = await approve(client, auth, item["id"], {"comment": "New estimate ok"})
    assert again.status_code == 200, again.text
    reapproved = again.json()
    assert reapproved["approval_status"] == "current" and reapproved["approved_by"] == exec_sub
    for status in ("in_progress", "shipped"):
        r = await client.patch(url, json={"status": status}, headers=w.pm)
        assert r.status_code == 200, r.text

    history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert [(e["status"], e["current"]) for e in history] == [("current", True), ("stale", False)]
    newest, oldest = history
    assert newest["version"] == reapproved["version"] - 1, "the version the exec saw"
    assert newest["comment"] == "New estimate ok" and newest["approver_sub"] == exec_sub
    assert oldest["version"] == 1 and oldest["stale_fields"] == ["effort"]
    assert oldest["approved_at"] < newest["approved_at"]


async def test_reopening_a_cancelled_item_ends_its_approval(client, auth):
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "planned", approved=True)
    url = f"{URL}/{item['id']}"
    cancelled = await client.patch(url, json={"status": "cancelled"}, headers=w.pm)
    assert cancelled.json()["approval_status"] == "current"
    reopened = await client.patch(url, json={"status": "proposed"}, headers=w.pm)
    assert reopened.status_code == 200 and reopened.json()["approval_status"] == "stale"
    history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert history[0]["stale_reason"] == "reopened" and history[0]["stale_fields"] == ["status"]
    assert_problem(await client.patch(url, json={"status": "in_progress"}, headers=w.pm), 409)


async def test_reopening_a_shipped_item_needs_the_approval_to_be_current(client, auth):
    w = await make_world(client, auth)
    fresh = await item_in(client, auth, w, "shipped", approved=True)
    r = await client.patch(f"{URL}/{fresh['id']}", json={"status": "in_progress"}, headers=w.pm)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    stale = await item_in(client, auth, w, "shipped", approved=False)
    r = await client.patch(f"{URL}/{stale['id']}", json={"status": "in_progress"}, headers=w.pm)
    body = assert_problem(r, 409)
    assert body["allowed"] == [] and body["approval_required"] == ["in_progress"]


async def test_approve_pins_a_version_with_if_match_and_takes_a_comment(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(**BASE)
    url = f"{URL}/{item['id']}"
    await client.patch(url, json={"theme": "safety"}, headers=w.pm)  # now version 2

    old, _ = await approve(client, auth, item["id"], {"comment": "ok"}, **{"If-Match": '"1"'})
    assert_problem(old, 412)
    got = (await client.get(url, headers=w.pm)).json()
    assert got["approval_status"] == "none" and got["version"] == 2
    assert (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"] == []

    ok, exec_sub = await approve(
        client, auth, item["id"], {"comment": "Ship it safely"}, **{"If-Match": '"2"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"3"'
    [entry] = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
    assert entry["version"] == 2 and entry["comment"] == "Ship it safely"
    assert entry["approver_sub"] == exec_sub and entry["approved_at"] == ok.json()["approved_at"]
    assert entry["roadmap_item_id"] == item["id"]

    # Approving a current approval again is a no-op: no new entry, nothing changes.
    twice, _ = await approve(client, auth, item["id"], {"comment": "me too"})
    assert twice.status_code == 200 and twice.json() == ok.json()
    assert len((await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]) == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"comment": "x" * 5001}, ["body", "comment"]),
        ({"comment": 7}, ["body", "comment"]),
        ({"comment": "ok", "version": 3}, ["body", "version"]),
        ({"approver_sub": "mallory"}, ["body", "approver_sub"]),
        ([], ["body"]),
    ],
)
async def test_bad_approval_body_is_422_and_records_nothing(client, auth, body, loc):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    r, _ = await approve(client, auth, item["id"], body)
    assert_problem(r, 422)
    assert loc in error_locs(r) or any(e[: len(loc)] == loc for e in error_locs(r))
    assert "x" * 50 not in r.text and "mallory" not in r.text
    got = (await client.get(f"{URL}/{item['id']}", headers=w.pm)).json()
    assert got["approval_status"] == "none" and got["version"] == 1
    assert (await client.get(f"{URL}/{item['id']}/approvals", headers=w.pm)).json()["data"] == []


async def test_approvals_history_is_paginated_and_readable_by_readers(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(**BASE)
    url = f"{URL}/{item['id']}"
    for n in range(3):
        r, _ = await approve(client, auth, item["id"], {"comment": f"round {n}"})
        assert r.status_code == 200
        r = await client.patch(url, json={"reach": 200 + n}, headers=w.pm)
        assert r.json()["approval_status"] == "stale"
    r, _ = await approve(client, auth, item["id"])
    assert r.status_code == 200

    for role in ("engineer", "clinician", "exec", "compliance_officer", "admin"):
        rows = await walk(client, f"{url}/approvals?limit=1", auth(role, new_sub(role)))
        assert [e["comment"] for e in rows] == [None, "round 2", "round 1", "round 0"]
        assert [e["current"] for e in rows] == [True, False, False, False]
    first = await client.get(f"{url}/approvals?limit=2", headers=w.pm)
    assert first.json()["next_cursor"] and 'rel="next"' in first.headers["link"]

    missing = "01900000-0000-7000-8000-000000000000"
    assert_problem(await client.get(f"{URL}/{missing}/approvals", headers=w.pm), 404)
    assert_problem(await client.get(f"{URL}/nope/approvals", headers=w.pm), 422)
    assert_problem(await client.get(f"{url}/approvals?cursor=garbage", headers=w.pm), 422)
    assert_problem(await client.get(f"{url}/approvals?limit=201", headers=w.pm), 422)
    assert_problem(await client.get(f"{url}/approvals"), 401)


async def test_decisions_and_invalidations_are_audited(client, auth):
    w = await make_world(client, auth)
    item = await item_in(client, auth, w, "planned", approved=True)
    url = f"{URL}/{item['id']}"
    await client.patch(url, json={"effort": 13.0, "title": "Bigger"}, headers=w.pm)
    await client.get(f"{url}/approvals", headers=w.pm)
    co = auth("compliance_officer", new_sub("co"))
    r = await client.get(
        "/api/v1/audit-events",
        params={"resource_id": item["id"], "sort": "occurred_at"},
        headers=co,
    )
    events = [
        (e["action"], e["http_method"], e["path"], e["changed_fields"]) for e in r.json()["data"]
    ]
    approve_event = next(e for e in events if e[0] == "approve")
    assert approve_event[2] == f"{url}/approve"
    assert sorted(approve_event[3]) == ["approval_status", "approved_at", "approved_by"]
    stale_event = [e for e in events if e[0] == "update" and "effort" in e[3]]
    assert len(stale_event) == 1
    assert sorted(stale_event[0][3]) == sorted(
        ["effort", "title", "approved_by", "approved_at", "approval_status"]
    )
    read_event = events[-1]
    assert read_event[:3] == ("read", "GET", f"{url}/approvals")
    for e in r.json()["data"]:
        assert "Bigger" not in str(e), "values never reach the audit trail"

"""Clinical sign-off is of content over REST: a change to reviewed content resets an approved
review to pending (history kept) and blocks done; other changes do not; the reviews history
and its audit events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.factories import assert_problem, make_world, new_sub, walk

URL = "/api/v1/stories"
CRITERIA = [
    {"id": "AC-1", "given": "a septic patient", "when": "the score passes 0.8", "then": "page"},
    {"id": "AC-2", "given": "a nurse", "when": "she acknowledges", "then": "silence 4h"},
]
STORY = {
    "title": "Show the sepsis score",
    "as_a": "charge nurse",
    "i_want": "to see the score",
    "so_that": "I escalate early",
    "description": "Dose: 30 mL/kg fluids",
    "acceptance_criteria": CRITERIA,
    "clinical_review_required": True,
    "story_points": 3,
}
CONTENT = {
    "title": "Show the sepsis score and trend",
    "as_a": "rapid response nurse",
    "i_want": "to see the score with its trend",
    "so_that": "I escalate sooner",
    "description": "Dose: 60 mL/kg fluids",
    "acceptance_criteria": [
        {**CRITERIA[0], "then": "page twice"},
        CRITERIA[1],
    ],
}
NOT_CONTENT = {
    "status": "in_progress",
    "story_points": 8,
    "labels": ["sepsis"],
    "sprint": "2026.20",
    "rank": "0000000001a",
    "persona": "ICU nurse",
    # ticking criteria as met is progress, not a change to what was signed off
    "acceptance_criteria": [{**c, "met": True} for c in CRITERIA],
}


async def reviewed(client, w, status: str = "approved") -> tuple[dict[str, Any], dict, str]:
    """A clinical story walked to in_review and reviewed by a member clinician."""
    r = await client.post(URL, json={"product_id": w.pid, **STORY}, headers=w.pm)
    assert r.status_code == 201, r.text
    story = r.json()
    for s in ("ready", "in_progress", "in_review"):
        r = await client.patch(f"{URL}/{story['id']}", json={"status": s}, headers=w.pm)
        assert r.status_code == 200, r.text
    clin_sub = new_sub("clin")
    clinician = await w.member("clinician", clin_sub)
    r = await client.post(
        f"{URL}/{story['id']}/clinical-review",
        json={"status": status, "comment": "Checked against the bundle"},
        headers=clinician,
    )
    assert r.status_code == 200, r.text
    return r.json(), clinician, clin_sub


@pytest.mark.parametrize("field", sorted(CONTENT))
async def test_a_content_change_resets_an_approved_review(client, auth, field):
    w = await make_world(client, auth)
    story, clinician, clin_sub = await reviewed(client, w)
    url = f"{URL}/{story['id']}"
    engineer = await w.member("engineer")
    r = await client.patch(url, json={field: CONTENT[field]}, headers=engineer)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["clinical_review"] == {
        "status": "pending",
        "reviewer_sub": None,
        "reviewed_at": None,
        "comment": None,
    }
    assert changed["version"] == story["version"] + 1

    done = await client.patch(url, json={"status": "done"}, headers=w.pm)
    body = assert_problem(done, 409)
    assert "clinical review" in body["detail"]
    assert (await client.get(url, headers=w.pm)).json()["status"] == "in_review"

    [entry] = (await client.get(f"{url}/reviews", headers=w.pm)).json()["data"]
    assert entry["status"] == "approved" and entry["current"] is False
    assert entry["end_reason"] == "content_changed" and entry["changed_fields"] == [field]
    assert entry["reviewer_sub"] == clin_sub and entry["comment"] == "Checked against the bundle"
    assert entry["ended_by"] and entry["ended_at"] and entry["version"] == story["version"] - 1

    again = await client.post(
        f"{url}/clinical-review", json={"status": "approved"}, headers=clinician
    )
    assert again.status_code == 200
    finished = await client.patch(url, json={"status": "done"}, headers=w.pm)
    assert finished.status_code == 200, finished.text


@pytest.mark.parametrize("field", sorted(NOT_CONTENT))
async def test_other_changes_keep_the_review(client, auth, field):
    w = await make_world(client, auth)
    story, _, _ = await reviewed(client, w)
    url = f"{URL}/{story['id']}"
    r = await client.patch(url, json={field: NOT_CONTENT[field]}, headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.json()["clinical_review"] == story["clinical_review"]
    [entry] = (await client.get(f"{url}/reviews", headers=w.pm)).json()["data"]
    assert entry["current"] is True and entry["ended_at"] is None
    if field == "status":
        await client.patch(url, json={"status": "in_review"}, headers=w.pm)
    assert (await client.patch(url, json={"status": "done"}, headers=w.pm)).status_code == 200


async def test_same_content_is_not_a_change(client, auth):
    w = await make_world(client, auth)
    story, _, _ = await reviewed(client, w)
    url = f"{URL}/{story['id']}"
    same = {k: STORY[k] for k in ("title", "as_a", "description")}
    r = await client.patch(
        url,
        json={**same, "acceptance_criteria": [{k: v for k, v in c.items()} for c in CRITERIA]},
        headers=w.pm,
    )
    assert r.status_code == 200 and r.json()["clinical_review"]["status"] == "approved"
    assert r.json()["version"] == story["version"]


async def test_a_done_story_cannot_change_signed_off_content(client, auth):
    w = await make_world(client, auth)
    story, _, _ = await reviewed(client, w)
    url = f"{URL}/{story['id']}"
    done = (await client.patch(url, json={"status": "done"}, headers=w.pm)).json()
    assert done["status"] == "done"
    r = await client.patch(url, json={"description": "Dose doubled"}, headers=w.pm)
    body = assert_problem(r, 409)
    assert body["reason"] == "review_required" and "in_progress" in body["allowed"]
    assert "Dose doubled" not in r.text
    assert (await client.get(url, headers=w.pm)).json() == done

    # Reopening in the same PATCH is allowed: the review resets and done is blocked again.
    r = await client.patch(
        url, json={"status": "in_progress", "description": "Dose doubled"}, headers=w.pm
    )
    assert r.status_code == 200, r.text
    assert r.json()["clinical_review"]["status"] == "pending"
    for s in ("in_review", "done"):
        r = await client.patch(url, json={"status": s}, headers=w.pm)
    assert_problem(r, 409)


async def test_changes_requested_is_kept_and_reviews_supersede(client, auth):
    w = await make_world(client, auth)
    story, clinician, clin_sub = await reviewed(client, w, "changes_requested")
    url = f"{URL}/{story['id']}"
    r = await client.patch(url, json={"description": "Cite the lactate threshold"}, headers=w.pm)
    assert r.json()["clinical_review"]["status"] == "changes_requested"
    approved = await client.post(
        f"{url}/clinical-review",
        json={"status": "approved", "comment": "Better"},
        headers=clinician,
    )
    assert approved.status_code == 200
    rows = await walk(client, f"{url}/reviews?limit=1", w.pm)
    assert [(e["status"], e["current"], e["end_reason"]) for e in rows] == [
        ("approved", True, None),
        ("changes_requested", False, "superseded"),
    ]
    assert rows[0]["version"] == r.json()["version"] and rows[0]["comment"] == "Better"
    assert rows[1]["ended_by"] == clin_sub and rows[1]["changed_fields"] is None
    by_key = await client.get(f"{URL}/{story['key']}/reviews", headers=w.pm)
    assert by_key.json()["data"] == rows


async def test_review_pins_a_version_with_if_match(client, auth):
    w = await make_world(client, auth)
    r = await client.post(URL, json={"product_id": w.pid, **STORY}, headers=w.pm)
    story = r.json()
    url = f"{URL}/{story['id']}"
    await client.patch(url, json={"description": "Revised"}, headers=w.pm)
    clinician = await w.member("clinician")
    stale = await client.post(
        f"{url}/clinical-review",
        json={"status": "approved"},
        headers={**clinician, "If-Match": '"1"'},
    )
    assert_problem(stale, 412)
    assert (await client.get(url, headers=w.pm)).json()["clinical_review"]["status"] == "pending"
    assert (await client.get(f"{url}/reviews", headers=w.pm)).json()["data"] == []
    ok = await client.post(
        f"{url}/clinical-review",
        json={"status": "approved"},
        headers={**clinician, "If-Match": '"2"'},
    )
    assert ok.status_code == 200, ok.text
    assert (await client.get(f"{url}/reviews", headers=w.pm)).json()["data"][0]["version"] == 2


async def test_reviews_history_is_readable_by_readers_only(client, auth):
    w = await make_world(client, auth)
    story, _, _ = await reviewed(client, w)
    url = f"{URL}/{story['id']}/reviews"
    for role in ("engineer", "clinician", "exec", "compliance_officer", "admin"):
        r = await client.get(url, headers=auth(role, new_sub(role)))
        assert r.status_code == 200 and len(r.json()["data"]) == 1
    assert_problem(await client.get(f"{URL}/{w.key}-999/reviews", headers=w.pm), 404)
    assert_problem(await client.get(f"{url}?cursor=garbage", headers=w.pm), 422)
    assert_problem(await client.get(f"{url}?limit=0", headers=w.pm), 422)
    assert_problem(await client.get(url), 401)


async def test_decisions_and_resets_are_audited(client, auth):
    w = await make_world(client, auth)
    story, _, clin_sub = await reviewed(client, w)
    url = f"{URL}/{story['id']}"
    await client.patch(url, json={"i_want": "Dose doubled", "story_points": 5}, headers=w.pm)
    co = auth("compliance_officer", new_sub("co"))
    r = await client.get(
        "/api/v1/audit-events",
        params={"resource_id": story["id"], "sort": "occurred_at"},
        headers=co,
    )
    events = r.json()["data"]
    review = [e for e in events if e["action"] == "review"]
    assert len(review) == 1 and review[0]["actor_sub"] == clin_sub
    assert review[0]["changed_fields"] == ["clinical_review"]
    reset = events[-1]
    assert reset["action"] == "update" and reset["actor_sub"] == w.pm_sub
    assert sorted(reset["changed_fields"]) == ["clinical_review", "i_want", "story_points"]
    assert "Dose doubled" not in str(events)

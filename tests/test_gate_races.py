"""The gates under concurrency: an approval (or sign-off) racing a material (content) change
must end in one of the two serial outcomes, never an approval of content nobody approved.
On PostgreSQL each write locks its row (SELECT … FOR UPDATE) before judging the gate, so
both succeed one after the other; on SQLite (reads outside the write transaction) the
versioned UPDATE refuses the loser with 409 and nothing of it is applied."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.factories import make_world, new_sub
from tests.conftest import IS_PG

ROUNDS = 12


def lost_one(a, b) -> bool:
    """Both 200 (serialized), or exactly one refused as a concurrent change (409)."""
    codes = sorted((a.status_code, b.status_code))
    assert codes in ([200, 200], [200, 409]), (a.text, b.text)
    if codes == [200, 409]:
        loser = a if a.status_code == 409 else b
        assert "another request at the same time" in loser.json()["detail"]
        assert not IS_PG, "PostgreSQL serializes the two writes with a row lock"
        return True
    return False


async def test_approval_racing_a_material_change(client, auth):
    w = await make_world(client, auth)
    ex = auth("exec", new_sub("exec"))
    for n in range(ROUNDS):
        item = await w.roadmap_item(title=f"race {n}", effort=2.0)
        url = f"/api/v1/roadmap-items/{item['id']}"
        approve, patch = await asyncio.gather(
            client.post(f"{url}/approve", headers=ex),
            client.patch(url, json={"effort": 20.0}, headers=w.pm),
        )
        final = (await client.get(url, headers=w.pm)).json()
        history = (await client.get(f"{url}/approvals", headers=w.pm)).json()["data"]
        if lost_one(approve, patch):
            assert final["version"] == 2
            if approve.status_code == 409:  # only the change applied
                assert final["effort"] == 20.0 and final["approval_status"] == "none"
                assert history == []
            else:  # only the approval applied
                assert final["effort"] == 2.0 and final["approval_status"] == "current"
                assert [e["version"] for e in history] == [1]
            continue
        assert final["version"] == 3, "both writes applied, neither lost"
        assert final["effort"] == 20.0
        [entry] = history
        if final["approval_status"] == "current":
            # the patch went first: the exec approved the changed version
            assert entry["version"] == 2 and entry["current"] is True
        else:
            # the approval went first: the change made it stale
            assert final["approval_status"] == "stale" and final["approved_by"] is None
            assert entry["version"] == 1 and entry["stale_fields"] == ["effort"]


@pytest.mark.parametrize("rounds", [ROUNDS])
async def test_sign_off_racing_a_content_change(client, auth, rounds):
    w = await make_world(client, auth)
    clinician = await w.member("clinician")
    for n in range(rounds):
        story = await w.story(title=f"race {n}", clinical_review_required=True)
        url = f"/api/v1/stories/{story['id']}"
        review, patch = await asyncio.gather(
            client.post(f"{url}/clinical-review", json={"status": "approved"}, headers=clinician),
            client.patch(url, json={"description": "Dose doubled"}, headers=w.pm),
        )
        final = (await client.get(url, headers=w.pm)).json()
        history = (await client.get(f"{url}/reviews", headers=w.pm)).json()["data"]
        if lost_one(review, patch):
            assert final["version"] == 2
            if review.status_code == 409:  # only the change applied
                assert final["description"] == "Dose doubled" and history == []
                assert final["clinical_review"]["status"] == "pending"
            else:  # only the sign-off applied
                assert final["description"] == "" and [e["current"] for e in history] == [True]
                assert final["clinical_review"]["status"] == "approved"
            continue
        assert final["version"] == 3 and final["description"] == "Dose doubled"
        [entry] = history
        if final["clinical_review"]["status"] == "approved":
            assert entry["version"] == 2 and entry["current"] is True
        else:
            assert final["clinical_review"]["status"] == "pending"
            assert entry["version"] == 1 and entry["end_reason"] == "content_changed"

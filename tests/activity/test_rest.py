"""A product's activity stream: changes only, field names never values, per-type reads."""

from __future__ import annotations

import uuid

from tests.api.factories import assert_problem, make_world, new_sub

SECRET = "Zorblax Quenting"


async def _activity(client, headers, pid, **params):
    r = await client.get(f"/api/v1/products/{pid}/activity", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_who_did_what_when_without_values(client, auth):
    w = await make_world(client, auth)
    story = await w.story(title="Alarm ladder")
    await client.patch(f"/api/v1/stories/{story['id']}", json={"description": SECRET}, headers=w.pm)
    await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)  # a read: not activity
    interview = await w.interview(participant_name=SECRET, transcript=f"{SECRET} said hi")
    eng = auth("engineer", new_sub("eng"))  # not a member: reads the product, not interviews
    mine = await _activity(client, w.pm, w.pid)
    actions = [(e["action"], e["resource_type"]) for e in mine["data"]]
    assert actions[:3] == [("create", "interview"), ("update", "story"), ("create", "story")]
    assert ("read", "story") not in actions
    upd = mine["data"][1]
    assert upd["actor_sub"] == w.pm_sub and upd["changed_fields"] == ["description"]
    assert upd["resource_ids"] == [story["id"]]
    assert SECRET not in str(mine)
    theirs = await _activity(client, eng, w.pid)
    assert interview["id"] not in str(theirs)
    assert [e["resource_type"] for e in theirs["data"]][:2] == ["story", "story"]


async def test_pages_and_missing_product(client, auth):
    w = await make_world(client, auth)
    for n in range(4):
        await w.story(title=f"S{n}")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await _activity(client, w.pm, w.pid, **params)
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5  # product create + 4 stories
    assert_problem(await client.get(f"/api/v1/products/{uuid.uuid4()}/activity", headers=w.pm), 404)
    assert_problem(
        await client.get(f"/api/v1/products/{w.pid}/activity?cursor=bad", headers=w.pm), 422
    )

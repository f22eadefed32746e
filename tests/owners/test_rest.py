"""Assignees and owners: product members only (422 otherwise), ?assignee=me / ?owner=me,
label filters, GraphQL parity; and the name grants nothing."""

from __future__ import annotations

from tests.api.factories import assert_problem, error_locs, make_world, new_sub
from tests.graphql.helpers import gql


async def test_assignee_must_be_a_member_and_me_filters(client, auth):
    w = await make_world(client, auth)
    eng_sub = new_sub("eng")
    eng = await w.member("engineer", eng_sub)
    outsider = new_sub("eng")
    r = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": "Nobody's", "assignee_sub": outsider},
        headers=w.pm,
    )
    assert error_locs(assert_problem_and_return(r)) == [["body", "assignee_sub"]]
    mine = await w.story(title="Mine", assignee_sub=eng_sub)
    assert mine["assignee_sub"] == eng_sub
    other = await w.story(title="Not mine")
    r = await client.patch(
        f"/api/v1/stories/{other['id']}", json={"assignee_sub": outsider}, headers=w.pm
    )
    assert_problem(r, 422)
    assert (await client.get(f"/api/v1/stories/{other['id']}", headers=w.pm)).json()[
        "assignee_sub"
    ] is None  # nothing changed
    listed = await client.get(
        "/api/v1/stories", params={"assignee": "me", "product_id": w.pid}, headers=eng
    )
    assert [s["id"] for s in listed.json()["data"]] == [mine["id"]]
    by_sub = await client.get(
        "/api/v1/stories", params={"assignee": eng_sub, "product_id": w.pid}, headers=w.pm
    )
    assert [s["id"] for s in by_sub.json()["data"]] == [mine["id"]]
    # unassign
    r = await client.patch(
        f"/api/v1/stories/{mine['id']}", json={"assignee_sub": None}, headers=w.pm
    )
    assert r.status_code == 200 and r.json()["assignee_sub"] is None


def assert_problem_and_return(r):
    assert_problem(r, 422)
    return r


async def test_owner_must_be_a_member_and_me_filters(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        "/api/v1/roadmap-items",
        json={"product_id": w.pid, "title": "Orphan", "owner_sub": new_sub("pm")},
        headers=w.pm,
    )
    assert error_locs(assert_problem_and_return(r)) == [["body", "owner_sub"]]
    mine = await w.roadmap_item(title="Owned", owner_sub=w.pm_sub)
    await w.roadmap_item(title="Unowned")
    listed = await client.get(
        "/api/v1/roadmap-items", params={"owner": "me", "product_id": w.pid}, headers=w.pm
    )
    assert [i["id"] for i in listed.json()["data"]] == [mine["id"]]
    status, body = await gql(
        client,
        'query($p: ID) { roadmapItems(productId: $p, owner: "me") '
        "{ totalCount nodes { id ownerSub } } }",
        {"p": w.pid},
        headers=w.pm,
    )
    assert status == 200 and body["data"]["roadmapItems"] == {
        "totalCount": 1,
        "nodes": [{"id": mine["id"], "ownerSub": w.pm_sub}],
    }


async def test_assignment_grants_no_access(client, auth):
    """An assigned engineer who is later removed from the product loses write access like
    any non-member; being the assignee is not an authorization input."""
    w = await make_world(client, auth)
    eng_sub = new_sub("eng")
    eng = await w.member("engineer", eng_sub)
    story = await w.story(assignee_sub=eng_sub)
    r = await client.delete(f"/api/v1/products/{w.pid}/members/{eng_sub}", headers=w.pm)
    assert r.status_code in (200, 204), r.text
    r = await client.patch(f"/api/v1/stories/{story['id']}", json={"title": "x"}, headers=eng)
    assert_problem(r, 403)
    # an engineer may not assign themselves where they are no member either
    other = await make_world(client, auth)
    s2 = await other.story()
    r = await client.patch(
        f"/api/v1/stories/{s2['id']}", json={"assignee_sub": eng_sub}, headers=eng
    )
    assert_problem(r, 403)


async def test_label_filter_requires_every_label(client, auth):
    w = await make_world(client, auth)
    both = await w.story(title="Both", labels=["ui", "alerting"])
    await w.story(title="One", labels=["ui"])
    await w.story(title="None")
    r = await client.get(
        "/api/v1/stories", params={"labels": "ui,alerting", "product_id": w.pid}, headers=w.pm
    )
    assert [s["id"] for s in r.json()["data"]] == [both["id"]]
    r = await client.get(
        "/api/v1/stories", params={"labels": "ui", "product_id": w.pid}, headers=w.pm
    )
    assert len(r.json()["data"]) == 2
    _, body = await gql(
        client,
        'query($p: ID) { stories(productId: $p, labels: ["alerting"]) '
        "{ totalCount nodes { id assigneeSub } } }",
        {"p": w.pid},
        headers=w.pm,
    )
    assert body["data"]["stories"] == {
        "totalCount": 1,
        "nodes": [{"id": both["id"], "assigneeSub": None}],
    }

"""An archived roadmap item is read-only (issue 19 item 18): PATCH and approval answer 409 in
REST and GraphQL and change nothing; reading it still works."""

from __future__ import annotations

from tests.api.factories import assert_problem, make_world, new_sub
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql_strict as gql


async def test_archived_items_cannot_be_patched_or_approved(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(reach=10, impact=1, confidence=0.5, effort=1)
    url = f"/api/v1/roadmap-items/{item['id']}"
    assert (await client.delete(url, headers=w.pm)).status_code == 200
    archived = (await client.get(url, headers=w.pm)).json()
    assert archived["archived_at"] is not None
    exec_ = auth("exec", new_sub("exec"))

    assert_problem(await client.patch(url, json={"title": "revived"}, headers=w.pm), 409)
    assert_problem(await client.patch(url, json={"status": "planned"}, headers=w.pm), 409)
    assert_problem(await client.post(f"{url}/approve", headers=exec_), 409)

    st, body = await gql(
        client,
        'mutation {{ updateRoadmapItem(id: "{}", input: {{title: "revived"}}) {{ id }} }}'.format(
            item["id"]
        ),
        headers=w.pm,
    )
    assert st == 409 and codes(body) == ["CONFLICT"]
    st, body = await gql(
        client,
        'mutation {{ approveRoadmapItem(id: "{}") {{ id }} }}'.format(item["id"]),
        headers=exec_,
    )
    assert st == 409 and codes(body) == ["CONFLICT"]

    assert (await client.get(url, headers=w.pm)).json() == archived
    # archiving again stays a no-op, and a live item is still approvable
    assert (await client.delete(url, headers=w.pm)).status_code == 200
    live = await w.roadmap_item()
    r = await client.post(f"/api/v1/roadmap-items/{live['id']}/approve", headers=exec_)
    assert r.status_code == 200

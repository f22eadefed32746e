"""Insights over REST: CRUD, evidence links (same product), filters, evidence counts."""

from __future__ import annotations

import pytest

from tests.api.factories import assert_problem, error_locs, make_world

URL = "/api/v1/insights"


async def test_create_get_update_archive(client, auth):
    w = await make_world(client, auth)
    interview = await w.interview()
    story = await w.story()
    item = await w.roadmap_item()
    r = await client.post(
        URL,
        json={
            "interview_id": interview["id"],
            "title": "Alerts arrive after the rapid response call",
            "quote": "By the time it fires we already called the team.",
            "persona": "nurse",
            "severity": 5,
            "tags": ["timeliness"],
            "story_ids": [story["id"], story["id"]],
            "roadmap_item_ids": [item["id"]],
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    insight = r.json()
    assert r.headers["etag"] == '"1"'
    assert insight["product_id"] == w.pid, "the product is taken from the interview"
    assert insight["interview_id"] == interview["id"] and insight["severity"] == 5
    assert insight["story_ids"] == [story["id"]] and insight["roadmap_item_ids"] == [item["id"]]
    assert insight["redacted"] is False

    url = f"{URL}/{insight['id']}"
    got = await client.get(url, headers=w.pm)
    assert got.status_code == 200 and got.json() == insight and got.headers["etag"] == '"1"'

    upd = await client.patch(url, json={"severity": 2, "tags": []}, headers=w.pm)
    assert upd.status_code == 200 and upd.json()["version"] == 2
    links = await client.patch(url, json={"story_ids": []}, headers=w.pm)
    assert links.json()["story_ids"] == [] and links.json()["version"] == 3, "links move the ETag"

    gone = await client.delete(url, headers=w.pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    assert (await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)).json()["data"] == []
    archived = await client.get(f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm)
    assert [i["id"] for i in archived.json()["data"]] == [insight["id"]]


async def test_story_evidence_count_follows_links_and_archive(client, auth):
    w = await make_world(client, auth)
    interview = await w.interview()
    s1 = await w.story()
    s2 = await w.story()
    a = await w.insight(interview["id"], story_ids=[s1["id"], s2["id"]])
    b = await w.insight(interview["id"], story_ids=[s1["id"]])

    async def counts() -> dict[str, int]:
        r = await client.get(f"/api/v1/stories?product_id={w.pid}", headers=w.pm)
        return {s["id"]: s["evidence_count"] for s in r.json()["data"]}

    assert await counts() == {s1["id"]: 2, s2["id"]: 1}
    single = await client.get(f"/api/v1/stories/{s1['key']}", headers=w.pm)
    assert single.json()["evidence_count"] == 2
    await client.patch(f"{URL}/{a['id']}", json={"story_ids": [s2["id"]]}, headers=w.pm)
    assert await counts() == {s1["id"]: 1, s2["id"]: 1}
    await client.delete(f"{URL}/{b['id']}", headers=w.pm)
    assert await counts() == {s1["id"]: 0, s2["id"]: 1}


async def test_links_must_stay_in_the_product(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    foreign_story = await other.story()
    foreign_item = await other.roadmap_item()
    interview = await w.interview()
    for field, target in (
        ("story_ids", foreign_story["id"]),
        ("roadmap_item_ids", foreign_item["id"]),
        ("story_ids", "01900000-0000-7000-8000-000000000000"),
    ):
        r = await client.post(
            URL,
            json={"interview_id": interview["id"], "title": "x", field: [target]},
            headers=w.pm,
        )
        assert_problem(r, 422)
        assert ["body", field] in error_locs(r)
    assert (await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)).json()["data"] == []
    assert (await client.get(f"/api/v1/stories/{foreign_story['id']}", headers=w.pm)).json()[
        "evidence_count"
    ] == 0

    insight = await w.insight(interview["id"])
    r = await client.patch(
        f"{URL}/{insight['id']}", json={"roadmap_item_ids": [foreign_item["id"]]}, headers=w.pm
    )
    assert_problem(r, 422)
    assert (await client.get(f"{URL}/{insight['id']}", headers=w.pm)).json() == insight


async def test_filters_product_and_interview(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    i1 = await w.interview()
    i2 = await w.interview()
    a = await w.insight(i1["id"])
    b = await w.insight(i1["id"])
    c = await w.insight(i2["id"])
    await other.insight()

    async def ids(query: str) -> set[str]:
        r = await client.get(f"{URL}?{query}", headers=w.pm)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["data"]}

    assert await ids(f"product_id={w.pid}") == {a["id"], b["id"], c["id"]}
    assert await ids(f"interview_id={i1['id']}") == {a["id"], b["id"]}
    assert await ids(f"interview_id={i2['id']}&product_id={w.pid}") == {c["id"]}
    assert await ids(f"interview_id={i2['id']}&product_id={other.pid}") == set()
    r = await client.get(f"{URL}?product_id={w.pid}&sort=-severity", headers=w.pm)
    assert r.status_code == 200
    assert_problem(await client.get(f"{URL}?interview_id=abc", headers=w.pm), 422)
    assert_problem(await client.get(f"{URL}?sort=quote", headers=w.pm), 422)


async def test_unknown_interview_is_404(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        URL,
        json={"interview_id": "01900000-0000-7000-8000-000000000000", "title": "x"},
        headers=w.pm,
    )
    assert_problem(r, 404)


async def test_etag_if_match(client, auth):
    w = await make_world(client, auth)
    insight = await w.insight()
    url = f"{URL}/{insight['id']}"
    assert_problem(
        await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": '"0"'}), 412
    )
    assert (await client.get(url, headers=w.pm)).json() == insight
    ok = await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": "*"})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    assert_problem(await client.delete(url, headers={**w.pm, "If-Match": '"1"'}), 412)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"severity": 6}, "severity"),
        ({"severity": 0}, "severity"),
        ({"severity": 2.5}, "severity"),
        ({"severity": "5"}, "severity"),
        ({"severity": None}, "severity"),
        ({"persona": "surgeon"}, "persona"),
        ({"quote": "q" * 5001}, "quote"),
        ({"title": ""}, "title"),
        ({"story_ids": ["nope"]}, "story_ids"),
        ({"story_ids": None}, "story_ids"),
        ({"roadmap_item_ids": ["01900000-0000-7000-8000-000000000000"] * 101}, "roadmap_item_ids"),
        ({"interview_id": "01900000-0000-7000-8000-000000000000"}, "interview_id"),
        ({"product_id": "01900000-0000-7000-8000-000000000000"}, "product_id"),
        ({"redacted": True}, "redacted"),
    ],
)
async def test_bad_patch_is_422_and_changes_nothing(client, auth, body, loc):
    w = await make_world(client, auth)
    insight = await w.insight()
    url = f"{URL}/{insight['id']}"
    r = await client.patch(url, json=body, headers=w.pm)
    assert_problem(r, 422)
    assert loc in {x[1] for x in error_locs(r) if len(x) > 1}, error_locs(r)
    assert (await client.get(url, headers=w.pm)).json() == insight

"""Roadmap items over REST: CRUD, RICE score, evidence count, filters, approval gate, ETags."""

from __future__ import annotations

import pytest

from tests.api.factories import assert_problem, error_locs, make_world, new_sub

pytestmark = pytest.mark.asyncio

URL = "/api/v1/roadmap-items"


async def test_create_get_update_archive(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        URL,
        json={
            "product_id": w.pid,
            "title": "Sepsis alert v2",
            "description": "Fewer false alarms",
            "theme": "alerting",
            "horizon": "now",
            "target_quarter": "2026-Q2",
            "reach": 1200,
            "impact": 2,
            "confidence": 0.8,
            "effort": 4,
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert r.headers["etag"] == '"1"'
    assert item["product_id"] == w.pid and item["status"] == "proposed"
    assert item["horizon"] == "now" and item["target_quarter"] == "2026-Q2"
    assert item["rice_score"] == pytest.approx(1200 * 2 * 0.8 / 4)
    assert item["evidence_count"] == 0
    assert item["approved_by"] is None and item["approved_at"] is None
    assert item["version"] == 1 and item["archived_at"] is None
    assert item["created_at"] and item["updated_at"]

    got = await client.get(f"{URL}/{item['id']}", headers=auth("engineer", new_sub("eng")))
    assert got.status_code == 200 and got.json() == item and got.headers["etag"] == '"1"'

    upd = await client.patch(
        f"{URL}/{item['id']}", json={"effort": 2, "status": "planned"}, headers=w.pm
    )
    assert upd.status_code == 200, upd.text
    assert upd.json()["rice_score"] == pytest.approx(960)
    assert upd.json()["version"] == 2 and upd.headers["etag"] == '"2"'
    assert upd.json()["updated_at"] >= item["updated_at"]

    same = await client.patch(f"{URL}/{item['id']}", json={"effort": 2}, headers=w.pm)
    assert same.json()["version"] == 2, "a no-op patch is not a new version"

    gone = await client.delete(f"{URL}/{item['id']}", headers=w.pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    assert gone.json()["version"] == 3
    again = await client.delete(f"{URL}/{item['id']}", headers=w.pm)
    assert again.status_code == 200 and again.json()["version"] == 3

    listed = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert listed.json()["data"] == []
    archived = await client.get(f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm)
    assert [i["id"] for i in archived.json()["data"]] == [item["id"]]
    # An archived item still answers a direct GET (nothing is hard-deleted).
    assert (await client.get(f"{URL}/{item['id']}", headers=w.pm)).status_code == 200


@pytest.mark.parametrize(
    ("rice", "score"),
    [
        ({"reach": 100, "impact": 3, "confidence": 1, "effort": 0.5}, 600.0),
        ({"reach": 0, "impact": 1, "confidence": 0.5, "effort": 1}, 0.0),
        ({"reach": 10, "impact": 0.25, "confidence": 0.5, "effort": 2}, 0.625),
        ({"impact": 1, "confidence": 0.5, "effort": 1}, None),
        ({"reach": 10, "confidence": 0.5, "effort": 1}, None),
        ({"reach": 10, "impact": 1, "effort": 1}, None),
        ({"reach": 10, "impact": 1, "confidence": 0.5}, None),
        ({}, None),
    ],
)
async def test_rice_score_is_null_when_an_input_is_missing(client, auth, rice, score):
    w = await make_world(client, auth)
    item = await w.roadmap_item(**rice)
    assert item["rice_score"] == (pytest.approx(score) if score is not None else None)


async def test_rice_score_follows_patches_including_clearing_an_input(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(reach=10, impact=1, confidence=1, effort=1)
    assert item["rice_score"] == 10
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json={"confidence": None}, headers=w.pm)
    assert r.status_code == 200 and r.json()["rice_score"] is None
    r = await client.patch(url, json={"confidence": 0.5, "impact": 0.5}, headers=w.pm)
    assert r.json()["rice_score"] == pytest.approx(2.5)
    assert (await client.get(url, headers=w.pm)).json()["rice_score"] == pytest.approx(2.5)


async def test_evidence_count_follows_links_and_archive(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    interview = await w.interview()
    a = await w.insight(interview["id"], roadmap_item_ids=[item["id"]])
    b = await w.insight(interview["id"], roadmap_item_ids=[item["id"]])
    url = f"{URL}/{item['id']}"
    assert (await client.get(url, headers=w.pm)).json()["evidence_count"] == 2
    listed = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert listed.json()["data"][0]["evidence_count"] == 2

    await client.patch(f"/api/v1/insights/{a['id']}", json={"roadmap_item_ids": []}, headers=w.pm)
    assert (await client.get(url, headers=w.pm)).json()["evidence_count"] == 1
    await client.delete(f"/api/v1/insights/{b['id']}", headers=w.pm)
    assert (await client.get(url, headers=w.pm)).json()["evidence_count"] == 0


async def test_filters_product_status_horizon(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    a = await w.roadmap_item(horizon="now", status="planned")
    b = await w.roadmap_item(horizon="next", status="planned")
    c = await w.roadmap_item(horizon="now", status="proposed")
    await other.roadmap_item(horizon="now", status="planned")

    async def ids(query: str) -> set[str]:
        r = await client.get(f"{URL}?product_id={w.pid}&{query}", headers=w.pm)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["data"]}

    assert await ids("") == {a["id"], b["id"], c["id"]}
    assert await ids("status=planned") == {a["id"], b["id"]}
    assert await ids("horizon=now") == {a["id"], c["id"]}
    assert await ids("horizon=now&status=planned") == {a["id"]}
    assert await ids("status=shipped") == set()
    for bad in ("status=done", "horizon=soon", "product_id=nope"):
        r = await client.get(f"{URL}?{bad}", headers=w.pm)
        assert_problem(r, 422)


async def test_sort_by_rice_score_descending_puts_nulls_last(client, auth):
    w = await make_world(client, auth)
    low = await w.roadmap_item(reach=1, impact=1, confidence=1, effort=1)
    none_a = await w.roadmap_item()
    high = await w.roadmap_item(reach=100, impact=3, confidence=1, effort=1)
    mid = await w.roadmap_item(reach=10, impact=1, confidence=1, effort=1)
    none_b = await w.roadmap_item(reach=5)
    r = await client.get(f"{URL}?product_id={w.pid}&sort=-rice_score", headers=w.pm)
    got = [i["id"] for i in r.json()["data"]]
    assert got[:3] == [high["id"], mid["id"], low["id"]]
    assert set(got[3:]) == {none_a["id"], none_b["id"]}
    r = await client.get(f"{URL}?product_id={w.pid}&sort=rice_score", headers=w.pm)
    got = [i["id"] for i in r.json()["data"]]
    assert got[:3] == [low["id"], mid["id"], high["id"]]
    assert set(got[3:]) == {none_a["id"], none_b["id"]}
    r = await client.get(f"{URL}?product_id={w.pid}&sort=title", headers=w.pm)
    assert r.status_code == 200


async def test_in_progress_requires_exec_approval(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(status="planned")
    url = f"{URL}/{item['id']}"
    blocked = await client.patch(url, json={"status": "in_progress"}, headers=w.pm)
    body = assert_problem(blocked, 409)
    assert "approv" in body["detail"]
    assert (await client.get(url, headers=w.pm)).json()["status"] == "planned"

    created = await client.post(
        URL, json={"product_id": w.pid, "title": "x", "status": "in_progress"}, headers=w.pm
    )
    assert_problem(created, 409)

    exec_sub = new_sub("exec")
    ok = await client.post(f"{url}/approve", headers=auth("exec", exec_sub))
    assert ok.status_code == 200, ok.text
    approved = ok.json()
    assert approved["approved_by"] == exec_sub and approved["approved_at"] is not None
    assert approved["version"] == item["version"] + 1 and ok.headers["etag"] == '"2"'

    twice = await client.post(f"{url}/approve", headers=auth("exec", new_sub("exec")))
    assert twice.status_code == 200
    assert twice.json()["approved_by"] == exec_sub, "a second approval changes nothing"
    assert twice.json()["approved_at"] == approved["approved_at"]

    moved = await client.patch(url, json={"status": "in_progress"}, headers=w.pm)
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"


async def test_approve_is_for_execs_and_unknown_item_is_404(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    r = await client.post(f"{URL}/{item['id']}/approve", headers=w.pm)
    assert_problem(r, 403)
    got = (await client.get(f"{URL}/{item['id']}", headers=w.pm)).json()
    assert got["approved_at"] is None and got["version"] == 1
    missing = "01900000-0000-7000-8000-000000000000"
    assert_problem(await client.post(f"{URL}/{missing}/approve", headers=auth("exec")), 404)
    assert_problem(await client.get(f"{URL}/{missing}", headers=w.pm), 404)


async def test_etag_if_match(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    url = f"{URL}/{item['id']}"
    stale = await client.patch(url, json={"title": "new"}, headers={**w.pm, "If-Match": '"7"'})
    assert_problem(stale, 412)
    assert (await client.get(url, headers=w.pm)).json()["title"] == item["title"]
    ok = await client.patch(url, json={"title": "new"}, headers={**w.pm, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    weak = await client.patch(url, json={"title": "newer"}, headers={**w.pm, "If-Match": 'W/"2"'})
    assert weak.status_code == 200
    star = await client.patch(url, json={"title": "newest"}, headers={**w.pm, "If-Match": "*"})
    assert star.status_code == 200 and star.json()["version"] == 4
    stale_delete = await client.delete(url, headers={**w.pm, "If-Match": '"1"'})
    assert_problem(stale_delete, 412)
    assert (await client.get(url, headers=w.pm)).json()["archived_at"] is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"impact": 1.5}, "impact"),
        ({"impact": 0}, "impact"),
        ({"impact": "2"}, "impact"),
        ({"confidence": 1.01}, "confidence"),
        ({"confidence": -0.1}, "confidence"),
        ({"effort": 0}, "effort"),
        ({"effort": -1}, "effort"),
        ({"reach": -1}, "reach"),
        ({"reach": 1.5}, "reach"),
        ({"reach": "10"}, "reach"),
        ({"horizon": "soon"}, "horizon"),
        ({"status": "done"}, "status"),
        ({"target_quarter": "2026-Q5"}, "target_quarter"),
        ({"target_quarter": "26-Q1"}, "target_quarter"),
        ({"target_quarter": "٢٠٢٦-Q1"}, "target_quarter"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": None}, "title"),
        ({"theme": "t" * 101}, "theme"),
        ({"description": "d" * 20_001}, "description"),
        ({"rice_score": 5}, "rice_score"),
        ({"approved_by": "me"}, "approved_by"),
        ({"evidence_count": 3}, "evidence_count"),
        ({"product_id": "01900000-0000-7000-8000-000000000000"}, "product_id"),
    ],
)
async def test_bad_patch_is_422_and_changes_nothing(client, auth, body, loc):
    w = await make_world(client, auth)
    item = await w.roadmap_item(reach=1, impact=1, confidence=1, effort=1)
    url = f"{URL}/{item['id']}"
    r = await client.patch(url, json=body, headers=w.pm)
    assert_problem(r, 422)
    assert ["body", loc] in error_locs(r)
    assert (await client.get(url, headers=w.pm)).json() == item


@pytest.mark.parametrize(
    ("over", "loc"),
    [
        ({"product_id": "not-a-uuid"}, "product_id"),
        ({"title": 7}, "title"),
        ({"impact": 4}, "impact"),
        ({"confidence": 2}, "confidence"),
        ({"effort": 0.0}, "effort"),
        ({"reach": -1}, "reach"),
        ({"surprise": True}, "surprise"),
        ({"id": "01900000-0000-7000-8000-000000000000"}, "id"),
        ({"version": 3}, "version"),
    ],
)
async def test_bad_create_is_422(client, auth, over, loc):
    w = await make_world(client, auth)
    r = await client.post(URL, json={"product_id": w.pid, "title": "x", **over}, headers=w.pm)
    assert_problem(r, 422)
    assert ["body", loc] in error_locs(r)
    listed = await client.get(f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm)
    assert listed.json()["data"] == []


async def test_create_in_unknown_product_is_404(client, auth):
    r = await client.post(
        URL,
        json={"product_id": "01900000-0000-7000-8000-000000000000", "title": "x"},
        headers=auth("product_manager", new_sub("pm")),
    )
    assert_problem(r, 404)

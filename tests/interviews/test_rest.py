"""Interviews over REST: CRUD, default order, filters, consent purge tombstone, bad input.
(Redaction and access rules per role are covered in tests/authz and tests/phi.)"""

from __future__ import annotations

import pytest

from tests.api.factories import assert_problem, error_locs, make_world, new_sub

URL = "/api/v1/interviews"


async def test_create_get_update_archive(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        URL,
        json={
            "product_id": w.pid,
            "title": "Night shift walkthrough",
            "conducted_on": "2025-02-01",
            "participant_persona": "nurse",
            "site": "North campus",
            "consent_status": "obtained",
            "summary": "Alerts arrive after the rapid response call.",
            "tags": ["alerts", "night"],
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    interview = r.json()
    assert r.headers["etag"] == '"1"'
    assert interview["interviewer_sub"] == w.pm_sub, "defaults to the creator"
    assert interview["conducted_on"] == "2025-02-01" and interview["tags"] == ["alerts", "night"]
    assert interview["redacted"] is False and interview["purged_at"] is None
    assert isinstance(interview["phi_detected"], bool)
    assert isinstance(interview["phi_categories"], list)

    url = f"{URL}/{interview['id']}"
    got = await client.get(url, headers=w.pm)
    assert got.status_code == 200 and got.json() == interview and got.headers["etag"] == '"1"'

    upd = await client.patch(
        url, json={"title": "Night shift", "participant_persona": "physician"}, headers=w.pm
    )
    assert upd.status_code == 200, upd.text
    assert upd.json()["version"] == 2 and upd.json()["participant_persona"] == "physician"

    gone = await client.delete(url, headers=w.pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    assert (await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)).json()["data"] == []
    with_archived = await client.get(
        f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm
    )
    assert [i["id"] for i in with_archived.json()["data"]] == [interview["id"]]


async def test_interviewer_can_be_named(client, auth):
    w = await make_world(client, auth)
    clin = new_sub("clin")
    interview = await w.interview(interviewer_sub=clin)
    assert interview["interviewer_sub"] == clin


async def test_default_order_is_most_recent_first_and_filter_by_product(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    old = await w.interview(conducted_on="2024-01-10")
    new = await w.interview(conducted_on="2025-06-01")
    mid = await w.interview(conducted_on="2024-12-24")
    await other.interview()
    r = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert [i["id"] for i in r.json()["data"]] == [new["id"], mid["id"], old["id"]]
    r = await client.get(f"{URL}?product_id={w.pid}&sort=conducted_on", headers=w.pm)
    assert [i["id"] for i in r.json()["data"]] == [old["id"], mid["id"], new["id"]]
    assert_problem(await client.get(f"{URL}?product_id=zzz", headers=w.pm), 422)
    assert_problem(await client.get(f"{URL}?sort=transcript", headers=w.pm), 422)


async def test_etag_if_match(client, auth):
    w = await make_world(client, auth)
    interview = await w.interview()
    url = f"{URL}/{interview['id']}"
    stale = await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": '"9"'})
    assert_problem(stale, 412)
    assert (await client.get(url, headers=w.pm)).json() == interview
    ok = await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    star = await client.patch(url, json={"title": "m"}, headers={**w.pm, "If-Match": "*"})
    assert star.status_code == 200 and star.json()["version"] == 3


async def test_purge_needs_withdrawn_consent_and_keeps_a_tombstone(client, auth):
    w = await make_world(client, auth)
    co = auth("compliance_officer", new_sub("co"))
    interview = await w.interview(summary="Nurse described the escalation path.")
    url = f"{URL}/{interview['id']}"
    assert_problem(await client.post(f"{url}/purge", headers=co), 409)
    assert (await client.get(url, headers=w.pm)).json() == interview
    await client.patch(url, json={"consent_status": "withdrawn"}, headers=w.pm)
    r = await client.post(f"{url}/purge", headers=co)
    assert r.status_code == 200, r.text
    tomb = r.json()
    assert tomb["purged_at"] is not None and tomb["summary"] is None
    assert tomb["title"] == interview["title"]
    again = await client.get(url, headers=w.pm)
    assert again.status_code == 200 and again.json()["summary"] is None
    refill = await client.patch(url, json={"summary": "again"}, headers=w.pm)
    assert_problem(refill, 409)
    assert (await client.get(url, headers=w.pm)).json()["summary"] is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"conducted_on": "2025-13-01"}, "conducted_on"),
        ({"conducted_on": "yesterday"}, "conducted_on"),
        ({"conducted_on": None}, "conducted_on"),
        ({"participant_persona": "surgeon"}, "participant_persona"),
        ({"consent_status": "maybe"}, "consent_status"),
        ({"title": ""}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"site": "s" * 201}, "site"),
        ({"participant_name": "n" * 201}, "participant_name"),
        ({"participant_contact": "c" * 501}, "participant_contact"),
        ({"transcript": "t" * 200_001}, "transcript"),
        ({"tags": ["t"] * 51}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"interviewer_sub": ""}, "interviewer_sub"),
        ({"interviewer_sub": None}, "interviewer_sub"),
        ({"phi_detected": False}, "phi_detected"),
        ({"redacted": False}, "redacted"),
        ({"purged_at": None}, "purged_at"),
        ({"product_id": "01900000-0000-7000-8000-000000000000"}, "product_id"),
    ],
)
async def test_bad_patch_is_422_and_changes_nothing(client, auth, body, loc):
    w = await make_world(client, auth)
    interview = await w.interview()
    url = f"{URL}/{interview['id']}"
    r = await client.patch(url, json=body, headers=w.pm)
    assert_problem(r, 422)
    assert loc in {x[1] for x in error_locs(r) if len(x) > 1}, error_locs(r)
    assert (await client.get(url, headers=w.pm)).json() == interview


@pytest.mark.parametrize(
    ("drop", "loc"),
    [
        ("title", "title"),
        ("conducted_on", "conducted_on"),
        ("participant_persona", "participant_persona"),
        ("product_id", "product_id"),
    ],
)
async def test_required_fields_on_create(client, auth, drop, loc):
    w = await make_world(client, auth)
    body = {
        "product_id": w.pid,
        "title": "t",
        "conducted_on": "2025-01-01",
        "participant_persona": "nurse",
    }
    del body[drop]
    r = await client.post(URL, json=body, headers=w.pm)
    assert_problem(r, 422)
    assert ["body", loc] in error_locs(r)
    assert (await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)).json()["data"] == []

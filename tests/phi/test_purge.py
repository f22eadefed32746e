"""Consent withdrawn + purge (SPEC §7): every PHI field, quote and redacted rendition is erased
in the stored rows, the tombstone and audit trail stay, and only a compliance officer may."""

from __future__ import annotations

import uuid

import pytest

from tests.api.factories import assert_problem, make_world, new_sub
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql_strict as gql
from tests.phi import rawdb
from tests.phi.samples import QUOTE, assert_no_needles, phi_interview

pytestmark = pytest.mark.asyncio

ERASED_INTERVIEW = (
    "participant_name",
    "participant_contact",
    "transcript",
    "summary",
    "transcript_redacted",
    "summary_redacted",
)


async def _withdrawn(client, w):
    interview = await phi_interview(w)
    insights = [await w.insight(interview["id"], quote=QUOTE) for _ in range(2)]
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"consent_status": "withdrawn"},
        headers=w.pm,
    )
    assert r.status_code == 200, r.text
    return interview, insights


async def test_purge_erases_phi_in_stored_rows_and_keeps_the_tombstone(client, auth, settings):
    w = await make_world(client, auth)
    interview, insights = await _withdrawn(client, w)
    before = await rawdb.row(settings, "interview", interview["id"])
    ciphertexts = [before[c] for c in ("transcript", "summary", "participant_name")]
    co = auth("compliance_officer", new_sub("co"))
    rid = uuid.uuid4().hex

    r = await client.post(
        f"/api/v1/interviews/{interview['id']}/purge", headers={**co, "X-Request-Id": rid}
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["purged_at"] is not None and view["phi_detected"] is False
    assert view["phi_categories"] == []
    for field in ("participant_name", "participant_contact", "transcript", "summary"):
        assert view[field] is None, field
    assert view["title"] == interview["title"] and view["consent_status"] == "withdrawn"

    stored = await rawdb.row(settings, "interview", interview["id"])
    for col in ERASED_INTERVIEW:
        assert stored[col] is None, col
    assert stored["title"] == interview["title"] and stored["purged_at"] is not None
    for i in insights:
        q = await rawdb.row(settings, "insight", i["id"])
        assert q["quote"] is None and q["quote_redacted"] is None, i["id"]
        assert q["title"] == i["title"]  # the finding itself stays, without the quote

    if rawdb.is_sqlite(settings):
        data = await rawdb.sqlite_file_bytes(settings)
        for c in ciphertexts:
            assert c.encode() not in data, "purged ciphertext still in the database file"
    for table, content in (await rawdb.all_text(settings)).items():
        assert_no_needles(content, f"table {table} after purge")

    (event,) = await rawdb.fetch(
        settings, "SELECT * FROM audit_event WHERE client_request_id = :rid", rid=rid
    )
    assert event["action"] == "purge" and event["outcome"] == "success"
    assert event["resource_type"] == "interview"
    ids = str(event["resource_ids"])
    assert interview["id"] in ids and all(i["id"] in ids for i in insights)
    changed = str(event["changed_fields"])
    assert "transcript" in changed and "insight.quote" in changed
    assert_no_needles(" ".join(str(v) for v in event.values()), "purge audit event")

    # every reader now sees the tombstone only, full view or not
    for headers in (w.pm, co, await w.member("engineer")):
        got = await client.get(f"/api/v1/interviews/{interview['id']}", headers=headers)
        assert got.status_code == 200
        body = got.json()
        assert body["transcript"] is None and body["participant_name"] is None
        for i in insights:
            q = await client.get(f"/api/v1/insights/{i['id']}", headers=headers)
            assert q.status_code == 200 and q.json()["quote"] is None


async def test_second_purge_is_harmless_and_phi_cannot_come_back(client, auth, settings):
    w = await make_world(client, auth)
    interview, _ = await _withdrawn(client, w)
    co = auth("compliance_officer", new_sub("co"))
    url = f"/api/v1/interviews/{interview['id']}/purge"
    first = await client.post(url, headers=co)
    assert first.status_code == 200
    again = await client.post(url, headers=co)
    assert again.status_code == 200, again.text
    assert again.json()["purged_at"] == first.json()["purged_at"]
    stored = await rawdb.row(settings, "interview", interview["id"])
    assert all(stored[c] is None for c in ERASED_INTERVIEW)

    for field in ("transcript", "participant_name", "summary", "participant_contact"):
        r = await client.patch(
            f"/api/v1/interviews/{interview['id']}", json={field: "again"}, headers=w.pm
        )
        assert_problem(r, 409)
    # a PHI-free field may still change (the tombstone is a normal resource otherwise)
    ok = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"tags": ["purged"]}, headers=w.pm
    )
    assert ok.status_code == 200 and ok.json()["transcript"] is None


async def test_purge_requires_withdrawn_consent(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    co = auth("compliance_officer", new_sub("co"))
    r = await client.post(f"/api/v1/interviews/{interview['id']}/purge", headers=co)
    body = assert_problem(r, 409)
    assert "withdrawn" in body["detail"]
    assert_no_needles(r.text, "409 body")
    stored = await rawdb.row(settings, "interview", interview["id"])
    assert stored["transcript"] and stored["transcript"].startswith("v1:")
    assert stored["purged_at"] is None


async def test_only_a_compliance_officer_may_purge(client, auth, settings):
    w = await make_world(client, auth)
    interview, _ = await _withdrawn(client, w)
    url = f"/api/v1/interviews/{interview['id']}/purge"
    # may read the interview but not purge it: 403
    for headers in (w.pm, await w.member("engineer"), await w.member("clinician")):
        r = await client.post(url, headers=headers)
        assert_problem(r, 403)
        assert_no_needles(r.text, "403 body")
    # may not read it at all: 404 (its existence is not revealed)
    for role in ("exec", "admin", "product_manager", "engineer"):
        r = await client.post(url, headers=auth(role, new_sub(role)))
        assert_problem(r, 404)
    missing = await client.post(
        f"/api/v1/interviews/{uuid.uuid4()}/purge", headers=auth("compliance_officer")
    )
    assert_problem(missing, 404)

    stored = await rawdb.row(settings, "interview", interview["id"])
    assert stored["purged_at"] is None and stored["transcript"] is not None
    view = await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)
    assert view.json()["participant_name"] is not None


async def test_purge_is_terminal(client, auth, settings):
    """After purge: no new insight (409), no quote on an old one (409), no consent change
    (409), no PHI field (409) — in REST and GraphQL; the tombstone stays."""
    w = await make_world(client, auth)
    interview, insights = await _withdrawn(client, w)
    co = auth("compliance_officer", new_sub("co"))
    purged = await client.post(f"/api/v1/interviews/{interview['id']}/purge", headers=co)
    assert purged.status_code == 200
    clin = await w.member("clinician")

    for headers in (w.pm, clin):
        r = await client.post(
            "/api/v1/insights",
            json={"interview_id": interview["id"], "title": "After", "quote": QUOTE},
            headers=headers,
        )
        assert_problem(r, 409)
        r = await client.post(
            "/api/v1/insights",
            json={"interview_id": interview["id"], "title": "After, no quote"},
            headers=headers,
        )
        assert_problem(r, 409)
    status, body = await gql(
        client,
        "mutation($input: InsightCreateInput!) { createInsight(input: $input) { id } }",
        {"input": {"interviewId": interview["id"], "title": "After"}},
        headers=w.pm,
    )
    assert status == 409 and codes(body) == ["CONFLICT"], body

    r = await client.patch(
        f"/api/v1/insights/{insights[0]['id']}", json={"quote": QUOTE}, headers=w.pm
    )
    assert_problem(r, 409)
    for consent in ("obtained", "not_required"):
        r = await client.patch(
            f"/api/v1/interviews/{interview['id']}", json={"consent_status": consent}, headers=w.pm
        )
        assert_problem(r, 409)
    status, body = await gql(
        client,
        "mutation($id: ID!) { updateInterview(id: $id, input: {consentStatus: OBTAINED}) { id } }",
        {"id": interview["id"]},
        headers=w.pm,
    )
    assert status == 409 and codes(body) == ["CONFLICT"], body

    stored = await rawdb.row(settings, "interview", interview["id"])
    assert stored["consent_status"] == "withdrawn" and stored["purged_at"] is not None
    assert all(stored[c] is None for c in ERASED_INTERVIEW)
    rows = await rawdb.fetch(
        settings,
        "SELECT id FROM insight WHERE interview_id = :i",
        i=rawdb.id_param(settings, interview["id"]),
    )
    assert len(rows) == len(insights)
    for i in insights:
        q = await rawdb.row(settings, "insight", i["id"])
        assert q["quote"] is None and q["quote_redacted"] is None
    # the tombstone and the PHI-free parts of its insights still work
    ok = await client.patch(
        f"/api/v1/insights/{insights[0]['id']}", json={"title": "Renamed"}, headers=w.pm
    )
    assert ok.status_code == 200 and ok.json()["quote"] is None
    tomb = await client.get(f"/api/v1/interviews/{interview['id']}", headers=co)
    assert tomb.status_code == 200 and tomb.json()["title"] == interview["title"]

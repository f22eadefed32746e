"""Minimum necessary over REST: who gets the full PHI view, who the redacted one (SPEC §2, §7);
reads of PHI are flagged in the audit trail; clinical vocabulary is not over-redacted."""

from __future__ import annotations

import uuid

import pytest

from tests.api.factories import make_world, new_sub
from tests.phi import rawdb
from tests.phi.samples import (
    CONTACT,
    NAME,
    NEEDLES,
    QUOTE,
    SUMMARY,
    TRANSCRIPT,
    assert_no_needles,
    phi_interview,
)

pytestmark = pytest.mark.asyncio

# A realistic transcript with no identifier: ages under 90, a bare year, drugs, diagnoses,
# scores and vendor/standard names must all survive redaction untouched.
CLEAN_TRANSCRIPT = (
    "Interviewer: How do nurses on your unit use the deterioration score today?\n"
    "Participant: Our patients are mostly 67 to 84 years old, many with type 2 diabetes, CKD "
    "stage 3 or COPD. In 2023 we moved from paper to Epic, and the FHIR and HL7 v2 feeds into "
    "the early warning model run every 15 minutes.\n"
    "Participant: When the score crosses 7 we start the sepsis bundle: lactate, blood "
    "cultures, then vancomycin and piperacillin-tazobactam within the hour. A 45-year-old "
    "with pneumonia and heart failure gets the same bundle as an 88-year-old.\n"
    "Participant: Metformin and lisinopril do not matter for the alert, but a MAP under 65 "
    "or a lactate above 2 does. Sometimes Cerner sites send HbA1c and eGFR late.\n"
    "Interviewer: What would make the alert more useful?\n"
    "Participant: Showing the qSOFA and SIRS criteria next to the score, and the trend over "
    "the last 6 hours. Alert fatigue is real; we dismiss about 40% of them."
)


async def _get(client, path, headers):
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _assert_full(view):
    assert view["redacted"] is False
    assert view["participant_name"] == NAME and view["participant_contact"] == CONTACT
    assert view["transcript"] == TRANSCRIPT and view["summary"] == SUMMARY


def _assert_redacted(view):
    assert view["redacted"] is True
    assert view["participant_name"] is None and view["participant_contact"] is None
    assert view["transcript"] and view["summary"]
    assert "[NAME]" in view["transcript"] and "[PHONE]" in view["transcript"]
    assert "[EMAIL]" in view["transcript"] and "[DATE]" in view["transcript"]
    assert "sepsis alert in Epic fires too late" in view["transcript"]
    assert_no_needles(str(view), "redacted view")
    assert view["phi_detected"] is True
    assert {"name", "phone", "email", "date", "id"} <= set(view["phi_categories"])


async def test_full_view_for_member_pm_compliance_officer_and_interviewing_clinician(client, auth):
    w = await make_world(client, auth)
    clinician_sub = new_sub("clin")
    clinician = await w.member("clinician", clinician_sub)
    interview = await phi_interview(w, interviewer_sub=clinician_sub)
    insight = await w.insight(interview["id"], quote=QUOTE)
    co = auth("compliance_officer", new_sub("co"))  # not a member: any product

    for who, headers in (("pm", w.pm), ("co", co), ("interviewing clinician", clinician)):
        view = await _get(client, f"/api/v1/interviews/{interview['id']}", headers)
        _assert_full(view)
        listed = await _get(client, f"/api/v1/interviews?product_id={w.pid}", headers)
        (row,) = [v for v in listed["data"] if v["id"] == interview["id"]]
        _assert_full(row)
        q = await _get(client, f"/api/v1/insights/{insight['id']}", headers)
        assert q["quote"] == QUOTE and q["redacted"] is False, who


async def test_redacted_view_for_engineer_and_other_clinician_members(client, auth):
    w = await make_world(client, auth)
    engineer = await w.member("engineer")
    other_clinician = await w.member("clinician")
    interview = await phi_interview(w)  # conducted by the PM
    insight = await w.insight(interview["id"], quote=QUOTE)

    for headers in (engineer, other_clinician):
        view = await _get(client, f"/api/v1/interviews/{interview['id']}", headers)
        _assert_redacted(view)
        listed = await _get(client, f"/api/v1/interviews?product_id={w.pid}", headers)
        (row,) = [v for v in listed["data"] if v["id"] == interview["id"]]
        _assert_redacted(row)
        q = await _get(client, f"/api/v1/insights/{insight['id']}", headers)
        assert q["redacted"] is True and q["quote"] and "[ID]" in q["quote"]
        assert_no_needles(str(q), "redacted insight")
        qs = await _get(client, f"/api/v1/insights?interview_id={interview['id']}", headers)
        assert [x["quote"] for x in qs["data"]] == [q["quote"]]


async def test_exec_gets_redacted_quotes_and_no_interviews(client, auth):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    exec_ = auth("exec", new_sub("exec"))

    q = await _get(client, f"/api/v1/insights/{insight['id']}", exec_)
    assert q["redacted"] is True and "[PHONE]" in q["quote"]
    assert_no_needles(str(q), "exec insight")
    listed = await _get(client, f"/api/v1/insights?product_id={w.pid}", exec_)
    assert all(x["redacted"] for x in listed["data"])
    assert_no_needles(str(listed), "exec insight list")

    r = await client.get(f"/api/v1/interviews/{interview['id']}", headers=exec_)
    assert r.status_code == 404
    assert (await client.get("/api/v1/interviews", headers=exec_)).status_code == 403
    assert_no_needles(r.text, "exec 404")


async def test_non_members_and_admin_learn_nothing(client, auth):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    for role in ("product_manager", "engineer", "clinician", "admin"):
        headers = auth(role, new_sub(role))
        r = await client.get(f"/api/v1/interviews/{interview['id']}", headers=headers)
        assert r.status_code == 404, role
        assert_no_needles(r.text, f"{role} 404")
        r = await client.get(f"/api/v1/insights/{insight['id']}", headers=headers)
        assert r.status_code == 404, role
        listed = await client.get(f"/api/v1/interviews?product_id={w.pid}", headers=headers)
        if listed.status_code == 200:
            assert listed.json()["data"] == [], role
        assert_no_needles(listed.text, f"{role} list")


async def test_phi_access_is_flagged_in_the_audit_trail(client, auth, settings):
    w = await make_world(client, auth)
    engineer = await w.member("engineer")
    interview = await phi_interview(w)

    async def audited(headers):
        rid = uuid.uuid4().hex
        r = await client.get(
            f"/api/v1/interviews/{interview['id']}", headers={**headers, "X-Request-Id": rid}
        )
        assert r.status_code == 200
        (event,) = await rawdb.fetch(
            settings, "SELECT * FROM audit_event WHERE client_request_id = :rid", rid=rid
        )
        return event

    full = await audited(w.pm)
    assert bool(full["phi_accessed"]) is True and full["action"] == "read"
    redacted = await audited(engineer)
    assert bool(redacted["phi_accessed"]) is False
    assert interview["id"] in str(redacted["resource_ids"])


async def test_realistic_clinical_transcript_is_not_over_redacted(client, auth):
    w = await make_world(client, auth)
    engineer = await w.member("engineer")
    interview = await w.interview(transcript=CLEAN_TRANSCRIPT, summary="Alert fires late.")
    assert interview["phi_detected"] is False and interview["phi_categories"] == []
    view = await _get(client, f"/api/v1/interviews/{interview['id']}", engineer)
    assert view["redacted"] is True
    assert view["transcript"] == CLEAN_TRANSCRIPT
    for kept in (
        "67 to 84 years old",
        "88-year-old",
        "2023",
        "Epic",
        "FHIR",
        "HL7",
        "vancomycin",
        "Metformin",
        "CKD",
        "COPD",
        "Cerner",
        "qSOFA",
    ):
        assert kept in view["transcript"], kept


async def test_needles_are_detected_at_all(client, auth):
    """Guard for the other tests: the sample PHI is what the detector does catch."""
    from app.phi.detector import detect

    result = detect(TRANSCRIPT, names=[NAME])
    for needle in NEEDLES:
        assert needle not in result.redacted, needle

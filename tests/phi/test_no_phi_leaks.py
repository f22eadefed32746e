"""PHI goes to the PHI columns and to callers entitled to it, nowhere else: not to
application logs (every logger at DEBUG), not to audit events, not to error bodies or
validation errors, whatever the request does or how it fails."""

from __future__ import annotations

import logging
import uuid

import orjson
import pytest

from app.ops.logs import json_formatter
from tests.api.factories import make_world, new_sub
from tests.phi import rawdb
from tests.phi.samples import (
    CONTACT,
    DOB,
    EMAIL,
    MRN,
    NAME,
    PHONE,
    QUOTE,
    SUMMARY,
    TRANSCRIPT,
    assert_no_needles,
    phi_interview,
)

pytestmark = pytest.mark.asyncio

CLIENT_LOGGERS = ("httpx", "httpcore")


@pytest.fixture
def all_logs(caplog):
    """caplog, with every logger (including non-propagating ones) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    touched = []
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        touched.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    yield caplog
    for logger, level, disabled in touched:
        logger.setLevel(level)
        logger.disabled = disabled
        if caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


def _log_text(caplog) -> str:
    parts = []
    for rec in caplog.records:
        if rec.name.startswith(CLIENT_LOGGERS):
            continue  # the test's HTTP client logs the URLs it was asked to fetch
        parts.append(rec.getMessage())
        parts.append(repr(rec.args))
        if rec.exc_info:
            parts.append(logging.Formatter().formatException(rec.exc_info))
        if rec.exc_text:
            parts.append(rec.exc_text)
    return "\n".join(parts)


async def test_phi_end_to_end_stays_out_of_logs_audit_and_errors(
    client, auth, settings, all_logs, capsys
):
    w = await make_world(client, auth)
    engineer = await w.member("engineer")
    outsider = auth("product_manager", new_sub("outsider"))
    co = auth("compliance_officer", new_sub("co"))
    request_ids: list[str] = []
    exposed: list[str] = []  # bodies a PHI-less caller or an error produced

    async def call(method, url, headers, *, expect, json=None, content=None, full=False):
        rid = uuid.uuid4().hex
        request_ids.append(rid)
        h = {**headers, "X-Request-Id": rid}
        if content is not None:
            h["content-type"] = "application/json"
        r = await client.request(method, url, headers=h, json=json, content=content)
        assert r.status_code == expect, (method, url, r.status_code, r.text[:300])
        if not full:
            exposed.append(f"{method} -> {r.status_code}: {r.text}")
        return r

    # --- happy path: create, update, read and list with PHI everywhere
    interview = await phi_interview(w)
    iid = interview["id"]
    insight = (
        await call(
            "POST",
            "/api/v1/insights",
            w.pm,
            expect=201,
            json={"interview_id": iid, "title": "Late alerts", "quote": QUOTE},
            full=True,
        )
    ).json()
    await call(
        "PATCH",
        f"/api/v1/interviews/{iid}",
        w.pm,
        expect=200,
        json={"transcript": TRANSCRIPT + f"\nAlso call {PHONE}.", "participant_name": NAME},
        full=True,
    )
    await call("GET", f"/api/v1/interviews/{iid}", w.pm, expect=200, full=True)
    await call("GET", f"/api/v1/interviews/{iid}", co, expect=200, full=True)
    await call("GET", f"/api/v1/interviews/{iid}", engineer, expect=200)
    await call("GET", f"/api/v1/interviews?product_id={w.pid}", engineer, expect=200)
    await call("GET", f"/api/v1/insights/{insight['id']}", engineer, expect=200)
    await call("GET", f"/api/v1/insights?interview_id={iid}", engineer, expect=200)
    await call("GET", f"/api/v1/insights?product_id={w.pid}", auth("exec"), expect=200)

    # --- failures whose input carries PHI
    base = {
        "product_id": w.pid,
        "title": "Walkthrough",
        "conducted_on": "2025-03-04",
        "participant_persona": "nurse",
        "participant_name": NAME,
        "participant_contact": CONTACT,
        "transcript": TRANSCRIPT,
    }
    for bad in (
        {"participant_persona": f"{NAME} {PHONE}"},  # invalid enum value that is PHI
        {"conducted_on": f"{DOB} {NAME}"},  # invalid date that is PHI
        {"participant_name": NAME * 20},  # too long
        {"participant_contact": [EMAIL, PHONE]},  # wrong type
        {"transcript": 12345, "summary": {"name": NAME}},
        {"patient_name": NAME},  # unknown field
        {"product_id": f"{NAME}"},  # not a uuid
    ):
        await call("POST", "/api/v1/interviews", w.pm, expect=422, json={**base, **bad})
    await call(
        "PATCH",
        f"/api/v1/interviews/{iid}",
        w.pm,
        expect=422,
        json={"participant_name": NAME * 20, "summary": SUMMARY},
    )
    await call(
        "POST",
        "/api/v1/insights",
        w.pm,
        expect=422,
        json={"interview_id": iid, "title": "x", "quote": QUOTE * 100},
    )
    await call(  # malformed JSON around PHI
        "POST",
        "/api/v1/interviews",
        w.pm,
        expect=400,
        content=f'{{"participant_name": "{NAME}", "transcript": "{PHONE}'.encode(),
    )
    await call(  # PHI in the query string
        "GET", f"/api/v1/interviews?product_id={NAME}&q={EMAIL}", w.pm, expect=422
    )
    await call(
        "PATCH",
        f"/api/v1/interviews/{iid}",
        {**w.pm, "If-Match": '"999"'},
        expect=412,
        json={"summary": SUMMARY},
    )
    await call(
        "PATCH", f"/api/v1/interviews/{iid}", engineer, expect=403, json={"summary": SUMMARY}
    )
    await call(
        "PATCH", f"/api/v1/interviews/{iid}", outsider, expect=404, json={"summary": SUMMARY}
    )
    await call(
        "POST",
        "/api/v1/interviews",
        outsider,
        expect=403,
        json=base,
    )
    # PHI in an unmatched path, in a path parameter, and in the user agent (issue 19 item 16)
    await call("GET", f"/api/v1/nothing-here/{NAME} DOB {DOB} MRN {MRN}", w.pm, expect=404)
    await call("GET", f"/api/v1/interviews/{NAME} MRN {MRN}", w.pm, expect=422)
    await call(
        "GET", "/api/v1/products", {**w.pm, "User-Agent": f"{NAME} {PHONE} {EMAIL}"}, expect=200
    )
    await call("POST", f"/api/v1/interviews/{iid}/purge", co, expect=409)
    await call("POST", f"/api/v1/interviews/{iid}/purge", w.pm, expect=403)
    await call(
        "POST",
        "/api/v1/interviews",
        {"Authorization": "Bearer not-a-token"},
        expect=401,
        json=base,
    )

    # --- a stored value that does not decrypt: 500, without the value
    stored = await rawdb.row(settings, "interview", iid)
    await rawdb.execute(
        settings,
        "UPDATE interview SET participant_name = participant_contact WHERE id = :id",
        id=rawdb.id_param(settings, iid),
    )
    try:
        await call("GET", f"/api/v1/interviews/{iid}", w.pm, expect=500)
        await call("GET", f"/api/v1/interviews?product_id={w.pid}", w.pm, expect=500)
    finally:
        await rawdb.execute(
            settings,
            "UPDATE interview SET participant_name = :v WHERE id = :id",
            v=stored["participant_name"],
            id=rawdb.id_param(settings, iid),
        )

    # --- nothing exposed, logged or audited carries PHI
    for body in exposed:
        assert_no_needles(body, body[:80])
        assert "Traceback" not in body
    assert all_logs.records, "logging was not captured"
    for line in _log_text(all_logs).splitlines():
        assert_no_needles(line, "application log: " + line[:400])
    # The JSON lines as the service writes them (app/ops/logs.py): the other rounds.* records
    # through the service's formatter, and the access log from stderr, one line per request
    # with the server's request id, the caller's beside it and the route template, never a path.
    formatter = json_formatter()
    lines = [formatter.format(rec) for rec in all_logs.records if rec.name.startswith("rounds")]
    lines += [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("{")]
    access = []
    for line in lines:
        assert_no_needles(line, "JSON log line: " + line[:400])
        assert "?" not in line and "Traceback" not in line, line
        doc = orjson.loads(line)
        if doc.get("logger") == "rounds.access" and doc.get("client_request_id") in request_ids:
            access.append(doc)
    assert len(access) == len(request_ids)
    for doc in access:
        assert len(doc["request_id"]) == 32 and doc["request_id"] != doc["client_request_id"]
        assert doc["route"] == "<unmatched>" or doc["route"].startswith("/api/v1/")
        assert {"method", "status", "duration_ms", "actor_sub", "timestamp"} <= set(doc)

    events = await rawdb.fetch(settings, "SELECT * FROM audit_event")
    ours = [e for e in events if e["client_request_id"] in request_ids]
    assert {e["path"] for e in ours} >= {"<unmatched>", "/api/v1/interviews/{interview_id}"}
    assert len(ours) >= len(request_ids)  # every request left its event, failures included
    for e in events:
        assert_no_needles(" | ".join(str(v) for v in e.values()), f"audit event {e['id']}")
    failed = [e for e in ours if e["status_code"] >= 400]
    assert {e["status_code"] for e in failed} >= {400, 401, 403, 404, 409, 412, 422, 500}
    assert all("?" not in e["path"] for e in ours)  # no query string (it carried PHI)

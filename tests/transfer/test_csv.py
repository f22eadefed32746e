"""CSV in and out on both databases: Jira import, dry-run reports with every row error, one
transaction and one audit event, the workflow and clinical gate, PHI redaction, exports with
the list filters, and the Jira round trip (import → export → import changes nothing)."""

from __future__ import annotations

import csv
import io
import json

from tests.api.factories import assert_problem, make_world, new_sub

HEADER = "Summary,Issue key,Status,Story Points,Sprint,Sprint,Labels,Labels,Description\r\n"


def jira_csv(key: str, rows: list[str]) -> bytes:
    return (HEADER + "".join(r.replace("KEY", key) + "\r\n" for r in rows)).encode()


def JIRA(key: str) -> bytes:
    return jira_csv(
        key,
        [
            'Show the sepsis score,KEY-1,To Do,3,,S1,ui,alerting,"Nurses need it, fast"',
            "Page the rapid response team,KEY-2,In Progress,5,S1,S2,paging,,",
            "Audit the alarm ladder,KEY-3,Done,,,,,,Closed out",
        ],
    )


async def _import(client, w, data: bytes, *, dry_run: bool = False, headers=None):
    return await client.post(
        f"/api/v1/products/{w.pid}/stories/import",
        params={"dry_run": str(dry_run).lower()},
        files={"file": ("export.csv", data, "text/csv")},
        headers=headers or w.pm,
    )


async def _stories(client, w) -> list[dict]:
    r = await client.get("/api/v1/stories", params={"product_id": w.pid}, headers=w.pm)
    return r.json()["data"]


def _jira_key(w) -> str:
    return w.key.upper()


async def test_jira_import_dry_run_then_for_real(client, auth):
    w = await make_world(client, auth)
    data = JIRA(_jira_key(w))
    dry = await _import(client, w, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True and report["format"] == "jira"
    assert (report["created"], report["updated"], report["errors"]) == (3, 0, [])
    assert await _stories(client, w) == []  # nothing written
    real = await _import(client, w, data)
    assert real.status_code == 200, real.text
    assert real.json()["created"] == 3
    stories = {s["jira_key"]: s for s in await _stories(client, w)}
    one = stories[f"{_jira_key(w)}-1"]
    assert one["title"] == "Show the sepsis score" and one["status"] == "backlog"
    assert one["story_points"] == 3 and one["sprint"] == "S1"
    assert one["labels"] == ["ui", "alerting"] and one["description"] == "Nurses need it, fast"
    assert stories[f"{_jira_key(w)}-2"]["status"] == "in_progress"
    assert stories[f"{_jira_key(w)}-2"]["sprint"] == "S2"  # the last sprint column
    assert stories[f"{_jira_key(w)}-3"]["status"] == "done"
    # one audit event for the whole import, listing the ids
    co = auth("compliance_officer", new_sub("co"))
    events = (
        await client.get("/api/v1/audit-events", params={"actor_sub": w.pm_sub}, headers=co)
    ).json()["data"]
    imports = [e for e in events if e["action"] == "import"]
    assert len(imports) == 2  # the dry run and the import
    assert sorted(imports[0]["resource_ids"]) == sorted(s["id"] for s in stories.values())
    assert imports[1]["resource_ids"] == [] and imports[1]["changed_fields"] == ["dry_run"]
    assert not [e for e in events if e["action"] == "create" and e["resource_type"] == "story"]


async def test_dry_run_reports_every_row_error_and_a_real_run_writes_nothing(client, auth):
    w = await make_world(client, auth)
    data = jira_csv(
        _jira_key(w),
        [
            "Fine row,KEY-1,To Do,3,,,,,",
            ",KEY-2,To Do,,,,,,",  # no summary
            "Bad points,KEY-3,To Do,4,,,,,",
            "Bad status,KEY-4,Somewhere,,,,,,",
            "Bad key,not a key,To Do,,,,,,",
            "x" * 301 + ",KEY-6,To Do,,,,,,",
        ],
    )
    dry = await _import(client, w, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    errors = [(e["line"], e["column"]) for e in dry.json()["errors"]]
    assert errors == [
        (3, "Summary"),
        (4, "Story Points"),
        (5, "Status"),
        (6, "Issue key"),
        (7, "Summary"),
    ]
    assert "x" * 50 not in dry.text  # reasons never echo values
    real = await _import(client, w, data)
    body = assert_problem(real, 422)
    assert [(e["line"], e["column"]) for e in body["errors"]] == errors
    assert await _stories(client, w) == []


async def test_import_follows_the_workflow_and_the_clinical_gate(client, auth):
    w = await make_world(client, auth)
    gated = await w.story(
        title="Gated", clinical_review_required=True, jira_key=f"{_jira_key(w)}-9"
    )
    data = jira_csv(_jira_key(w), ["Gated,KEY-9,Done,,,,,,"])
    r = await _import(client, w, data, dry_run=True)
    err = r.json()["errors"]
    assert [e["line"] for e in err] == [2]
    assert "clinical review" in err[0]["reason"]
    assert_problem(await _import(client, w, data), 422)
    still = (await client.get(f"/api/v1/stories/{gated['id']}", headers=w.pm)).json()
    assert still["status"] == "backlog" and still["version"] == gated["version"]


async def test_text_columns_are_phi_scanned(client, auth):
    w = await make_world(client, auth)
    phone = "555-867-5309"
    data = jira_csv(_jira_key(w), [f'Call back,KEY-1,To Do,,,,,,"Patient at {phone} asked"'])
    r = await _import(client, w, data)
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["phi_redacted"] == ["description"] and phone not in r.text
    (story,) = await _stories(client, w)
    assert phone not in story["description"]


async def test_jira_round_trip_is_a_no_op(client, auth):
    w = await make_world(client, auth)
    assert (await _import(client, w, JIRA(_jira_key(w)))).status_code == 200
    before = await _stories(client, w)
    exported = await client.get(
        "/api/v1/stories/export", params={"format": "csv", "product_id": w.pid}, headers=w.pm
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["key"] for r in rows] == [s["key"] for s in before]
    again = await _import(client, w, exported.content)
    assert again.status_code == 200, again.text
    report = again.json()
    assert report["format"] == "rounds"
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    jira_again = (await _import(client, w, JIRA(_jira_key(w)))).json()
    assert (jira_again["created"], jira_again["updated"], jira_again["unchanged"]) == (0, 0, 3)
    assert await _stories(client, w) == before


async def test_exports_use_the_list_filters_and_are_audited(client, auth):
    w = await make_world(client, auth)
    eng_sub = new_sub("eng")
    eng = await w.member("engineer", eng_sub)
    mine = await w.story(title="Mine", assignee_sub=eng_sub, labels=["ui"])
    await w.story(title="Other", labels=["ui"])
    r = await client.get(
        "/api/v1/stories/export",
        params={"format": "json", "product_id": w.pid, "assignee": "me"},
        headers=eng,
    )
    assert r.status_code == 200, r.text
    assert [s["id"] for s in json.loads(r.content)["data"]] == [mine["id"]]
    r = await client.get(
        "/api/v1/stories/export", params={"product_id": w.pid, "labels": "ui"}, headers=eng
    )
    assert len(list(csv.DictReader(io.StringIO(r.text)))) == 2
    item = await w.roadmap_item(title="Owned", owner_sub=w.pm_sub)
    r = await client.get(
        "/api/v1/roadmap-items/export", params={"product_id": w.pid, "owner": "me"}, headers=w.pm
    )
    assert [row["id"] for row in csv.DictReader(io.StringIO(r.text))] == [item["id"]]
    co = auth("compliance_officer", new_sub("co"))
    events = (
        await client.get("/api/v1/audit-events", params={"actor_sub": w.pm_sub}, headers=co)
    ).json()["data"]
    assert events[0]["action"] == "export" and events[0]["resource_ids"] == [item["id"]]
    assert_problem(await client.get("/api/v1/stories/export?format=xml", headers=w.pm), 422)


async def test_bad_files_and_who_may_import(client, auth):
    w = await make_world(client, auth)
    assert_problem(await _import(client, w, b"\xff\xfe\x00bad"), 422)
    assert_problem(await _import(client, w, b"foo,bar\r\n1,2\r\n"), 422)
    assert_problem(await _import(client, w, b""), 422)
    assert_problem(await _import(client, w, b"Summary\r\n" + b"x" * 2_000_001), 413)
    clin = await w.member("clinician")
    assert_problem(await _import(client, w, JIRA(_jira_key(w)), headers=clin), 403)
    outsider = auth("engineer", new_sub("eng"))
    assert_problem(await _import(client, w, JIRA(_jira_key(w)), headers=outsider), 403)
    assert await _stories(client, w) == []


async def test_import_events_read_back_over_graphql_and_fhir(client, auth):
    w = await make_world(client, auth)
    assert (await _import(client, w, JIRA(_jira_key(w)))).status_code == 200
    co = auth("compliance_officer", new_sub("co"))
    r = await client.post(
        "/graphql",
        json={
            "query": "query($a: String) { auditEvents(actorSub: $a, action: IMPORT) "
            "{ nodes { action resourceType } } }",
            "variables": {"a": w.pm_sub},
        },
        headers=co,
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert r.json()["data"]["auditEvents"]["nodes"] == [
        {"action": "IMPORT", "resourceType": "story"}
    ]
    fhir = await client.get(
        "/api/v1/audit-events/export",
        params={"format": "fhir", "actor_sub": w.pm_sub, "action": "import"},
        headers=co,
    )
    assert fhir.status_code == 200, fhir.text
    assert '"C"' in fhir.text

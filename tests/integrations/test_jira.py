"""Jira webhook (SPEC §9) through the real endpoint: committed fixtures of the shapes Jira
Cloud and Jira Server send, signed like Jira signs them; every refusal changes nothing and
leaves an audit event naming integration:jira."""

from __future__ import annotations

import json
import shlex
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.config import get_settings
from app.db.types import utcnow
from app.integrations.models import JiraDelivery
from app.stories.models import Story
from tests.api.factories import assert_problem, make_world
from tests.auth.helpers import run_cli
from tests.conftest import unique_key
from tests.integrations.conftest import FIXTURES, JIRA_SECRET
from tests.integrations.helpers import JIRA_URL, audit_of, count, jira_headers, post_jira


def fixture(name: str, project: str, **replace: Any) -> bytes:
    """A committed fixture with the placeholder project RNDJ renamed (tests share one
    database, and project keys and issue keys are unique)."""
    raw = (FIXTURES / "jira" / f"{name}.json").read_text()
    raw = raw.replace('"RNDJ', f'"{project}')
    for old, new in replace.items():
        raw = raw.replace(old, new)
    return raw.encode()


SUMMARY_CHANGED = json.dumps(
    {"field": "summary", "fieldtype": "jira", "fieldId": "summary", "toString": "y"}
)


async def linked_world(client, auth, **status_map: str):
    w = await make_world(client, auth)
    project = "J" + unique_key("P")[1:9]
    body: dict[str, Any] = {"jira_project_key": project}
    if status_map:
        body["jira_status_map"] = status_map
    r = await client.patch(f"/api/v1/products/{w.pid}", json=body, headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.json()["jira_project_key"] == project
    return w, project


async def story_by_jira(client, w, jira_key: str, **params: str) -> dict[str, Any] | None:
    r = await client.get(
        "/api/v1/stories", params={"product_id": w.pid, "include_archived": "true"}, headers=w.pm
    )
    rows = [s for s in r.json()["data"] if s["jira_key"] == jira_key]
    return rows[0] if rows else None


async def deliveries(app, delivery_id: str) -> int:
    return await count(app, JiraDelivery, JiraDelivery.delivery_id == delivery_id)


def assert_jira_actor(event) -> None:
    assert event.actor_sub == "integration:jira" and event.actor_type == "service"


async def test_lifecycle_cloud_and_server_shapes(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    key = f"{project}-7"

    r = await post_jira(integ, fixture("cloud_issue_created", project))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "applied" and body["story_key"] == f"{w.key}-1"
    story = await story_by_jira(client, w, key)
    assert story["id"] == body["story_id"]
    assert story["title"] == "Show the sepsis score on the *ICU* board"
    # Wiki markup became readable text: heading, bullets, code kept, link text kept.
    assert story["description"] == (
        "Why\nCharge nurses miss rising scores.\n- show the score\n- show the trend\n"
        "score >= 0.8\nSee runbook"
    )
    assert story["status"] == "ready" and story["story_points"] == 3
    assert story["jira_sync"]["state"] == "in_sync"
    assert story["jira_sync"]["jira_status"] == "To Do"
    assert story["jira_sync"]["changed_by"] == "accountId:5f0c1a2b3c4d5e6f70819203"
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert event.action == "create" and event.resource_type == "story"
    assert event.resource_ids == [story["id"]] and event.outcome == "success"

    r = await post_jira(integ, fixture("cloud_issue_updated_started", project))
    assert r.status_code == 200 and r.json()["status"] == "applied"
    story = await story_by_jira(client, w, key)
    assert story["status"] == "in_progress" and story["jira_sync"]["state"] == "in_sync"
    # Only changed fields apply: the delivery's shorter description did not overwrite.
    assert story["description"].startswith("Why\n")
    assert (await audit_of(integ_app, r)).action == "update"

    # GDPR-shaped Cloud user (accountId only) and an ADF description.
    r = await post_jira(integ, fixture("cloud_issue_updated_gdpr_adf", project))
    assert r.status_code == 200, r.text
    story = await story_by_jira(client, w, key)
    assert story["title"] == "Show the sepsis score and trend on the ICU board"
    assert story["description"] == (
        "Show the score and its trend on the ICU board.\n\n- refresh every 5 minutes\n"
        "- @[NAME] signs off"  # a person's name is PHI-detected and redacted
    )
    assert story["story_points"] == 5 and story["status"] == "in_progress"
    assert story["jira_sync"]["changed_by"].startswith("accountId:712020:")

    # Jira Server (name/key users): Resolved is in the done category, but in_progress ->
    # done skips review: Rounds' workflow wins and says so.
    r = await post_jira(integ, fixture("server_issue_updated_resolved", project))
    assert r.status_code == 200, r.text
    story = await story_by_jira(client, w, key)
    assert story["status"] == "in_progress"
    sync = story["jira_sync"]
    assert sync["state"] == "conflict" and sync["jira_status"] == "Resolved"
    assert "in_progress" in sync["detail"] and "allowed" in sync["detail"]
    assert sync["changed_by"] == "key:JIRAUSER10100"

    # The same state through GraphQL.
    q = "query($k: String!) { story(key: $k) { jiraSync { state detail jiraStatus lastEventAt } } }"
    g = await client.post(
        "/graphql", json={"query": q, "variables": {"k": story["key"]}}, headers=w.pm
    )
    gsync = g.json()["data"]["story"]["jiraSync"]
    assert datetime.fromisoformat(gsync.pop("lastEventAt")) == datetime.fromisoformat(
        sync["last_event_at"]
    )
    assert gsync == {"state": "conflict", "detail": sync["detail"], "jiraStatus": "Resolved"}

    r = await post_jira(integ, fixture("cloud_issue_deleted", project))
    assert r.status_code == 200, r.text
    story = await story_by_jira(client, w, key)
    assert story["archived_at"] is not None
    assert (await audit_of(integ_app, r)).action == "delete"


async def test_server_status_without_category_and_custom_map(integ, client, auth):
    w, project = await linked_world(client, auth, **{"open": "backlog"})
    r = await post_jira(integ, fixture("server_issue_created_no_category", project))
    assert r.status_code == 200, r.text
    story = await story_by_jira(client, w, f"{project}-8")
    assert story["status"] == "backlog", "the product's map (case-insensitive) wins"
    assert story["jira_sync"]["changed_by"] == "key:JIRAUSER10100"

    w2, project2 = await linked_world(client, auth)
    r = await post_jira(integ, fixture("server_issue_created_no_category", project2))
    story = await story_by_jira(client, w2, f"{project2}-8")
    assert story["status"] == "ready", "Jira's built-in Open is in the new category"


async def test_done_while_clinical_review_is_pending(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    key = f"{project}-7"
    await post_jira(integ, fixture("cloud_issue_created", project))
    story = await story_by_jira(client, w, key)
    eng = await w.member("engineer")
    r = await client.patch(
        f"/api/v1/stories/{story['id']}",
        json={"clinical_review_required": True},
        headers=w.pm,
    )
    assert r.status_code == 200
    for status in ("in_progress", "in_review"):
        r = await client.patch(
            f"/api/v1/stories/{story['id']}", json={"status": status}, headers=eng
        )
        assert r.status_code == 200, r.text
    before = (await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)).json()
    assert before["clinical_review"]["status"] == "pending"

    # Jira says Done (and renames the issue) while the clinical review is pending.
    done = fixture(
        "cloud_issue_updated_started",
        project,
        **{
            '"name": "In Progress"': '"name": "Done"',
            '"key": "indeterminate"': '"key": "done"',
            '"toString": "In Progress"': '"toString": "Done"',
            '"summary": "Show the sepsis score on the *ICU* board"': (
                '"summary": "Sepsis score on the ICU board"'
            ),
            '"items": [': '"items": [' + SUMMARY_CHANGED + ",",
        },
    )
    r = await post_jira(integ, done)
    assert r.status_code == 200, r.text
    after = (await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)).json()
    assert after["status"] == "in_review", "the clinical gate wins over Jira"
    assert after["title"] == "Sepsis score on the ICU board", "the rest of the change applies"
    sync = after["jira_sync"]
    assert sync["state"] == "conflict" and sync["jira_status"] == "Done"
    assert "clinical review" in sync["detail"] and "in_review" in sync["detail"]
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert "status" not in event.changed_fields and "title" in event.changed_fields

    # Once the clinician approves, the next Jira event (even one with an empty changelog)
    # retries the move and the story follows Jira again.
    clin = await w.member("clinician")
    r = await client.post(
        f"/api/v1/stories/{story['id']}/clinical-review", json={"status": "approved"}, headers=clin
    )
    assert r.status_code == 200, r.text
    r = await post_jira(integ, fixture("cloud_issue_assigned_empty_changelog", project))
    assert r.status_code == 200, r.text
    final = (await client.get(f"/api/v1/stories/{story['id']}", headers=w.pm)).json()
    assert final["status"] == "done" and final["jira_sync"]["state"] == "in_sync"


async def test_phi_in_jira_text_is_stored_redacted(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    raw = fixture(
        "cloud_issue_created",
        project,
        **{
            "Charge nurses miss *rising* scores.": "Patient Maria Gonzalez, MRN 00482913, "
            "call 555-0142 or maria.gonzalez@example.org."
        },
    )
    r = await post_jira(integ, raw)
    assert r.status_code == 200, r.text
    story = await story_by_jira(client, w, f"{project}-7")
    for secret in ("Gonzalez", "00482913", "555-0142", "maria.gonzalez@example.org"):
        assert secret not in story["description"]
    assert "[EMAIL]" in story["description"] and "[NAME]" in story["description"]
    event = await audit_of(integ_app, r)
    assert event.phi_accessed is True, "the delivery carried PHI that Rounds handled"
    assert "Gonzalez" not in json.dumps(
        {c.name: str(getattr(event, c.name)) for c in event.__table__.columns}
    )


# --- refusals: nothing changes, an event is audited --------------------------------------


async def test_refused_while_secret_unset(app, client, auth):
    w, project = await linked_world(client, auth)
    raw = fixture("cloud_issue_created", project)
    headers = jira_headers(raw)
    r = await client.post(JIRA_URL, content=raw, headers=headers)
    body = assert_problem(r, 401)
    assert "not configured" in body["detail"]
    assert await story_by_jira(client, w, f"{project}-7") is None
    assert await deliveries(app, headers["X-Atlassian-Webhook-Identifier"]) == 0
    event = await audit_of(app, r)
    assert_jira_actor(event)
    assert event.action == "auth_failed" and event.outcome == "denied"


@pytest.mark.parametrize("case", ["wrong secret", "missing", "tampered body"])
async def test_bad_signature(integ, integ_app, client, auth, case):
    w, project = await linked_world(client, auth)
    raw = fixture("cloud_issue_created", project)
    headers = jira_headers(raw, secret="not-the-secret" if case == "wrong secret" else JIRA_SECRET)
    if case == "missing":
        del headers["X-Hub-Signature"]
    sent = raw.replace(b"sepsis", b"SEPSIS") if case == "tampered body" else raw
    r = await integ.post(JIRA_URL, content=sent, headers=headers)
    assert_problem(r, 401)
    assert await story_by_jira(client, w, f"{project}-7") is None
    assert await deliveries(integ_app, headers["X-Atlassian-Webhook-Identifier"]) == 0
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert event.action == "auth_failed"


async def test_replayed_delivery_is_a_duplicate(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    await post_jira(integ, fixture("cloud_issue_created", project))
    raw = fixture("cloud_issue_updated_started", project)
    delivery = str(uuid.uuid4().int)[:17]
    first = await post_jira(integ, raw, delivery=delivery)
    assert first.json()["status"] == "applied"
    story = await story_by_jira(client, w, f"{project}-7")
    # A PM moves the story back meanwhile; Jira's retry must not move it again.
    r = await client.patch(f"/api/v1/stories/{story['id']}", json={"status": "ready"}, headers=w.pm)
    assert r.status_code == 200
    before = await story_by_jira(client, w, f"{project}-7")
    again = await post_jira(integ, raw, delivery=delivery)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert await story_by_jira(client, w, f"{project}-7") == before
    assert await deliveries(integ_app, delivery) == 1
    event = await audit_of(integ_app, again)
    assert_jira_actor(event)
    assert event.resource_type == "jira_delivery" and event.changed_fields == []


async def test_out_of_order_delivery_is_stale(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    await post_jira(integ, fixture("cloud_issue_created", project))
    await post_jira(integ, fixture("cloud_issue_updated_gdpr_adf", project))
    before = await story_by_jira(client, w, f"{project}-7")
    older = fixture("cloud_issue_updated_started", project)  # happened before the last one
    r = await post_jira(integ, older)
    assert r.status_code == 200 and r.json() == {"status": "stale"}
    assert await story_by_jira(client, w, f"{project}-7") == before
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert event.changed_fields == [] and event.resource_type == "jira_delivery"


async def test_unlinked_project_is_ignored(integ, integ_app):
    project = "J" + unique_key("U")[1:9]
    r = await post_jira(integ, fixture("cloud_issue_created", project))
    assert r.status_code == 202 and r.json()["status"] == "ignored"
    async with integ_app.state.sessionmaker() as session:
        found = await session.scalar(select(Story.id).where(Story.jira_key == f"{project}-7"))
    assert found is None
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert event.status_code == 202 and event.resource_ids == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"webhookEvent": "jira:issue_created", "issue": ',
        b'["jira:issue_created"]',
        b'{"webhookEvent": "jira:issue_created", "timestamp": 1}',
        b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "not a key", "fields": {}}}',
        b'{"issue": {"key": "ABC-1", "fields": {}}}',
    ],
    ids=["truncated", "not an object", "no issue", "bad key", "no event"],
)
async def test_malformed_body_is_400_and_changes_nothing(integ, integ_app, raw):
    headers = jira_headers(raw)
    before = await count(integ_app, Story)
    r = await integ.post(JIRA_URL, content=raw, headers=headers)
    assert_problem(r, 400)
    assert await count(integ_app, Story) == before
    assert await deliveries(integ_app, headers["X-Atlassian-Webhook-Identifier"]) == 0
    event = await audit_of(integ_app, r)
    assert_jira_actor(event)
    assert event.outcome == "error" and event.status_code == 400


# --- linking a product -------------------------------------------------------------------


async def test_product_link_fields_are_validated_and_unique(client, auth):
    w, project = await linked_world(client, auth, **{"Code Review": "in_review"})
    got = (await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)).json()
    assert got["jira_status_map"] == {"Code Review": "in_review"}
    other = await make_world(client, auth)
    url = f"/api/v1/products/{other.pid}"
    assert_problem(
        await client.patch(url, json={"jira_project_key": project}, headers=other.pm), 409
    )
    for bad in (
        {"jira_project_key": "lower"},
        {"jira_project_key": "X"},
        {"jira_status_map": {"Done": "finished"}},
        {"jira_status_map": {"Done": "done", "DONE": "done"}},
        {"jira_status_map": None},
    ):
        assert_problem(await client.patch(url, json=bad, headers=other.pm), 422)
    # Only a member PM links: an engineer member cannot.
    eng = await other.member("engineer")
    assert_problem(await client.patch(url, json={"jira_project_key": "ZZQ"}, headers=eng), 403)
    # GraphQL shows the same fields.
    q = "query($id: ID!) { product(id: $id) { jiraProjectKey jiraStatusMap } }"
    g = await client.post("/graphql", json={"query": q, "variables": {"id": w.pid}}, headers=w.pm)
    assert g.json()["data"]["product"] == {
        "jiraProjectKey": project,
        "jiraStatusMap": {"Code Review": "in_review"},
    }
    # Unlinking frees the key.
    r = await client.patch(
        f"/api/v1/products/{w.pid}", json={"jira_project_key": None}, headers=w.pm
    )
    assert r.status_code == 200 and r.json()["jira_project_key"] is None
    r = await client.patch(url, json={"jira_project_key": project}, headers=other.pm)
    assert r.status_code == 200


async def test_graphql_update_product_links_jira(client, auth):
    w = await make_world(client, auth)
    project = "J" + unique_key("G")[1:9]
    m = """mutation($id: ID!, $input: ProductUpdateInput!) {
      updateProduct(id: $id, input: $input) { jiraProjectKey jiraStatusMap } }"""
    variables = {
        "id": w.pid,
        "input": {"jiraProjectKey": project, "jiraStatusMap": {"QA": "in_review"}},
    }
    r = await client.post("/graphql", json={"query": m, "variables": variables}, headers=w.pm)
    assert r.json()["data"]["updateProduct"] == {
        "jiraProjectKey": project,
        "jiraStatusMap": {"QA": "in_review"},
    }
    variables["input"] = {"jiraStatusMap": {"QA": "shipped"}}
    r = await client.post("/graphql", json={"query": m, "variables": variables}, headers=w.pm)
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    rest = (await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)).json()
    assert rest["jira_status_map"] == {"QA": "in_review"}


async def test_cli_prints_a_signed_curl_that_the_webhook_accepts(
    integ, client, auth, capsys, monkeypatch, tmp_path
):
    w, project = await linked_world(client, auth)
    path = FIXTURES / "jira" / "server_issue_created_no_category.json"
    raw = path.read_bytes().replace(b'"RNDJ', f'"{project}'.encode())
    target = tmp_path / "issue.json"
    target.write_bytes(raw)
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", JIRA_SECRET)
    get_settings.cache_clear()
    try:
        rc, out, _ = await run_cli(["integrations", "sign", "jira", str(target)], capsys)
    finally:
        monkeypatch.delenv("JIRA_WEBHOOK_SECRET")
        get_settings.cache_clear()
    assert rc == 0
    argv = shlex.split(out.strip())
    assert argv[:5] == ["curl", "-sS", "-X", "POST", "http://localhost:8000" + JIRA_URL]
    headers = dict(argv[i + 1].split(": ", 1) for i, a in enumerate(argv) if a == "-H")
    assert argv[-1] == f"@{target}"
    r = await integ.post(JIRA_URL, content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    assert r.json()["story_key"].startswith(w.key)


async def test_other_issue_events_are_ignored(integ, integ_app, client, auth):
    w, project = await linked_world(client, auth)
    raw = fixture("cloud_issue_created", project).replace(
        b'"jira:issue_created"', b'"comment_created"'
    )
    r = await post_jira(integ, raw)
    assert r.status_code == 202 and r.json()["status"] == "ignored"
    assert await story_by_jira(client, w, f"{project}-7") is None
    assert_jira_actor(await audit_of(integ_app, r))


async def test_delivery_ids_are_kept_two_weeks_then_pruned(integ, integ_app, client, auth):
    _, project = await linked_world(client, auth)
    now = utcnow()
    async with integ_app.state.sessionmaker() as session:
        for delivery_id, age in (("old-delivery", 15), ("recent-delivery", 13)):
            session.add(
                JiraDelivery(
                    delivery_id=f"{delivery_id}-{project}",
                    received_at=now - timedelta(days=age),
                    outcome="applied",
                )
            )
        await session.commit()
    await post_jira(integ, fixture("cloud_issue_created", project))
    assert await deliveries(integ_app, f"old-delivery-{project}") == 0
    assert await deliveries(integ_app, f"recent-delivery-{project}") == 1
    # A retry within the window is still recognised.
    raw = fixture("cloud_issue_updated_started", project)
    r = await post_jira(integ, raw, delivery=f"recent-delivery-{project}")
    assert r.json() == {"status": "duplicate"}


async def test_a_text_change_rounds_refuses_is_a_conflict_not_a_failed_delivery(
    integ, integ_app, client, auth
):
    """A done story whose clinician then requested changes refuses every edit until it is
    reopened: Jira's rename is answered 200, the story keeps its title, jira_sync says why
    (a 409 would make Jira retry a delivery that can never apply)."""
    w, project = await linked_world(client, auth)
    await post_jira(integ, fixture("cloud_issue_created", project))
    story = await story_by_jira(client, w, f"{project}-7")
    url = f"/api/v1/stories/{story['id']}"
    clin = await w.member("clinician")
    assert (
        await client.patch(url, json={"clinical_review_required": True}, headers=w.pm)
    ).status_code == 200
    review = f"{url}/clinical-review"
    r = await client.post(review, json={"status": "approved"}, headers=clin)
    assert r.status_code == 200, r.text
    for status in ("in_progress", "in_review", "done"):
        assert (await client.patch(url, json={"status": status}, headers=w.pm)).status_code == 200
    r = await client.post(review, json={"status": "changes_requested"}, headers=clin)
    assert r.status_code == 200, r.text
    before = (await client.get(url, headers=w.pm)).json()

    r = await post_jira(integ, fixture("cloud_issue_updated_gdpr_adf", project))
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    after = (await client.get(url, headers=w.pm)).json()
    assert after["title"] == before["title"] and after["description"] == before["description"]
    assert after["status"] == "done"
    assert after["jira_sync"]["state"] == "conflict"
    assert "clinical review" in after["jira_sync"]["detail"]
    event = await audit_of(integ_app, r)
    assert "title" not in event.changed_fields and event.changed_fields == ["jira_sync"]

"""Fields that feed an authorization decision are never writable by the caller they would
widen (issue 19 item 1), in REST and GraphQL:

- `interviewer_sub` (the "own" full-PHI grant): set on create (a clinician may name only
  themselves), changed only with `interview:reassign` (member PM, compliance officer);
- product membership: only `members:manage` holders (member PM, admin) change it;
- `clinical_review_required`: an engineer cannot waive the clinical gate;
- `product_id` of stories/roadmap items/interviews/insights and `interview_id` of insights:
  not writable after creation (422 / no such input field);
- service-account scopes: a token never carries more than the client was given.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api.factories import assert_problem, make_world, new_sub
from tests.auth.helpers import new_client
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql_strict as gql
from tests.phi import rawdb
from tests.phi.samples import NAME, QUOTE, assert_no_needles, phi_interview

pytestmark = pytest.mark.asyncio

UPDATE_INTERVIEW = """mutation($id: ID!, $input: InterviewUpdateInput!) {
  updateInterview(id: $id, input: $input) { id interviewerSub participantName transcript redacted }
}"""


async def _events(settings, rid: str) -> list[dict]:
    return await rawdb.fetch(
        settings, "SELECT * FROM audit_event WHERE client_request_id = :rid ORDER BY id", rid=rid
    )


def _list(value) -> list:
    """A JSON column as read by plain SQL (SQLite: text; PostgreSQL: decoded)."""
    return value if isinstance(value, list) else json.loads(value)


async def _stored_interviewer(settings, interview_id: str) -> str:
    return (await rawdb.row(settings, "interview", interview_id))["interviewer_sub"]


async def test_clinician_cannot_make_itself_the_interviewer_rest(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    sub = new_sub("clinician")
    clin = await w.member("clinician", sub)
    rid = uuid.uuid4().hex

    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"interviewer_sub": sub},
        headers={**clin, "X-Request-Id": rid},
    )
    assert_problem(r, 403)
    assert_no_needles(r.text, "403 body")
    assert await _stored_interviewer(settings, interview["id"]) == w.pm_sub
    # still the redacted view, for the interview and the insight quote
    view = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=clin)).json()
    assert view["redacted"] is True and view["participant_name"] is None
    assert_no_needles(str(view), "clinician view")
    quote = (await client.get(f"/api/v1/insights/{insight['id']}", headers=clin)).json()
    assert quote["redacted"] is True and quote["quote"] != QUOTE
    (event,) = await _events(settings, rid)
    assert event["action"] == "access_denied" and event["outcome"] == "denied"
    assert event["resource_type"] == "interview"
    assert _list(event["resource_ids"]) == [interview["id"]]  # the id, never the value sent
    assert sub not in " ".join(str(v) for k, v in event.items() if k != "actor_sub")

    # together with a legitimate change: the whole patch is refused, nothing changes
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"site": "Ward 9", "interviewer_sub": sub},
        headers=clin,
    )
    assert_problem(r, 403)
    after = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)).json()
    assert after["site"] == interview["site"] and after["version"] == interview["version"]


async def test_clinician_cannot_make_itself_the_interviewer_graphql(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    sub = new_sub("clinician")
    clin = await w.member("clinician", sub)

    rid = uuid.uuid4().hex
    status, body = await gql(
        client,
        UPDATE_INTERVIEW,
        {"id": interview["id"], "input": {"interviewerSub": sub}},
        headers={**clin, "X-Request-Id": rid},
    )
    assert status == 403 and codes(body) == ["FORBIDDEN"], body
    (event,) = await _events(settings, rid)
    assert event["action"] == "access_denied" and event["outcome"] == "denied"
    assert event["resource_type"] == "interview"
    assert _list(event["resource_ids"]) == [interview["id"]]
    assert body["data"] is None
    assert NAME not in str(body)
    assert await _stored_interviewer(settings, interview["id"]) == w.pm_sub
    status, body = await gql(
        client,
        "query($id: ID!) { insight(id: $id) { quote redacted } }",
        {"id": insight["id"]},
        headers=clin,
    )
    assert body["data"]["insight"]["redacted"] is True
    assert body["data"]["insight"]["quote"] != QUOTE


async def test_interviewer_on_create(client, auth, settings):
    w = await make_world(client, auth)
    sub = new_sub("clinician")
    clin = await w.member("clinician", sub)
    body = {
        "product_id": w.pid,
        "title": "Night shift",
        "conducted_on": "2025-03-04",
        "participant_persona": "nurse",
        "participant_name": NAME,
    }
    # a clinician may name only themselves
    other = await client.post(
        "/api/v1/interviews", json={**body, "interviewer_sub": w.pm_sub}, headers=clin
    )
    assert_problem(other, 403)
    own = await client.post(
        "/api/v1/interviews", json={**body, "interviewer_sub": sub}, headers=clin
    )
    assert own.status_code == 201 and own.json()["redacted"] is False
    default = await client.post("/api/v1/interviews", json=body, headers=clin)
    assert default.status_code == 201 and default.json()["interviewer_sub"] == sub
    # a member PM may name the clinician who conducted it
    named = await client.post(
        "/api/v1/interviews", json={**body, "interviewer_sub": sub}, headers=w.pm
    )
    assert named.status_code == 201 and named.json()["interviewer_sub"] == sub
    # the same through GraphQL
    status, gbody = await gql(
        client,
        "mutation($input: InterviewCreateInput!) { createInterview(input: $input) { id } }",
        {
            "input": {
                "productId": w.pid,
                "title": "Night shift",
                "conductedOn": "2025-03-04",
                "participantPersona": "NURSE",
                "interviewerSub": w.pm_sub,
            }
        },
        headers=clin,
    )
    assert status == 403 and codes(gbody) == ["FORBIDDEN"], gbody


@pytest.mark.parametrize("bad", ["Zebulon Quackenbush", "a b", "tab\there", "é-sub"])
async def test_interviewer_sub_is_a_subject_not_free_text(client, auth, bad):
    w = await make_world(client, auth)
    interview = await w.interview()
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"interviewer_sub": bad}, headers=w.pm
    )
    body = assert_problem(r, 422)
    assert bad not in r.text
    assert any(e["loc"][-1] == "interviewer_sub" for e in body["errors"])


async def test_member_pm_and_compliance_officer_reassign_audited(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    clin_sub = new_sub("clinician")
    clin = await w.member("clinician", clin_sub)
    rid = uuid.uuid4().hex

    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"interviewer_sub": clin_sub},
        headers={**w.pm, "X-Request-Id": rid},
    )
    assert r.status_code == 200, r.text
    assert r.json()["interviewer_sub"] == clin_sub
    # the new interviewer now sees the full PHI (a grant given by whom the table allows)
    full = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=clin)).json()
    assert full["redacted"] is False and full["participant_name"] == NAME

    by_type = {e["resource_type"]: e for e in await _events(settings, rid)}
    assert len(by_type) == 2
    main, companion = by_type["interview"], by_type["principal"]
    assert main["action"] == "update" and main["resource_type"] == "interview"
    assert "interviewer_sub" in str(main["changed_fields"])
    assert companion["action"] == "update" and companion["resource_type"] == "principal"
    assert _list(companion["resource_ids"]) == [w.pm_sub, clin_sub]  # old, then new: subjects only
    assert companion["client_request_id"] == rid and companion["outcome"] == "success"
    assert companion["request_id"] == main["request_id"]
    for event in (main, companion):
        assert_no_needles(" ".join(str(v) for v in event.values()), "reassign event")

    # a compliance officer may reassign (and only reassign: other fields need interview:write)
    co = auth("compliance_officer", new_sub("co"))
    back = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"interviewer_sub": w.pm_sub}, headers=co
    )
    assert back.status_code == 200, back.text
    assert back.json()["interviewer_sub"] == w.pm_sub
    more = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"interviewer_sub": clin_sub, "site": "Ward 2"},
        headers=co,
    )
    assert_problem(more, 403)
    # the reassigned-away clinician is back to the redacted view
    view = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=clin)).json()
    assert view["redacted"] is True
    # an engineer member may not reassign either (and a no-op value needs no reassign right)
    eng = await w.member("engineer")
    r = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"interviewer_sub": clin_sub}, headers=eng
    )
    assert_problem(r, 403)


async def test_membership_cannot_be_self_granted(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    for role in ("clinician", "engineer", "product_manager", "exec", "compliance_officer"):
        sub = new_sub(role)
        r = await client.post(url, json={"subject": sub}, headers=auth(role, sub))
        assert_problem(r, 403)
        status, body = await gql(
            client,
            "mutation($p: ID!, $s: String!) { addMember(productId: $p, input: {subject: $s}) "
            "{ subject } }",
            {"p": w.pid, "s": sub},
            headers=auth(role, sub),
        )
        assert status == 403 and codes(body) == ["FORBIDDEN"], (role, body)
    # a member clinician cannot add anyone either
    clin = await w.member("clinician")
    r = await client.post(url, json={"subject": new_sub("x")}, headers=clin)
    assert_problem(r, 403)
    members = (await client.get(url, headers=w.pm)).json()
    members = members["data"] if isinstance(members, dict) else members
    assert len(members) == 2  # the PM and that clinician


async def test_engineer_cannot_waive_the_clinical_gate(client, auth):
    w = await make_world(client, auth)
    story = await w.story(clinical_review_required=True)
    eng = await w.member("engineer")
    r = await client.patch(
        f"/api/v1/stories/{story['id']}", json={"clinical_review_required": False}, headers=eng
    )
    assert_problem(r, 403)
    status, body = await gql(
        client,
        "mutation($id: ID!) { updateStory(id: $id, input: {clinicalReviewRequired: false}) "
        "{ id } }",
        {"id": story["id"]},
        headers=eng,
    )
    assert status == 403 and codes(body) == ["FORBIDDEN"], body
    after = (await client.get(f"/api/v1/stories/{story['id']}", headers=eng)).json()
    assert after["clinical_review_required"] is True


@pytest.mark.parametrize(
    ("collection", "field", "graphql"),
    [
        ("stories", "product_id", "updateStory(id: $id, input: {productId: $x}) { id }"),
        (
            "roadmap-items",
            "product_id",
            "updateRoadmapItem(id: $id, input: {productId: $x}) { id }",
        ),
        ("interviews", "product_id", "updateInterview(id: $id, input: {productId: $x}) { id }"),
        ("insights", "product_id", "updateInsight(id: $id, input: {productId: $x}) { id }"),
        ("insights", "interview_id", "updateInsight(id: $id, input: {interviewId: $x}) { id }"),
    ],
)
async def test_parent_ids_are_not_writable(client, auth, collection, field, graphql):
    """Moving a row to a product (or interview) the caller controls would change who may read
    it: refused in both APIs, nothing changes."""
    w = await make_world(client, auth)
    mine = await make_world(client, auth)  # a product the same kind of caller manages
    interview = await phi_interview(w)
    rows = {
        "stories": await w.story(),
        "roadmap-items": await w.roadmap_item(),
        "interviews": interview,
        "insights": await w.insight(interview["id"], quote=QUOTE),
    }
    row = rows[collection]
    target = mine.pid if field == "product_id" else (await mine.interview())["id"]
    r = await client.patch(f"/api/v1/{collection}/{row['id']}", json={field: target}, headers=w.pm)
    body = assert_problem(r, 422)
    assert any(e["loc"][-1] == field for e in body["errors"])
    status, gbody = await gql(
        client,
        f"mutation($id: ID!, $x: ID!) {{ {graphql} }}",
        {"id": row["id"], "x": target},
        headers=w.pm,
    )
    assert status == 400 and gbody.get("data") is None, gbody
    after = (await client.get(f"/api/v1/{collection}/{row['id']}", headers=w.pm)).json()
    assert after[field] == row[field] and after["version"] == row["version"]


async def test_service_account_cannot_widen_its_scopes(app, client):
    client_id, secret = await new_client(app, scopes="stories:read", name="narrow")
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "stories:read interviews:write"},
        auth=(client_id, secret),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    ok = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert ok.status_code == 200 and ok.json()["scope"] == "stories:read"

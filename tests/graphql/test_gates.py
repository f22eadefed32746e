"""Both gates through GraphQL mutations: the same service rules as REST (direct jumps, stale
approvals, reset reviews), the histories as connections equal to the REST lists, batched
loading, and the fast path agreeing with the standard executor."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.factories import make_world, new_sub
from tests.graphql.helpers import codes, gql
from tests.graphql.test_n_plus_one import count_statements

ITEM_FIELDS = "id status version approvedBy approvedAt approvalStatus"
APPROVALS = """
approvals(first: 10) {
  totalCount
  pageInfo { hasNextPage endCursor }
  nodes { id roadmapItemId version approverSub approvedAt comment status current
          staleAt staleBy staleReason staleFields }
}"""
REVIEWS = """
reviews(first: 10) {
  totalCount
  nodes { id storyId version status reviewerSub reviewedAt comment current
          endedAt endedBy endReason changedFields }
}"""


PAGED = """query($id: ID!, $a: String) { roadmapItem(id: $id) {
  approvals(first: 1, after: $a) { pageInfo { hasNextPage endCursor } nodes { current } } } }"""
PLAIN = """query($id: ID!) { product(id: $id) { roadmapItems { nodes {
  title status approvalStatus approvedBy approvedAt version } } } }"""


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def as_rest(node: dict) -> dict:
    """A GraphQL history node in REST's shape (snake_case keys, lower-case enum values,
    timestamps as datetimes)."""
    out = {}
    for k, v in node.items():
        if k == "status" and isinstance(v, str):
            v = v.lower()
        out[snake(k)] = v
    return times(out)


def times(row: dict) -> dict:
    return {k: datetime.fromisoformat(v) if k.endswith("_at") and v else v for k, v in row.items()}


async def m(client, headers, query: str, variables: dict) -> dict:
    status, body = await gql(client, query, variables, headers)
    assert status == 200 or body.get("errors"), body
    return body


async def test_roadmap_gate_through_mutations(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item(title="Gate", reach=100, impact=1, confidence=0.5, effort=2)
    pm, ex = w.pm, auth("exec", new_sub("exec"))
    move = f"""mutation($id: ID!, $i: RoadmapItemUpdateInput!) {{
      updateRoadmapItem(id: $id, input: $i) {{ {ITEM_FIELDS} }} }}"""

    jump = await m(client, pm, move, {"id": item["id"], "i": {"status": "SHIPPED"}})
    assert codes(jump) == ["CONFLICT"] and jump["data"] is None
    ext = jump["errors"][0]["extensions"]
    assert ext["allowed"] == ["planned", "cancelled"]
    assert ext["approval_required"] == ["in_progress", "shipped"]
    assert ext["reason"] == "approval_required"

    approve = f"""mutation($id: ID!, $i: RoadmapItemApprovalInput, $v: String) {{
      approveRoadmapItem(id: $id, input: $i, ifMatch: $v) {{ {ITEM_FIELDS} }} }}"""
    stale_pin = await m(client, ex, approve, {"id": item["id"], "i": None, "v": '"9"'})
    assert codes(stale_pin) == ["CONFLICT"]
    bad = await m(client, ex, approve, {"id": item["id"], "i": {"comment": "x" * 5001}})
    assert codes(bad) == ["BAD_USER_INPUT"] and "x" * 50 not in str(bad)
    ok = await m(client, ex, approve, {"id": item["id"], "i": {"comment": "Go"}, "v": '"1"'})
    approved = ok["data"]["approveRoadmapItem"]
    assert approved["approvalStatus"] == "CURRENT" and approved["version"] == 2
    forbidden = await m(client, pm, approve, {"id": item["id"]})
    assert codes(forbidden) == ["FORBIDDEN"]

    stale = await m(client, pm, move, {"id": item["id"], "i": {"effort": 20.0}})
    assert stale["data"]["updateRoadmapItem"]["approvalStatus"] == "STALE"
    assert stale["data"]["updateRoadmapItem"]["approvedBy"] is None
    blocked = await m(client, pm, move, {"id": item["id"], "i": {"status": "IN_PROGRESS"}})
    assert codes(blocked) == ["CONFLICT"]
    assert blocked["errors"][0]["extensions"]["reason"] == "approval_required"

    again = await m(client, ex, approve, {"id": item["id"]})
    assert again["data"]["approveRoadmapItem"]["approvalStatus"] == "CURRENT"
    shipped = await m(client, pm, move, {"id": item["id"], "i": {"status": "SHIPPED"}})
    assert shipped["data"]["updateRoadmapItem"]["status"] == "SHIPPED"

    # History: GraphQL and REST list the same entries, for any reader.
    reader = auth("engineer", new_sub("eng"))
    q = f"query($id: ID!) {{ roadmapItem(id: $id) {{ id {APPROVALS} }} }}"
    body = await m(client, reader, q, {"id": item["id"]})
    conn = body["data"]["roadmapItem"]["approvals"]
    assert conn["totalCount"] == 2 and conn["pageInfo"]["hasNextPage"] is False
    assert [(n["status"], n["current"]) for n in conn["nodes"]] == [
        ("CURRENT", True),
        ("STALE", False),
    ]
    assert conn["nodes"][1]["staleFields"] == ["effort"] and conn["nodes"][1]["comment"] == "Go"
    rest = await client.get(f"/api/v1/roadmap-items/{item['id']}/approvals", headers=reader)
    assert [as_rest(n) for n in conn["nodes"]] == [times(r) for r in rest.json()["data"]]

    page = await m(
        client,
        reader,
        PAGED,
        {"id": item["id"], "a": None},
    )
    first = page["data"]["roadmapItem"]["approvals"]
    assert first["pageInfo"]["hasNextPage"] is True and first["nodes"] == [{"current": True}]
    nxt = await m(
        client,
        reader,
        PAGED,
        {"id": item["id"], "a": first["pageInfo"]["endCursor"]},
    )
    assert nxt["data"]["roadmapItem"]["approvals"]["nodes"] == [{"current": False}]
    assert nxt["data"]["roadmapItem"]["approvals"]["pageInfo"]["hasNextPage"] is False
    bad_first = await m(
        client,
        reader,
        "query($id: ID!) { roadmapItem(id: $id) { approvals(first: 0) { totalCount } } }",
        {"id": item["id"]},
    )
    assert codes(bad_first) == ["BAD_USER_INPUT"]


async def test_review_gate_through_mutations(client, auth):
    w = await make_world(client, auth)
    clin_sub = new_sub("clin")
    clinician = await w.member("clinician", clin_sub)
    story = await w.story(
        clinical_review_required=True,
        acceptance_criteria=[{"given": "a patient", "when": "score > 0.8", "then": "page"}],
    )
    upd = """mutation($id: ID!, $i: StoryUpdateInput!) {
      updateStory(id: $id, input: $i) { version status clinicalReview { status reviewerSub } } }"""
    review = """mutation($id: ID!, $v: String) {
      reviewStory(id: $id, input: {status: APPROVED, comment: "ok"}, ifMatch: $v) {
        version clinicalReview { status reviewerSub } } }"""
    for s in ("READY", "IN_PROGRESS", "IN_REVIEW"):
        await m(client, w.pm, upd, {"id": story["id"], "i": {"status": s}})
    stale_pin = await m(client, clinician, review, {"id": story["key"], "v": '"1"'})
    assert codes(stale_pin) == ["CONFLICT"]
    ok = await m(client, clinician, review, {"id": story["key"], "v": '"4"'})
    assert ok["data"]["reviewStory"]["clinicalReview"] == {
        "status": "APPROVED",
        "reviewerSub": clin_sub,
    }

    ticked = await m(
        client,
        w.pm,
        upd,
        {
            "id": story["id"],
            "i": {
                "acceptanceCriteria": [
                    {
                        "id": "AC-1",
                        "given": "a patient",
                        "when": "score > 0.8",
                        "then": "page",
                        "met": True,
                    }
                ],
                "storyPoints": 5,
            },
        },
    )
    assert ticked["data"]["updateStory"]["clinicalReview"]["status"] == "APPROVED"
    rewritten = await m(
        client,
        w.pm,
        upd,
        {
            "id": story["id"],
            "i": {
                "acceptanceCriteria": [
                    {"id": "AC-1", "given": "a patient", "when": "score > 0.6", "then": "page"}
                ]
            },
        },
    )
    assert rewritten["data"]["updateStory"]["clinicalReview"] == {
        "status": "PENDING",
        "reviewerSub": None,
    }
    done = await m(client, w.pm, upd, {"id": story["id"], "i": {"status": "DONE"}})
    assert codes(done) == ["CONFLICT"]

    q = f"query($k: String) {{ story(key: $k) {{ key {REVIEWS} }} }}"
    body = await m(client, auth("exec", new_sub("exec")), q, {"k": story["key"]})
    conn = body["data"]["story"]["reviews"]
    assert conn["totalCount"] == 1
    [node] = conn["nodes"]
    assert node["status"] == "APPROVED" and node["current"] is False and node["version"] == 4
    assert node["endReason"] == "content_changed" and node["changedFields"] == [
        "acceptance_criteria"
    ]
    rest = await client.get(f"/api/v1/stories/{story['id']}/reviews", headers=w.pm)
    assert [as_rest(n) for n in conn["nodes"]] == [times(r) for r in rest.json()["data"]]


async def _portfolio(client, auth, n: int) -> str:
    """A product with n approved-then-stale-then-approved items, each with a reviewed story."""
    w = await make_world(client, auth)
    clinician = await w.member("clinician")
    ex = auth("exec", new_sub("exec"))
    for k in range(n):
        item = await w.roadmap_item(title=f"item {k}", reach=k)
        url = f"/api/v1/roadmap-items/{item['id']}"
        assert (await client.post(f"{url}/approve", headers=ex)).status_code == 200
        await client.patch(url, json={"reach": k + 1}, headers=w.pm)
        assert (await client.post(f"{url}/approve", headers=ex)).status_code == 200
        story = await w.story(roadmap_item_id=item["id"], clinical_review_required=True)
        r = await client.post(
            f"/api/v1/stories/{story['id']}/clinical-review",
            json={"status": "approved"},
            headers=clinician,
        )
        assert r.status_code == 200
    return w.pid


HISTORY_PAGE = f"""
query($id: ID!) {{ product(id: $id) {{ roadmapItems(first: 50) {{ nodes {{
  title approvalStatus {APPROVALS}
  stories(first: 5) {{ nodes {{ key {REVIEWS} }} }}
}} }} }} }}"""


async def test_history_statements_do_not_grow_with_rows(app, client, auth):
    small, big = await _portfolio(client, auth, 2), await _portfolio(client, auth, 8)
    counts = []
    for pid, n in ((small, 2), (big, 8)):
        with count_statements(app) as seen:
            status, body = await gql(client, HISTORY_PAGE, {"id": pid}, auth("engineer", "h-eng"))
        assert status == 200 and "errors" not in body, body
        nodes = body["data"]["product"]["roadmapItems"]["nodes"]
        assert len(nodes) == n
        for node in nodes:
            assert node["approvalStatus"] == "CURRENT"
            assert node["approvals"]["totalCount"] == 2
            assert [a["current"] for a in node["approvals"]["nodes"]] == [True, False]
            [story] = node["stories"]["nodes"]
            assert story["reviews"]["totalCount"] == 1
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    "query",
    [
        PLAIN,
        HISTORY_PAGE,
    ],
    ids=["plain", "histories"],
)
async def test_fast_path_and_standard_executor_agree(client, standard, auth, query):
    pid = await _portfolio(client, auth, 3)
    headers = auth("engineer", "fp-eng")
    fast = await client.post(
        "/graphql", json={"query": query, "variables": {"id": pid}}, headers=headers
    )
    slow = await standard.post(
        "/graphql", json={"query": query, "variables": {"id": pid}}, headers=headers
    )
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert b"CURRENT" in fast.content

"""The same scenario through REST and GraphQL, for every role: same data field by field (after
case conversion), same outcome (REST status ↔ GraphQL extensions.code), same PHI views."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel

from app.insights.schemas import InsightOut
from app.interviews.schemas import ConsentStatus, InterviewOut, ParticipantPersona
from app.products.schemas import (
    FdaPathway,
    Iec62304Class,
    LifecycleStage,
    ProductOut,
    SamdSignificance,
    SamdSituation,
)
from app.roadmap.schemas import (
    ApprovalEntryStatus,
    ApprovalStatus,
    Horizon,
    RoadmapItemOut,
    RoadmapStatus,
)
from app.stories.schemas import ReviewStatus, StoryOut, StoryStatus
from tests.conftest import unique_key
from tests.graphql.helpers import gql as _gql


async def gql(client, query, variables=None, headers=None, **kw):
    """Asks for application/graphql-response+json, whose HTTP status mirrors REST's when an
    operation fails as a whole (application/json answers 200; see test_http_status.py)."""
    headers = {**(headers or {}), "Accept": "application/graphql-response+json"}
    return await _gql(client, query, variables, headers, **kw)


ROLES = ["product_manager", "engineer", "clinician", "exec", "compliance_officer", "admin"]
CODE_FOR = {
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    400: "BAD_USER_INPUT",
    422: "BAD_USER_INPUT",
    409: "CONFLICT",
    412: "CONFLICT",
}
ENUM_VALUES = {
    m.name: m.value
    for e in (
        LifecycleStage,
        SamdSignificance,
        SamdSituation,
        FdaPathway,
        Iec62304Class,
        Horizon,
        RoadmapStatus,
        ApprovalStatus,
        ApprovalEntryStatus,
        StoryStatus,
        ReviewStatus,
        ParticipantPersona,
        ConsentStatus,
    )
    for m in e
}
NESTED = {
    "acceptance_criteria": "acceptanceCriteria { id given when then met }",
    "clinical_review": "clinicalReview { status reviewerSub reviewedAt comment }",
    "jira_sync": "jiraSync { state detail jiraStatus lastEventAt changedBy }",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def selection(out: type[BaseModel]) -> str:
    """Every field of the REST output model, as a GraphQL selection."""
    return " ".join(NESTED.get(f, camel(f)) for f in out.model_fields)


def canon(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        if value in ENUM_VALUES:
            return ENUM_VALUES[value]
        try:
            if len(value) >= 19 and value[4] == "-" and "T" in value:
                return datetime.fromisoformat(value)
        except ValueError:
            pass
    return value


def same(rest: dict[str, Any], graph: dict[str, Any], *, ignore: tuple[str, ...] = ()) -> None:
    r, g = canon(rest), canon(graph)
    for k in ignore:
        r.pop(k, None)
        g.pop(k, None)
    assert set(r) == set(g), set(r) ^ set(g)
    for k in r:
        assert r[k] == g[k], (k, r[k], g[k])


def outcome(status: int, body: dict[str, Any]) -> str | None:
    if status < 400:
        assert not body.get("errors"), body
        return None
    return CODE_FOR[status]


def graph_outcome(status: int, body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    if not errors:
        assert status == 200
        return None
    code = errors[0]["extensions"]["code"]
    # The HTTP status mirrors REST's when the operation failed as a whole.
    assert CODE_FOR.get(status) == code, (status, code)
    return code


class World:
    """One product with members, roadmap, stories, an interview with PHI and an insight."""

    def __init__(self, client, auth):
        self.client, self.auth = client, auth
        tag = uuid.uuid4().hex[:6]
        self.subs = {role: f"par-{role}-{tag}" for role in ROLES}

    def h(self, role: str) -> dict[str, str]:
        return self.auth(role, self.subs[role])

    async def rest(self, method: str, path: str, role: str | None, **kw):
        headers = {**(self.h(role) if role else {}), **kw.pop("headers", {})}
        r = await self.client.request(method, "/api/v1" + path, headers=headers, **kw)
        return r.status_code, r.json() if r.content else {}

    async def build(self):
        pm = "product_manager"
        _, p = await self.rest(
            "POST", "/products", pm, json={"key": unique_key("PAR"), "name": "Par"}
        )
        self.product = p
        for role in ("engineer", "clinician"):
            s, _ = await self.rest(
                "POST", f"/products/{p['id']}/members", pm, json={"subject": self.subs[role]}
            )
            assert s == 201
        _, self.item = await self.rest(
            "POST",
            "/roadmap-items",
            pm,
            json={
                "product_id": p["id"],
                "title": "Triage",
                "reach": 100,
                "impact": 2,
                "confidence": 0.5,
                "effort": 4,
                "status": "planned",
            },
        )
        _, self.item2 = await self.rest(
            "POST", "/roadmap-items", pm, json={"product_id": p["id"], "title": "Unapproved"}
        )
        _, self.story = await self.rest(
            "POST",
            "/stories",
            pm,
            json={
                "product_id": p["id"],
                "roadmap_item_id": self.item["id"],
                "title": "Alert",
                "clinical_review_required": True,
                "labels": ["sepsis"],
                "acceptance_criteria": [{"given": "a", "when": "b", "then": "c"}],
            },
        )
        s, self.interview = await self.rest(
            "POST",
            "/interviews",
            "clinician",
            json={
                "product_id": p["id"],
                "title": "ICU nurse",
                "conducted_on": "2024-05-02",
                "participant_persona": "nurse",
                "participant_name": "Maria Gonzalez",
                "participant_contact": "maria@example.org",
                "transcript": "Maria Gonzalez said call 555-201-3344 about bed 4.",
                "summary": "Alerts at night",
            },
        )
        assert s == 201, self.interview
        s, self.insight = await self.rest(
            "POST",
            "/insights",
            pm,
            json={
                "interview_id": self.interview["id"],
                "title": "Alarm fatigue",
                "quote": "Maria Gonzalez: too many alerts",
                "severity": 4,
                "story_ids": [self.story["id"]],
                "roadmap_item_ids": [self.item["id"]],
            },
        )
        assert s == 201, self.insight


@pytest.fixture(scope="module")
async def world(client, auth):
    w = World(client, auth)
    await w.build()
    return w


READS = [
    # (name, REST path, GraphQL query, output model, data path)
    ("product", "/products/{product}", 'product(id: "{product}")', ProductOut),
    ("roadmap item", "/roadmap-items/{item}", 'roadmapItem(id: "{item}")', RoadmapItemOut),
    ("story by key", "/stories/{story_key}", 'story(key: "{story_key}")', StoryOut),
    ("interview", "/interviews/{interview}", 'interview(id: "{interview}")', InterviewOut),
    ("insight", "/insights/{insight}", 'insight(id: "{insight}")', InsightOut),
]
LISTS = [
    (
        "roadmap",
        "/roadmap-items?product_id={product}",
        'roadmapItems(productId: "{product}")',
        RoadmapItemOut,
    ),
    ("stories", "/stories?product_id={product}", 'stories(productId: "{product}")', StoryOut),
    (
        "interviews",
        "/interviews?product_id={product}",
        'interviews(productId: "{product}")',
        InterviewOut,
    ),
    ("insights", "/insights?product_id={product}", 'insights(productId: "{product}")', InsightOut),
]


def ids(w: World) -> dict[str, str]:
    return {
        "product": w.product["id"],
        "item": w.item["id"],
        "story_key": w.story["key"],
        "interview": w.interview["id"],
        "insight": w.insight["id"],
    }


@pytest.mark.parametrize("role", [*ROLES, None])
@pytest.mark.parametrize("read", READS, ids=[r[0] for r in READS])
async def test_single_reads_match(world, client, role, read):
    _, path, field, out = read
    v = ids(world)
    status, rest = await world.rest("GET", path.format(**v), role)
    headers = world.h(role) if role else {}
    gstatus, body = await gql(
        client, f"{{ x: {field.format(**v)} {{ {selection(out)} }} }}", headers=headers
    )
    assert graph_outcome(gstatus, body) == outcome(status, rest)
    if status == 200:
        same(rest, body["data"]["x"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("listing", LISTS, ids=[r[0] for r in LISTS])
async def test_lists_match(world, client, role, listing):
    _, path, field, out = listing
    v = ids(world)
    status, rest = await world.rest("GET", path.format(**v), role)
    q = f"{{ x: {field.format(**v)} {{ totalCount nodes {{ {selection(out)} }} }} }}"
    gstatus, body = await gql(client, q, headers=world.h(role))
    assert graph_outcome(gstatus, body) == outcome(status, rest)
    if status == 200:
        nodes = body["data"]["x"]["nodes"]
        assert len(nodes) == len(rest["data"]) == body["data"]["x"]["totalCount"]
        for r, g in zip(rest["data"], nodes, strict=True):
            same(r, g)


async def test_phi_views_differ_by_role_identically(world, client):
    """Redacted vs full PHI: the same per role in both APIs (already compared above); here the
    expected split itself, so the comparison cannot pass vacuously."""
    q = f'{{ interview(id: "{world.interview["id"]}") {{ redacted participantName transcript }} }}'
    expected = {
        "product_manager": False,
        "clinician": False,
        "compliance_officer": False,
        "engineer": True,
    }
    for role, redacted in expected.items():
        _, body = await gql(client, q, headers=world.h(role))
        view = body["data"]["interview"]
        assert view["redacted"] is redacted, role
        assert (view["participantName"] is None) is redacted
        assert ("Maria Gonzalez" in view["transcript"]) is (not redacted)
    for role in ("exec", "admin"):
        _, body = await gql(client, q, headers=world.h(role))
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# --- writes --------------------------------------------------------------------------------
def _story_input(w: World) -> dict[str, Any]:
    return {
        "product_id": w.product["id"],
        "title": "Parity story",
        "story_points": 3,
        "acceptance_criteria": [{"given": "g", "when": "w", "then": "t"}],
        "labels": ["x"],
    }


def _camel_obj(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): _camel_obj(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_obj(v) for v in value]
    return value


VOLATILE = ("id", "key", "createdAt", "updatedAt", "rank", "purgedAt")


@pytest.mark.parametrize("role", ROLES)
async def test_writes_match(world, client, role):
    w = world
    v = {"id": w.story["id"]}
    # create a story
    body = _story_input(w)
    status, rest = await w.rest("POST", "/stories", role, json=body)
    gstatus, gbody = await gql(
        client,
        f"mutation Create($i: StoryCreateInput!) {{ x: createStory(input: $i) {{ {selection(StoryOut)} }} }}",
        {"i": _camel_obj(body)},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)
    if status < 400:
        same(rest, gbody["data"]["x"], ignore=VOLATILE)
    else:
        assert gbody["data"] is None

    # an idempotent update of the same story: both end in the same state
    patch = {"title": f"Renamed by {role}", "labels": ["a", "b"]}
    status, rest = await w.rest("PATCH", f"/stories/{w.story['id']}", role, json=patch)
    gstatus, gbody = await gql(
        client,
        f"mutation Upd($id: ID!, $i: StoryUpdateInput!) {{ x: updateStory(id: $id, input: $i) {{ {selection(StoryOut)} }} }}",
        {"id": v["id"], "i": patch},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)
    if status < 400:
        same(rest, gbody["data"]["x"], ignore=("updatedAt",))

    # a stale If-Match
    status, rest = await w.rest(
        "PATCH", f"/stories/{w.story['id']}", role, json=patch, headers={"If-Match": '"999"'}
    )
    gstatus, gbody = await gql(
        client,
        'mutation Stale($id: ID!, $i: StoryUpdateInput!) { x: updateStory(id: $id, input: $i, ifMatch: "\\"999\\"") { id } }',
        {"id": v["id"], "i": patch},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)

    # invalid input (story points must be Fibonacci-ish): validated before authorization
    bad = {**_story_input(w), "story_points": 4}
    status, rest = await w.rest("POST", "/stories", role, json=bad)
    gstatus, gbody = await gql(
        client,
        "mutation Bad($i: StoryCreateInput!) { x: createStory(input: $i) { id } }",
        {"i": _camel_obj(bad)},
        headers=w.h(role),
    )
    assert status == 422 and graph_outcome(gstatus, gbody) == "BAD_USER_INPUT"
    assert [e["loc"] for e in gbody["errors"][0]["extensions"]["errors"]] == [
        ["input", "storyPoints"]
    ]

    # approval (exec only; approving twice changes nothing)
    status, rest = await w.rest("POST", f"/roadmap-items/{w.item['id']}/approve", role)
    gstatus, gbody = await gql(
        client,
        f"mutation Approve($id: ID!) {{ x: approveRoadmapItem(id: $id) {{ {selection(RoadmapItemOut)} }} }}",
        {"id": w.item["id"]},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)
    if status < 400:
        same(rest, gbody["data"]["x"])

    # the in_progress gate: 409 for a planner, 403 for others
    status, rest = await w.rest(
        "PATCH", f"/roadmap-items/{w.item2['id']}", role, json={"status": "in_progress"}
    )
    gstatus, gbody = await gql(
        client,
        "mutation Gate($id: ID!) { x: updateRoadmapItem(id: $id, input: {status: IN_PROGRESS}) { id } }",
        {"id": w.item2["id"]},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)

    # create an interview (PHI view of the creator)
    iv = {
        "product_id": w.product["id"],
        "title": "Pharmacist",
        "conducted_on": "2024-06-01",
        "participant_persona": "pharmacist",
        "participant_name": "Ken Adams",
        "transcript": "Ken Adams works nights.",
        "consent_status": "withdrawn",
    }
    status, rest = await w.rest("POST", "/interviews", role, json=iv)
    gstatus, gbody = await gql(
        client,
        f"mutation NewInterview($i: InterviewCreateInput!) {{ x: createInterview(input: $i) {{ {selection(InterviewOut)} }} }}",
        {"i": {**_camel_obj(iv), "participantPersona": "PHARMACIST", "consentStatus": "WITHDRAWN"}},
        headers=w.h(role),
    )
    assert graph_outcome(gstatus, gbody) == outcome(status, rest)
    if status < 400:
        same(rest, gbody["data"]["x"], ignore=VOLATILE)


async def test_purge_and_review_match(world, client):
    w = world
    iv = {
        "product_id": w.product["id"],
        "title": "Withdrawn",
        "conducted_on": "2024-06-01",
        "participant_persona": "patient",
        "participant_name": "Ann Lee",
        "transcript": "Ann Lee, MRN 12345678.",
        "consent_status": "withdrawn",
    }
    _, a = await w.rest("POST", "/interviews", "product_manager", json=iv)
    _, b = await w.rest("POST", "/interviews", "product_manager", json=iv)
    for role in ROLES:
        status, rest = await w.rest("POST", f"/interviews/{a['id']}/purge", role)
        gstatus, gbody = await gql(
            client,
            f"mutation Purge($id: ID!) {{ x: purgeInterview(id: $id) {{ {selection(InterviewOut)} }} }}",
            {"id": b["id"]},
            headers=w.h(role),
        )
        assert graph_outcome(gstatus, gbody) == outcome(status, rest), role
        if status < 400:
            assert role == "compliance_officer"
            same(rest, gbody["data"]["x"], ignore=VOLATILE)

    review = {"status": "approved", "comment": "ok"}
    for role in ROLES:
        status, rest = await w.rest(
            "POST", f"/stories/{w.story['key']}/clinical-review", role, json=review
        )
        gstatus, gbody = await gql(
            client,
            f'mutation Review($id: ID!) {{ x: reviewStory(id: $id, input: {{status: APPROVED, comment: "ok"}}) {{ {selection(StoryOut)} }} }}',
            {"id": w.story["key"]},
            headers=w.h(role),
        )
        assert graph_outcome(gstatus, gbody) == outcome(status, rest), role
        if status < 400:
            assert role == "clinician"
            same(rest, gbody["data"]["x"], ignore=("updatedAt", "version", "clinicalReview"))


async def test_membership_mutations_match(world, client):
    w = world
    pid = w.product["id"]
    for role in ROLES:
        rest_sub, graph_sub = (
            f"m-rest-{role}-{uuid.uuid4().hex[:4]}",
            f"m-gql-{role}-{uuid.uuid4().hex[:4]}",
        )
        status, rest = await w.rest(
            "POST", f"/products/{pid}/members", role, json={"subject": rest_sub}
        )
        gstatus, gbody = await gql(
            client,
            "mutation Add($p: ID!, $s: String!) { x: addMember(productId: $p, input: {subject: $s}) { productId subject createdAt addedBy } }",
            {"p": pid, "s": graph_sub},
            headers=w.h(role),
        )
        assert graph_outcome(gstatus, gbody) == outcome(status, rest), role
        if status < 400:
            assert role in ("product_manager", "admin")
            same(rest, gbody["data"]["x"], ignore=("subject", "createdAt"))
            status, _ = await w.rest("DELETE", f"/products/{pid}/members/{rest_sub}", role)
            gstatus, gbody = await gql(
                client,
                "mutation Rm($p: ID!, $s: String!) { x: removeMember(productId: $p, subject: $s) }",
                {"p": pid, "s": graph_sub},
                headers=w.h(role),
            )
            assert status == 204 and gstatus == 200 and gbody["data"]["x"] is True

"""The SPEC §2 permission matrix, tested over HTTP — generated from the table itself.

For every permission in app.authz.PERMISSIONS, every role and member/non-member (and, where
the table grants a permission on "own" records, interviewer/not), and for service accounts
with each scope of SCOPE_GRANTS, the HTTP operations that permission guards are run against
a fresh scenario and the exact status is asserted. The expected status is computed with
`can()`/`reach()` over the same table, following the object-level rule:

- a resource the principal may not read: 404 (and list endpoints leave it out);
- a resource it may read but not change: 403;
- a collection it may never read: 403.

Adding a row or a grant to the table therefore adds or changes tests; there is no
hand-written expected-status table here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.auth.principal import SCOPES, Principal, Role
from app.authz import PERMISSIONS, SCOPE_GRANTS, Permission, Reach, can, reach
from tests.api.factories import assert_problem, new_sub
from tests.auth.helpers import bearer, new_client, service_token
from tests.conftest import unique_key

pytestmark = pytest.mark.asyncio

PHI_NAME = "Ada Lovelace"
PHI_CONTACT = "ada.lovelace@example.org"
TRANSCRIPT = f"{PHI_NAME} said the sepsis alerts reach her ward too late; call 555-867-5309."
QUOTE = f"{PHI_NAME}: the alerts come after we already called the rapid response team."

# --- who is calling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    role: Role | None = None
    member: bool = False
    own: bool = False  # the scenario's interview was conducted by this principal
    scopes: tuple[str, ...] | None = None  # a service account with these scopes

    @property
    def label(self) -> str:
        if self.scopes is not None:
            return "service[" + (",".join(self.scopes) or "no scope") + "]"
        rel = "member" if self.member else "non-member"
        return f"{self.role}-{rel}" + ("-own" if self.own else "")

    def principal(self, sub: str) -> Principal:
        if self.scopes is not None:
            return Principal(sub=sub, type="service", client_id=sub, scopes=frozenset(self.scopes))
        return Principal(sub=sub, type="user", role=self.role)


def has_own_reach(permission: Permission) -> bool:
    return any(r is Reach.own for r in PERMISSIONS[permission].values())


def users_for(permission: Permission) -> list[Who]:
    owns = (False, True) if has_own_reach(permission) else (False,)
    return [Who(role=r, member=m, own=o) for r in Role for m in (True, False) for o in owns]


SERVICES = [Who(scopes=(s,)) for s in SCOPES] + [Who(scopes=SCOPES), Who(scopes=())]

# --- the scenario ------------------------------------------------------------------------------


@dataclass
class Scenario:
    """One product made by a PM (a member), the caller, and lazily the rows an op needs."""

    client: httpx.AsyncClient
    auth: Callable[..., dict[str, str]]
    who: Who
    sub: str
    headers: dict[str, str]
    pm: dict[str, str]
    product: dict[str, Any]
    interviewer: str
    _rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pid(self) -> str:
        return self.product["id"]

    @property
    def memberships(self) -> frozenset[uuid.UUID]:
        return frozenset({uuid.UUID(self.pid)}) if self.who.member else frozenset()

    def allowed(self, permission: Permission) -> bool:
        return can(
            self.who.principal(self.sub),
            permission,
            product_id=uuid.UUID(self.pid),
            memberships=self.memberships,
            owner_sub=self.interviewer,
        )

    def reaches(self, permission: Permission) -> bool:
        return reach(self.who.principal(self.sub), permission) is not None

    async def _make(self, name: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        if name not in self._rows:
            r = await self.client.post(url, json=body, headers=self.pm)
            assert r.status_code == 201, r.text
            self._rows[name] = r.json()
        return self._rows[name]

    async def item(self) -> dict[str, Any]:
        body = {"product_id": self.pid, "title": "Alert fatigue triage", "reach": 100}
        return await self._make("item", "/api/v1/roadmap-items", body)

    async def story(self) -> dict[str, Any]:
        body = {"product_id": self.pid, "title": "Show the score", "clinical_review_required": True}
        return await self._make("story", "/api/v1/stories", body)

    async def interview(self) -> dict[str, Any]:
        body = {
            "product_id": self.pid,
            "title": "ICU nurse walkthrough",
            "conducted_on": "2025-03-04",
            "participant_persona": "nurse",
            "interviewer_sub": self.interviewer,
            "participant_name": PHI_NAME,
            "participant_contact": PHI_CONTACT,
            "transcript": TRANSCRIPT,
        }
        return await self._make("interview", "/api/v1/interviews", body)

    async def insight(self) -> dict[str, Any]:
        body = {"interview_id": (await self.interview())["id"], "title": "Late", "quote": QUOTE}
        return await self._make("insight", "/api/v1/insights", body)

    # requests as the caller
    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url, headers=self.headers)

    async def post(self, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(url, json=body or {}, headers=self.headers)

    async def patch(self, url: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.patch(url, json=body, headers=self.headers)

    async def delete(self, url: str) -> httpx.Response:
        return await self.client.delete(url, headers=self.headers)


@pytest.fixture(scope="module")
async def service_tokens(app, client) -> dict[tuple[str, ...], tuple[str, str]]:
    """One service account per scope set of SERVICES: scopes -> (sub, access token)."""
    tokens = {}
    for who in SERVICES:
        assert who.scopes is not None
        client_id, secret = await new_client(app, scopes=" ".join(who.scopes), name="matrix")
        tokens[who.scopes] = (f"client:{client_id}", await service_token(client, client_id, secret))
    return tokens


@pytest.fixture
async def scenario(client, auth, who: Who, service_tokens) -> Scenario:
    """A product (its PM creator is a member), the caller of the case (added as a member when
    the case says so), and the interview's interviewer (the caller in "own" cases)."""
    pm_sub = new_sub("pm")
    pm = auth("product_manager", pm_sub)
    r = await client.post(
        "/api/v1/products", json={"key": unique_key("MX"), "name": "Matrix"}, headers=pm
    )
    assert r.status_code == 201, r.text
    product = r.json()
    if who.scopes is not None:
        sub, token = service_tokens[who.scopes]
        headers = bearer(token)
    else:
        assert who.role is not None
        sub = new_sub(who.role.value)
        headers = auth(who.role.value, sub)
        if who.member:
            added = await client.post(
                f"/api/v1/products/{product['id']}/members", json={"subject": sub}, headers=pm
            )
            assert added.status_code == 201, added.text
    interviewer = sub if who.own else new_sub("clinician")
    return Scenario(client, auth, who, sub, headers, pm, product, interviewer)


# --- the operations each permission guards -----------------------------------------------------

Call = Callable[[Scenario], Awaitable[tuple[httpx.Response, str | None]]]


@dataclass(frozen=True)
class Op:
    """An HTTP operation guarded by `guard` on a resource readable under `read`.

    kind "one": one resource (404 unless readable, then `ok` or 403);
    kind "list": a collection (403 when never readable, else 200 with the row iff readable);
    kind "collection": like "list" without a row of the scenario to look for;
    view=True: `read` decides visibility and `guard` (full PHI) decides `redacted`.
    """

    name: str
    guard: Permission
    read: Permission | None
    call: Call
    kind: str = "one"
    ok: int = 200
    view: bool = False


def one(r: httpx.Response) -> tuple[httpx.Response, None]:
    return r, None


async def _product_list(sc: Scenario):
    return await sc.get("/api/v1/products?sort=-created_at&limit=200"), sc.pid


async def _members_add(sc: Scenario):
    return one(await sc.post(f"/api/v1/products/{sc.pid}/members", {"subject": new_sub("x")}))


async def _slack_link(sc: Scenario):
    body = {"team_id": "T0MATRIX", "user_id": "U" + uuid.uuid4().hex[:10].upper()}
    body |= {"subject": new_sub("slack"), "role": "engineer"}
    return one(await sc.post("/api/v1/integrations/slack/links", body))


async def _members_remove(sc: Scenario):
    subject = new_sub("leaver")
    r = await sc.client.post(
        f"/api/v1/products/{sc.pid}/members", json={"subject": subject}, headers=sc.pm
    )
    assert r.status_code == 201, r.text
    return one(await sc.delete(f"/api/v1/products/{sc.pid}/members/{subject}"))


async def _purge(sc: Scenario):
    interview = await sc.interview()
    r = await sc.client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"consent_status": "withdrawn"},
        headers=sc.pm,
    )
    assert r.status_code == 200, r.text
    return one(await sc.post(f"/api/v1/interviews/{interview['id']}/purge"))


async def _import_dry_run(sc: Scenario):
    r = await sc.client.post(
        f"/api/v1/products/{sc.pid}/stories/import?dry_run=true",
        files={"file": ("s.csv", b"Summary,Issue key\r\nImported,\r\n", "text/csv")},
        headers=sc.headers,
    )
    return one(r)


async def _list(sc: Scenario, url: str, row: Awaitable[dict[str, Any]]):
    row_id = (await row)["id"]
    return await sc.get(url), row_id


P = Permission
OPS: list[Op] = [
    # products
    Op("getProduct", P.product_read, P.product_read, lambda sc: _one_get(sc, "products", sc.pid)),
    Op("listProducts", P.product_read, P.product_read, _product_list, kind="list"),
    Op(
        "listMembers",
        P.product_read,
        P.product_read,
        lambda sc: _get_one(sc, f"/api/v1/products/{sc.pid}/members"),
    ),
    Op(
        "createProduct",
        P.product_create,
        None,
        lambda sc: _post_one(sc, "/api/v1/products", {"key": unique_key("NP"), "name": "New"}),
        ok=201,
    ),
    Op(
        "updateProduct",
        P.product_update,
        P.product_read,
        lambda sc: _patch_one(sc, f"/api/v1/products/{sc.pid}", {"name": "Renamed"}),
    ),
    Op(
        "archiveProduct",
        P.product_update,
        P.product_read,
        lambda sc: _delete_one(sc, f"/api/v1/products/{sc.pid}"),
    ),
    # roadmap
    Op("getRoadmapItem", P.roadmap_read, P.roadmap_read, lambda sc: _get_row(sc, "item")),
    Op(
        "listRoadmapItems",
        P.roadmap_read,
        P.roadmap_read,
        lambda sc: _list(sc, f"/api/v1/roadmap-items?product_id={sc.pid}", sc.item()),
        kind="list",
    ),
    Op(
        "createRoadmapItem",
        P.roadmap_write,
        P.product_read,
        lambda sc: _post_one(sc, "/api/v1/roadmap-items", {"product_id": sc.pid, "title": "N"}),
        ok=201,
    ),
    Op(
        "updateRoadmapItem",
        P.roadmap_write,
        P.roadmap_read,
        lambda sc: _patch_row(sc, "item", {"horizon": "now"}),
    ),
    Op("archiveRoadmapItem", P.roadmap_write, P.roadmap_read, lambda sc: _delete_row(sc, "item")),
    Op(
        "approveRoadmapItem",
        P.roadmap_approve,
        P.roadmap_read,
        lambda sc: _action_row(sc, "item", "approve", {}),
    ),
    Op(
        "listRoadmapItemApprovals",
        P.roadmap_read,
        P.roadmap_read,
        lambda sc: _get_row_sub(sc, "item", "approvals"),
    ),
    # stories
    Op("getStory", P.story_read, P.story_read, lambda sc: _get_row(sc, "story")),
    Op("getStoryByKey", P.story_read, P.story_read, lambda sc: _get_story_by_key(sc)),
    Op(
        "listStories",
        P.story_read,
        P.story_read,
        lambda sc: _list(sc, f"/api/v1/stories?product_id={sc.pid}", sc.story()),
        kind="list",
    ),
    Op(
        "createStory",
        P.story_write,
        P.product_read,
        lambda sc: _post_one(sc, "/api/v1/stories", {"product_id": sc.pid, "title": "New"}),
        ok=201,
    ),
    Op(
        "updateStory",
        P.story_write,
        P.story_read,
        lambda sc: _patch_row(sc, "story", {"sprint": "S1"}),
    ),
    Op("archiveStory", P.story_archive, P.story_read, lambda sc: _delete_row(sc, "story")),
    Op(
        "reviewStory",
        P.story_review,
        P.story_read,
        lambda sc: _action_row(sc, "story", "clinical-review", {"status": "approved"}),
    ),
    Op(
        "listStoryReviews",
        P.story_read,
        P.story_read,
        lambda sc: _get_row_sub(sc, "story", "reviews"),
    ),
    # interviews
    Op("getInterview", P.interview_read, P.interview_read, lambda sc: _get_row(sc, "interview")),
    Op(
        "listInterviews",
        P.interview_read,
        P.interview_read,
        lambda sc: _list(sc, f"/api/v1/interviews?product_id={sc.pid}", sc.interview()),
        kind="list",
    ),
    Op(
        "getInterviewPhi",
        P.interview_read_phi,
        P.interview_read,
        lambda sc: _get_row(sc, "interview"),
        view=True,
    ),
    Op(
        "listInterviewsPhi",
        P.interview_read_phi,
        P.interview_read,
        lambda sc: _list(sc, f"/api/v1/interviews?product_id={sc.pid}", sc.interview()),
        kind="list",
        view=True,
    ),
    Op(
        "getInsightQuote",
        P.interview_read_phi,
        P.insight_read,
        lambda sc: _get_row(sc, "insight"),
        view=True,
    ),
    Op(
        "listInsightsQuote",
        P.interview_read_phi,
        P.insight_read,
        lambda sc: _list(sc, f"/api/v1/insights?product_id={sc.pid}", sc.insight()),
        kind="list",
        view=True,
    ),
    Op(
        "createInterview",
        P.interview_write,
        P.product_read,
        lambda sc: _post_one(
            sc,
            "/api/v1/interviews",
            {
                "product_id": sc.pid,
                "title": "Pharmacist interview",
                "conducted_on": "2025-05-06",
                "participant_persona": "pharmacist",
            },
        ),
        ok=201,
    ),
    Op(
        "updateInterview",
        P.interview_write,
        P.interview_read,
        lambda sc: _patch_row(sc, "interview", {"site": "Ward 5"}),
    ),
    Op(
        "reassignInterviewer",
        P.interview_reassign,
        P.interview_read,
        lambda sc: _patch_row(sc, "interview", {"interviewer_sub": new_sub("clinician")}),
    ),
    Op(
        "archiveInterview",
        P.interview_archive,
        P.interview_read,
        lambda sc: _delete_row(sc, "interview"),
    ),
    Op("purgeInterview", P.interview_purge, P.interview_read, _purge),
    # insights
    Op("getInsight", P.insight_read, P.insight_read, lambda sc: _get_row(sc, "insight")),
    Op(
        "listInsights",
        P.insight_read,
        P.insight_read,
        lambda sc: _list(sc, f"/api/v1/insights?product_id={sc.pid}", sc.insight()),
        kind="list",
    ),
    Op(
        "createInsight",
        P.insight_write,
        P.interview_read,
        lambda sc: _create_insight(sc),
        ok=201,
    ),
    Op(
        "updateInsight",
        P.insight_write,
        P.insight_read,
        lambda sc: _link_evidence(sc),
    ),
    Op("archiveInsight", P.insight_write, P.insight_read, lambda sc: _delete_row(sc, "insight")),
    # audit trail (collections only)
    Op(
        "listAuditEvents",
        P.audit_read,
        P.audit_read,
        lambda sc: _collection(sc, f"/api/v1/audit-events?limit=5&actor_sub={sc.sub}"),
        kind="collection",
    ),
    Op(
        "verifyAuditTrail",
        P.audit_read,
        P.audit_read,
        lambda sc: _collection(sc, "/api/v1/audit-events/verify"),
        kind="collection",
    ),
    Op(
        "exportAuditEvents",
        P.audit_read,
        P.audit_read,
        lambda sc: _collection(sc, f"/api/v1/audit-events/export?format=fhir&actor_sub={sc.sub}"),
        kind="collection",
    ),
    # comments, activity (issue #16)
    Op(
        "listStoryComments",
        P.story_read,
        P.story_read,
        lambda sc: _get_row_sub(sc, "story", "comments"),
    ),
    Op(
        "createStoryComment",
        P.comment_write,
        P.story_read,
        lambda sc: _action_row(sc, "story", "comments", {"body": "Looks right"}),
        ok=201,
    ),
    Op(
        "createRoadmapItemComment",
        P.comment_write,
        P.roadmap_read,
        lambda sc: _action_row(sc, "item", "comments", {"body": "Agreed"}),
        ok=201,
    ),
    Op(
        "listProductActivity",
        P.product_read,
        P.product_read,
        lambda sc: _get_one(sc, f"/api/v1/products/{sc.pid}/activity"),
    ),
    Op(
        "importStories",
        P.story_write,
        P.product_read,
        lambda sc: _import_dry_run(sc),
    ),
    Op(
        "exportStories",
        P.story_read,
        P.story_read,
        lambda sc: _collection(sc, f"/api/v1/stories/export?product_id={sc.pid}"),
        kind="collection",
    ),
    Op(
        "exportRoadmapItems",
        P.roadmap_read,
        P.roadmap_read,
        lambda sc: _collection(sc, f"/api/v1/roadmap-items/export?product_id={sc.pid}"),
        kind="collection",
    ),
    # membership
    Op("addMember", P.members_manage, P.product_read, _members_add, ok=201),
    Op("removeMember", P.members_manage, P.product_read, _members_remove, ok=204),
    # integrations (SPEC §9)
    Op("createSlackLink", P.integrations_manage, None, _slack_link, ok=201),
    # webhook subscriptions (SPEC §10); a public address literal: nothing is resolved or sent
    Op(
        "createWebhook",
        P.webhooks_manage,
        P.product_read,
        lambda sc: _post_one(
            sc, "/api/v1/webhooks", {"url": "https://192.88.99.7/hook", "product_id": sc.pid}
        ),
        ok=201,
    ),
]

# Permissions that guard no HTTP operation, and why. A permission in neither OPS nor here
# fails test_every_permission_is_exercised.
NO_HTTP = {
    Permission.clients_manage: "service accounts are managed by the CLI only (SPEC §5)",
}

_ROW_PATH = {
    "item": "roadmap-items",
    "story": "stories",
    "interview": "interviews",
    "insight": "insights",
}


async def _row(sc: Scenario, name: str) -> dict[str, Any]:
    return await getattr(sc, name)()


async def _one_get(sc: Scenario, collection: str, id_: str):
    return one(await sc.get(f"/api/v1/{collection}/{id_}"))


async def _get_one(sc: Scenario, url: str):
    return one(await sc.get(url))


async def _post_one(sc: Scenario, url: str, body: dict[str, Any]):
    return one(await sc.post(url, body))


async def _patch_one(sc: Scenario, url: str, body: dict[str, Any]):
    return one(await sc.patch(url, body))


async def _delete_one(sc: Scenario, url: str):
    return one(await sc.delete(url))


async def _get_row(sc: Scenario, name: str):
    row = await _row(sc, name)
    return one(await sc.get(f"/api/v1/{_ROW_PATH[name]}/{row['id']}"))


async def _get_row_sub(sc: Scenario, name: str, sub: str):
    row = await _row(sc, name)
    return one(await sc.get(f"/api/v1/{_ROW_PATH[name]}/{row['id']}/{sub}"))


async def _get_story_by_key(sc: Scenario):
    story = await sc.story()
    return one(await sc.get(f"/api/v1/stories/{story['key']}"))


async def _patch_row(sc: Scenario, name: str, body: dict[str, Any]):
    row = await _row(sc, name)
    return one(await sc.patch(f"/api/v1/{_ROW_PATH[name]}/{row['id']}", body))


async def _delete_row(sc: Scenario, name: str):
    row = await _row(sc, name)
    return one(await sc.delete(f"/api/v1/{_ROW_PATH[name]}/{row['id']}"))


async def _action_row(sc: Scenario, name: str, action: str, body: dict[str, Any]):
    row = await _row(sc, name)
    return one(await sc.post(f"/api/v1/{_ROW_PATH[name]}/{row['id']}/{action}", body))


async def _create_insight(sc: Scenario):
    interview = await sc.interview()
    return one(await sc.post("/api/v1/insights", {"interview_id": interview["id"], "title": "N"}))


async def _link_evidence(sc: Scenario):
    insight, story = await sc.insight(), await sc.story()
    return one(await sc.patch(f"/api/v1/insights/{insight['id']}", {"story_ids": [story["id"]]}))


async def _collection(sc: Scenario, url: str):
    return one(await sc.get(url))


# --- expectations, from the table --------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    present: bool | None = None  # list: is the scenario's row in it
    redacted: bool | None = None  # view: which rendition


def expect(op: Op, sc: Scenario) -> Expect:
    if op.kind == "collection":
        assert op.read is not None
        return Expect(200 if sc.reaches(op.read) else 403)
    if op.kind == "list":
        assert op.read is not None
        if not sc.reaches(op.read):
            return Expect(403)
        present = sc.allowed(op.read)
        redacted = (not sc.allowed(op.guard)) if op.view and present else None
        return Expect(200, present=present, redacted=redacted)
    if op.read is not None and not sc.allowed(op.read):
        return Expect(404)
    if op.view:
        return Expect(200, redacted=not sc.allowed(op.guard))
    return Expect(op.ok if sc.allowed(op.guard) else 403)


def check_view(body: dict[str, Any], redacted: bool) -> None:
    """The rendition matches the table, and a redacted one carries no PHI at all."""
    assert body["redacted"] is redacted, body
    if "participant_name" in body:  # an interview
        if redacted:
            assert body["participant_name"] is None and body["participant_contact"] is None
        else:
            assert body["participant_name"] == PHI_NAME
            assert body["participant_contact"] == PHI_CONTACT
            assert body["transcript"] == TRANSCRIPT
    elif not redacted:  # an insight
        assert body["quote"] == QUOTE
    if redacted:
        assert PHI_NAME not in json.dumps(body) and PHI_CONTACT not in json.dumps(body)


async def run_case(permission: Permission, sc: Scenario) -> None:
    ops = [op for op in OPS if op.guard is permission]
    assert ops, f"no HTTP operation exercises {permission.value}"
    for op in ops:
        r, row_id = await op.call(sc)
        want = expect(op, sc)
        where = f"{op.name} as {sc.who.label}: expected {want}, got {r.status_code} {r.text[:300]}"
        assert r.status_code == want.status, where
        if want.status >= 400:
            assert_problem(r, want.status)
            assert PHI_NAME not in r.text
            continue
        if op.kind == "list" and want.present is not None:
            rows = {row["id"]: row for row in r.json()["data"]}
            assert (row_id in rows) is want.present, where
            if want.redacted is not None:
                check_view(rows[row_id], want.redacted)
        elif want.redacted is not None:
            check_view(r.json(), want.redacted)


# --- the generated cases -----------------------------------------------------------------------


def _cases() -> list[Any]:
    cases = []
    for permission in PERMISSIONS:
        if permission in NO_HTTP:
            continue
        for who in [*users_for(permission), *SERVICES]:
            cases.append(pytest.param(permission, who, id=f"{permission.value}|{who.label}"))
    return cases


@pytest.mark.parametrize(("permission", "who"), _cases())
async def test_permission(permission: Permission, who: Who, scenario: Scenario) -> None:
    await run_case(permission, scenario)


# --- the generator itself ----------------------------------------------------------------------


async def test_every_permission_is_exercised():
    guarded = {op.guard for op in OPS}
    for permission in Permission:
        assert permission in PERMISSIONS, f"{permission.value} missing from the table"
        assert (permission in guarded) != (permission in NO_HTTP), permission.value


async def test_no_scope_grants_interview_reads_or_phi():
    for scope, grants in SCOPE_GRANTS.items():
        assert scope in SCOPES
        assert Permission.interview_read not in grants
        assert Permission.interview_read_phi not in grants
    everything = Principal(sub="client:x", type="service", client_id="x", scopes=frozenset(SCOPES))
    assert reach(everything, Permission.interview_read) is None
    assert reach(everything, Permission.interview_read_phi) is None


async def test_generated_expectations_match_spec_samples():
    """Spot checks that the generator reads the table the way SPEC §2 is written."""
    samples = [  # (role, member, op name, status)
        (Role.engineer, True, "updateStory", 200),
        (Role.engineer, False, "updateStory", 403),
        (Role.exec, True, "getInterview", 404),
        (Role.exec, False, "getInsight", 200),
        (Role.compliance_officer, False, "getInterview", 200),
        (Role.admin, True, "listInterviews", 403),
        (Role.product_manager, False, "archiveStory", 403),
        (Role.clinician, False, "updateInterview", 404),
    ]
    ops = {op.name: op for op in OPS}
    for role, member, name, status in samples:
        sc = Scenario(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            Who(role=role, member=member),
            "s",
            {},
            {},
            {"id": str(uuid.uuid4())},
            "other",
        )
        assert expect(ops[name], sc).status == status, (role, member, name)
    views = [  # (role, member, own, redacted)
        (Role.product_manager, True, False, False),
        (Role.product_manager, False, False, None),  # cannot read at all: 404
        (Role.compliance_officer, False, False, False),
        (Role.clinician, True, True, False),
        (Role.clinician, True, False, True),
        (Role.engineer, True, False, True),
    ]
    for role, member, own, redacted in views:
        who = Who(role=role, member=member, own=own)
        sc = Scenario(None, None, who, "s", {}, {}, {"id": str(uuid.uuid4())}, "s" if own else "o")  # type: ignore[arg-type]
        assert expect(ops["getInterviewPhi"], sc).redacted is redacted, (role, member, own)


async def test_forbidden_says_whether_role_or_membership_is_missing(client, auth):
    from tests.api.factories import make_world

    w = await make_world(client, auth)
    story = {"product_id": w.pid, "title": "Alert on lactate"}
    outsider = await client.post("/api/v1/stories", json=story, headers=auth("product_manager"))
    assert outsider.status_code == 403
    assert "not a member" in outsider.json()["detail"]
    wrong_role = await client.post("/api/v1/stories", json=story, headers=auth("exec"))
    assert wrong_role.status_code == 403
    detail = wrong_role.json()["detail"]
    assert "exec" in detail and "member" not in detail

"""The compiled fast path (app/graphql/fastpath.py) answers exactly like graphql-core's
executor: every query of a corpus, for several roles, through two apps over the same database
— the default one (fast path on) and one with GRAPHQL_FASTPATH off — must give the same
status, the same response bytes and the same audit event. Errors must fall back to the
standard executor without leaving a trace of the abandoned fast run."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.insights.schemas import InsightOut
from app.interviews.schemas import InterviewOut
from app.products.schemas import ProductOut
from app.roadmap.schemas import RoadmapItemOut
from app.stories.schemas import StoryOut
from tests.conftest import unique_key
from tests.graphql.test_n_plus_one import ROADMAP_PAGE
from tests.graphql.test_parity import selection

ROLES = ["product_manager", "engineer", "clinician", "exec", "compliance_officer", "admin"]
AUDIT_FIELDS = (
    "action",
    "resource_type",
    "resource_ids",
    "product_id",
    "phi_accessed",
    "changed_fields",
    "outcome",
    "status_code",
    "graphql_operation",
)

BENCH_PAGE = """
query RoadmapPage($id: ID!) {
  product(id: $id) {
    id key name
    roadmapItems(first: 20) {
      nodes {
        id title status horizon riceScore
        stories(first: 10) {
          nodes { id key title status storyPoints }
        }
      }
    }
  }
}
"""

FRAGMENTS = """
query Frag($id: ID!) {
  __typename
  product(id: $id) { ...P __typename }
  ...Q
}
fragment Q on Query { me { ...M } }
fragment M on Me { sub role productIds }
fragment P on Product {
  key
  ... on Product { name lifecycleStage }
  ... { fdaPathway }
  roadmapItems { nodes { ...R } }
  roadmapItems { totalCount nodes { id } }
}
fragment R on RoadmapItem { title ...S stories { nodes { key ...S2 } } }
fragment S on RoadmapItem { status horizon theme targetQuarter approvedBy approvedAt }
fragment S2 on Story { title labels acceptanceCriteria { id given when then met } clinicalReview { status reviewerSub reviewedAt comment } }
"""

CONDITIONS = """
query Cond($id: ID!, $yes: Boolean!, $no: Boolean = false, $first: Int = 1) {
  product(id: $id) {
    key @skip(if: $yes)
    name @include(if: $yes)
    description @include(if: $no)
    intendedUse @skip(if: $no)
    handlesPhi @skip(if: true)
    ... @include(if: $yes) { modelType }
    ... on Product @skip(if: $yes) { version }
    ...Extra @include(if: $no)
    roadmapItems(first: $first) { nodes { title @include(if: $yes) title @skip(if: $yes) id } }
  }
}
fragment Extra on Product { samdSignificance samdSituation }
"""

ALIASES = """
query Aliases($id: ID!, $status: RoadmapStatus, $sort: RoadmapItemSort = RICE_SCORE_DESC) {
  a: product(id: $id) { k: key n: name metrics: performanceMetrics }
  b: product(id: $id) { key items: roadmapItems(sort: $sort) { nodes { t: title r: riceScore e: evidenceCount } } }
  planned: roadmapItems(productId: $id, status: $status) { totalCount nodes { title status } }
  now: roadmapItems(productId: $id, horizon: NOW) { nodes { title horizon } }
  backlog: stories(productId: $id, status: BACKLOG, first: 5) { nodes { key status storyPoints } }
  product(id: $id) { key }
  product(id: $id) { name }
}
"""

DEEP = """
query Deep($key: String!) {
  story(key: $key) {
    key title roadmapItem { title product { key roadmapItems { nodes { title stories { nodes { key roadmapItem { title } } } } } } }
    product { key stories { totalCount } }
    insights { nodes { title quote persona severity tags storyIds roadmapItemIds redacted interview { title redacted participantName transcript product { key } } } }
  }
}
"""

PAGINATION = """
query Pages($id: ID!, $after: String) {
  roadmapItems(productId: $id, first: 1, after: $after) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

INTERVIEWS = """
query Interviews($id: ID!) {
  interviews(productId: $id) { totalCount nodes { title conductedOn participantPersona participantName consentStatus transcript summary tags phiDetected phiCategories redacted purgedAt insights { nodes { title quote } } product { key } } }
  insights(productId: $id) { nodes { title quote redacted interview { redacted } } }
}
"""

AUDIT = """
query Audit($sub: String!) {
  auditEvents(actorSub: $sub, first: 5, action: CREATE) { nodes { action outcome actorSub resourceType httpMethod path statusCode graphqlOperation } pageInfo { hasNextPage } }
}
"""


class World:
    """One product with two members, two roadmap items, stories (one reviewed, one loose),
    an interview with PHI and an insight linking it all."""

    def __init__(self, client, auth):
        self.client, self.auth = client, auth
        tag = uuid.uuid4().hex[:6]
        self.subs = {role: f"fp-{role}-{tag}" for role in ROLES}
        self.subs["outsider"] = f"fp-outsider-{tag}"

    def h(self, role: str) -> dict[str, str]:
        real = "engineer" if role == "outsider" else role
        return self.auth(real, self.subs[role])

    async def rest(self, path: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post("/api/v1" + path, json=body, headers=self.h(role))
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def build(self) -> World:
        pm = "product_manager"
        self.product = await self.rest(
            "/products",
            pm,
            {"key": unique_key("FP"), "name": "Fast", "performance_metrics": {"auc": 0.9}},
        )
        pid = self.product["id"]
        for role in ("engineer", "clinician"):
            await self.rest(f"/products/{pid}/members", pm, {"subject": self.subs[role]})
        self.item = await self.rest(
            "/roadmap-items",
            pm,
            {
                "product_id": pid,
                "title": "Triage",
                "theme": "alerts",
                "horizon": "now",
                "reach": 100,
                "impact": 2,
                "confidence": 0.5,
                "effort": 4,
            },
        )
        self.item2 = await self.rest(
            "/roadmap-items", pm, {"product_id": pid, "title": "Later", "horizon": "later"}
        )
        self.story = await self.rest(
            "/stories",
            pm,
            {
                "product_id": pid,
                "roadmap_item_id": self.item["id"],
                "title": "Alert",
                "story_points": 3,
                "clinical_review_required": True,
                "labels": ["sepsis", "icu"],
                "acceptance_criteria": [{"given": "a", "when": "b", "then": "c"}],
            },
        )
        self.loose = await self.rest("/stories", pm, {"product_id": pid, "title": "Loose"})
        r = await self.client.post(
            f"/api/v1/stories/{self.story['id']}/clinical-review",
            json={"status": "approved", "comment": "ok"},
            headers=self.h("clinician"),
        )
        assert r.status_code == 200, r.text
        self.interview = await self.rest(
            "/interviews",
            "clinician",
            {
                "product_id": pid,
                "title": "ICU nurse",
                "conducted_on": "2024-05-02",
                "participant_persona": "nurse",
                "participant_name": "Maria Gonzalez",
                "transcript": "Maria Gonzalez said call 555-201-3344 about bed 4.",
                "summary": "Alerts at night",
                "tags": ["night"],
            },
        )
        self.insight = await self.rest(
            "/insights",
            pm,
            {
                "interview_id": self.interview["id"],
                "title": "Alarm fatigue",
                "quote": "Maria Gonzalez: too many alerts",
                "severity": 4,
                "story_ids": [self.story["id"]],
                "roadmap_item_ids": [self.item["id"]],
            },
        )
        return self


@pytest.fixture(scope="module")
async def world(client, auth) -> World:
    return await World(client, auth).build()


def corpus(w: World) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    """(name, document, variables, operation name): every read the GraphQL tests send, and the
    language features the fast path compiles."""
    pid, item, iv, ins = w.product["id"], w.item["id"], w.interview["id"], w.insight["id"]
    key = w.story["key"]
    full = {
        "product": f'{{ x: product(id: "{pid}") {{ {selection(ProductOut)} }} }}',
        "roadmap item": f'{{ x: roadmapItem(id: "{item}") {{ {selection(RoadmapItemOut)} }} }}',
        "story by key": f'{{ x: story(key: "{key}") {{ {selection(StoryOut)} }} }}',
        "story by id": f'{{ x: story(id: "{w.loose["id"]}") {{ {selection(StoryOut)} roadmapItem {{ id }} }} }}',
        "interview": f'{{ x: interview(id: "{iv}") {{ {selection(InterviewOut)} }} }}',
        "insight": f'{{ x: insight(id: "{ins}") {{ {selection(InsightOut)} }} }}',
        "products": f"{{ x: products(first: 200) {{ totalCount nodes {{ {selection(ProductOut)} }} }} }}",
        "roadmap list": f'{{ x: roadmapItems(productId: "{pid}") {{ totalCount nodes {{ {selection(RoadmapItemOut)} }} }} }}',
        "story list": f'{{ x: stories(productId: "{pid}") {{ totalCount nodes {{ {selection(StoryOut)} }} }} }}',
        "interview list": f'{{ x: interviews(productId: "{pid}") {{ totalCount nodes {{ {selection(InterviewOut)} }} }} }}',
        "insight list": f'{{ x: insights(productId: "{pid}") {{ totalCount nodes {{ {selection(InsightOut)} }} }} }}',
    }
    cases: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
        (name, q, None, None) for name, q in full.items()
    ]
    cases += [
        ("me", "{ me { sub type role name clientId scopes productIds } }", None, None),
        ("bench page", BENCH_PAGE, {"id": pid}, None),
        ("n+1 page", ROADMAP_PAGE, {"id": pid}, None),
        ("fragments", FRAGMENTS, {"id": pid}, "Frag"),
        ("conditions yes", CONDITIONS, {"id": pid, "yes": True}, None),
        ("conditions no", CONDITIONS, {"id": pid, "yes": False, "no": True, "first": 2}, None),
        ("aliases", ALIASES, {"id": pid, "status": "PROPOSED"}, None),
        ("aliases null enum", ALIASES, {"id": pid, "status": None, "sort": "TITLE_ASC"}, "Aliases"),
        ("deep", DEEP, {"key": key}, None),
        ("page 1", PAGINATION, {"id": pid}, None),
        ("interviews", INTERVIEWS, {"id": pid}, None),
        ("audit", AUDIT, {"sub": w.subs["product_manager"]}, None),
        (
            "nested visibility",
            f'query {{ roadmapItem(id: "{item}") {{ evidenceCount insights {{ totalCount nodes {{ title interview {{ id }} }} }} }} }}',
            None,
            None,
        ),
        ("typename only", "{ __typename }", None, None),
        (
            "two operations",
            "query A { me { sub } } query B($id: ID!) { product(id: $id) { key } }",
            {"id": pid},
            "B",
        ),
    ]
    return cases


MISSING = str(uuid.uuid4())
ERRORS = {
    # an AppError in a root field (whole operation failed → 404/422 …)
    "not found": ('{ product(id: "' + MISSING + '") { id } }', None, None),
    "bad id": ('{ product(id: "nope") { id } }', None, None),
    "page too big": ("{ products(first: 500) { totalCount } }", None, None),
    "id and key": ('{ story(id: "' + MISSING + '", key: "X-1") { id } }', None, None),
    # partial data: one root field fails after the other ran (and touched the audit record)
    "partial": (
        'query Partial($id: ID!) { a: product(id: $id) { key roadmapItems { nodes { id stories { nodes { key } } } } } b: product(id: "'
        + MISSING
        + '") { id } }',
        "PID",
        None,
    ),
    # an error deep inside a nested connection
    "total count refused": ("{ auditEvents(first: 1) { totalCount } }", None, None),
    # request errors
    "missing variable": ("query Q($id: ID!) { product(id: $id) { id } }", {}, None),
    "wrong variable type": (
        "query Q($f: Int) { products(first: $f) { totalCount } }",
        {"f": "x"},
        None,
    ),
    "unknown operation": ("query A { me { sub } }", None, "B"),
    "no operation chosen": ("query A { me { sub } } query B { me { role } }", None, None),
    "validation": ("{ me { subb } }", None, None),
    # not compiled: introspection
    "introspection": (
        '{ __schema { queryType { name } } __type(name: "Story") { name } }',
        None,
        None,
    ),
}


async def _both(
    fast: httpx.AsyncClient,
    std: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
) -> tuple[httpx.Response, httpx.Response, str, str]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation is not None:
        body["operationName"] = operation
    ids = ["fp-" + uuid.uuid4().hex, "fp-" + uuid.uuid4().hex]
    a = await fast.post("/graphql", json=body, headers={**headers, "X-Request-ID": ids[0]})
    b = await std.post("/graphql", json=body, headers={**headers, "X-Request-ID": ids[1]})
    return a, b, ids[0], ids[1]


async def _audit(app, request_id: str) -> dict[str, Any]:
    async with app.state.sessionmaker() as s:
        ev = await s.scalar(select(AuditEvent).where(AuditEvent.client_request_id == request_id))
    assert ev is not None
    return {f: getattr(ev, f) for f in AUDIT_FIELDS}


def _same_audit(fast: dict[str, Any], std: dict[str, Any], body: dict[str, Any], name: str) -> None:
    """The same event. Sibling fields run concurrently, and on PostgreSQL the order in which
    their services enrich the record depends on I/O timing under either executor: the ids
    are compared as a set, and the first-toucher fields (action, resource type, product)
    only when one root field did all the work."""
    fast, std = dict(fast), dict(std)
    assert sorted(fast.pop("resource_ids")) == sorted(std.pop("resource_ids")), name
    if len(body.get("data") or {}) > 1:
        for field in ("action", "resource_type", "product_id"):
            fast.pop(field), std.pop(field)
    assert fast == std, name


def _same(a: httpx.Response, b: httpx.Response, name: str) -> None:
    assert a.status_code == b.status_code, (name, a.status_code, b.status_code, a.text, b.text)
    assert a.content == b.content, (name, a.text, b.text)


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
async def test_corpus_answers_exactly_like_graphql_core(world, app, client, standard, role):
    fastpath = app.state.graphql_schema.fastpath
    for name, query, variables, operation in corpus(world):
        hits, fallbacks = fastpath.hits, fastpath.fallbacks
        a, b, ra, rb = await _both(client, standard, world.h(role), query, variables, operation)
        _same(a, b, name)
        body = a.json()
        _same_audit(await _audit(app, ra), await _audit(app, rb), body, name)
        if body.get("errors"):  # e.g. interviews for an exec: answered by the fallback
            assert fastpath.fallbacks == fallbacks + 1, name
        else:
            assert fastpath.hits == hits + 1 and fastpath.fallbacks == fallbacks, name


async def test_corpus_is_not_vacuous(world, client):
    """The answers compared above hold data: nested pages, nulls, enums, lists, fragments."""
    pm = world.h("product_manager")
    pid = world.product["id"]
    r = await client.post(
        "/graphql", json={"query": BENCH_PAGE, "variables": {"id": pid}}, headers=pm
    )
    items = r.json()["data"]["product"]["roadmapItems"]["nodes"]
    assert [i["title"] for i in items] == ["Triage", "Later"]
    assert items[0]["status"] == "PROPOSED" and items[0]["riceScore"] == 25.0
    assert items[0]["stories"]["nodes"][0]["storyPoints"] == 3
    r = await client.post(
        "/graphql",
        json={"query": CONDITIONS, "variables": {"id": pid, "yes": True}},
        headers=pm,
    )
    product = r.json()["data"]["product"]
    assert list(product) == ["name", "intendedUse", "modelType", "roadmapItems"]
    assert product["modelType"] is None
    r = await client.post(
        "/graphql",
        json={"query": FRAGMENTS, "variables": {"id": pid}, "operationName": "Frag"},
        headers=pm,
    )
    data = r.json()["data"]
    assert data["__typename"] == "Query" and data["product"]["__typename"] == "Product"
    assert data["me"]["productIds"] == [pid]
    first = data["product"]["roadmapItems"]["nodes"][0]
    assert first["id"] == world.item["id"] and first["stories"]["nodes"][0]["labels"] == [
        "sepsis",
        "icu",
    ]
    assert first["stories"]["nodes"][0]["clinicalReview"]["status"] == "APPROVED"


async def test_pagination_cursor_round_trip(world, app, client, standard):
    h = world.h("engineer")
    a, b, _, _ = await _both(client, standard, h, PAGINATION, {"id": world.product["id"]}, None)
    _same(a, b, "page 1")
    cursor = a.json()["data"]["roadmapItems"]["pageInfo"]["endCursor"]
    variables = {"id": world.product["id"], "after": cursor}
    a, b, _, _ = await _both(client, standard, h, PAGINATION, variables, None)
    _same(a, b, "page 2")
    assert a.json()["data"]["roadmapItems"]["edges"][0]["node"]["title"] == "Later"


@pytest.mark.parametrize("name", list(ERRORS))
async def test_errors_fall_back_to_the_standard_executor(world, app, client, standard, name):
    fastpath = app.state.graphql_schema.fastpath
    query, variables, operation = ERRORS[name]
    if variables == "PID":
        variables = {"id": world.product["id"]}
    fallbacks = fastpath.fallbacks
    a, b, ra, rb = await _both(
        client, standard, world.h("product_manager"), query, variables, operation
    )
    _same(a, b, name)
    # same audit event: the abandoned fast run left nothing behind (ids, action, outcome)
    _same_audit(await _audit(app, ra), await _audit(app, rb), a.json(), name)
    if name not in ("validation", "unknown operation", "no operation chosen"):
        # (requests refused before execution never reach the executor)
        assert fastpath.fallbacks == fallbacks + 1, name
    if name == "partial":
        body = a.json()
        assert body["data"]["a"]["key"] == world.product["key"] and body["data"]["b"] is None
        event = await _audit(app, ra)
        assert event["resource_ids"].count(world.product["id"]) == 1


async def test_mutations_use_the_standard_executor(world, app, client):
    fastpath = app.state.graphql_schema.fastpath
    hits, fallbacks = fastpath.hits, fastpath.fallbacks
    r = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: StoryCreateInput!) { createStory(input: $i) { key roadmapItem { title } } }",
            "variables": {"i": {"productId": world.product["id"], "title": "via mutation"}},
        },
        headers=world.h("product_manager"),
    )
    assert r.status_code == 200 and r.json()["data"]["createStory"]["roadmapItem"] is None
    assert fastpath.hits == hits and fastpath.fallbacks == fallbacks + 1


async def test_variables_and_arguments_cached_across_requests(world, app, client, standard):
    """Coerced variables and converted arguments are reused across requests with the same
    scalar variables (app/graphql/fastpath.py, `_scalar_key`): every change of a value or of
    its JSON type is a new entry, never a previous request's answer."""
    fastpath = app.state.graphql_schema.fastpath
    h = world.h("product_manager")
    pid = world.product["id"]
    sequence: list[dict[str, Any]] = [
        {"id": pid, "yes": True, "first": 1},
        {"id": pid, "yes": True, "first": 2},
        {"id": pid, "yes": True, "first": 1},
        {"id": pid, "yes": False, "first": 1},
        {"id": pid, "yes": 1, "first": 1},  # not a Boolean: an error, not the cached True
        {"id": pid, "yes": True, "first": 1.0},  # an Int in GraphQL all the same
        {"id": pid, "yes": True, "first": 1.5},  # not an Int
        {"id": pid, "yes": True, "first": "1"},
        {"id": pid, "yes": True, "first": None},
        {"id": world.item["id"], "yes": True, "first": 1},  # not a product: null
        {"id": pid, "yes": True, "first": 1, "unused": "x"},
    ]
    hits = fastpath.hits
    for variables in sequence * 2:
        a, b, _, _ = await _both(client, standard, h, CONDITIONS, variables, "Cond")
        _same(a, b, repr(variables))
    assert fastpath.hits > hits
    r = await client.post(
        "/graphql",
        json={"query": CONDITIONS, "variables": sequence[1], "operationName": "Cond"},
        headers=h,
    )
    assert len(r.json()["data"]["product"]["roadmapItems"]["nodes"]) == 2

"""Free text that is not PHI-bearing is scanned on write (issue 19 item 2): detected
identifiers are redacted before storing and the response names the fields (`PHI-Redacted`
header in REST, `extensions.phiRedacted` in GraphQL). Every string field of the committed
OpenAPI document is classified in app/phi/fields.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.phi.fields import FIELDS, Kind, kind
from tests.api.factories import make_world
from tests.graphql.helpers import gql
from tests.phi import rawdb

pytestmark = pytest.mark.asyncio

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
# A short text full of identifiers the detector finds (the values must never be stored).
PHI_TEXT = "Maria Gonzalez 617-555-0143 DOB 03/03/1931"
NEEDLES = ("Gonzalez", "617-555-0143", "03/03/1931")

# OpenAPI schema -> (resource of app/phi/fields.py, prefix of its field names)
SCHEMAS = {
    "Product": ("product", ""),
    "RoadmapItem": ("roadmap_item", ""),
    "Story": ("story", ""),
    "AcceptanceCriterion": ("story", "acceptance_criteria."),
    "ClinicalReview": ("story", "clinical_review."),
    "JiraSync": ("story", "jira_sync."),
    "SlackLink": ("slack_link", ""),
    "JiraWebhookResult": ("api", ""),
    "Webhook": ("webhook", ""),
    "Activity": ("audit_event", ""),  # the product activity stream is audit events, no values
    "Comment": ("comment", ""),
    "CommentWarning": ("api", ""),
    "Search": ("search", ""),
    "Import": ("api", ""),
    "Body_importStories": ("story_import", ""),
    "RowErrorOut": ("api", ""),  # import report rows: line, column, reason (no cell values)
    "RowResultOut": ("api", ""),
    "Delivery": ("webhook_delivery", ""),
    "Attempt": ("webhook_delivery", ""),
    "Interview": ("interview", ""),
    "Insight": ("insight", ""),
    "Member": ("membership", ""),
    "MeOut": ("principal", ""),
    "AuditEvent": ("audit_event", ""),
    "Problem": ("api", ""),
    "OAuthErrorOut": ("api", ""),
    "TokenOut": ("api", ""),
}
NOT_TEXT_FORMATS = {"uuid", "date", "date-time", "uri"}


def _schema_resource(name: str) -> tuple[str, str]:
    if name.endswith(("List", "ListFields")):  # pages: {data, next_cursor}, whole or sparse
        return ("api", "")
    for prefix, target in sorted(SCHEMAS.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(prefix):
            return target
    raise AssertionError(f"OpenAPI schema {name} is not mapped to a resource of the table")


def _is_text(prop: dict[str, Any]) -> bool:
    """A string (or list of strings) a client could type: not an enum, id, date or ref."""
    if "$ref" in prop or "enum" in prop or "const" in prop:
        return False
    if "anyOf" in prop:
        return any(_is_text(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return _is_text(prop.get("items", {}))
    return prop.get("type") == "string" and prop.get("format") not in NOT_TEXT_FORMATS


def _string_fields() -> list[tuple[str, str, str]]:
    doc = json.loads(OPENAPI.read_text())
    found = []
    for name, schema in doc["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if _is_text(prop):
                resource, prefix = _schema_resource(name)
                found.append((name, resource, prefix + field))
    return found


async def test_every_openapi_string_field_is_classified():
    fields = _string_fields()
    assert len(fields) > 60  # the enumeration sees the document
    missing = [f"{s}.{f} ({r})" for s, r, f in fields if kind(r, f) is None]
    assert not missing, f"classify these in app/phi/fields.py: {missing}"
    # and the table names only fields that exist (no stale FREE_TEXT/PHI rows)
    seen = {(r, f) for _, r, f in fields}
    for resource, table in FIELDS.items():
        for field, k in table.items():
            if k in (Kind.FREE_TEXT, Kind.PHI):
                assert (resource, field) in seen, f"{resource}.{field} is not in the API"


def _free_text(resource: str) -> list[str]:
    return [f for f, k in FIELDS[resource].items() if k is Kind.FREE_TEXT]


def _value(field: str) -> Any:
    if field in ("tags", "labels"):
        return ["ok", PHI_TEXT]
    if field.startswith("acceptance_criteria."):
        part = field.split(".", 1)[1]
        return [{"given": "a", "when": "b", "then": "c", **{part: PHI_TEXT}}]
    return PHI_TEXT


def _assert_clean(body: Any, where: str) -> None:
    text = json.dumps(body)
    for needle in NEEDLES:
        assert needle not in text, f"{needle!r} stored in {where}"


CASES = [
    (r, f)
    for r in ("product", "roadmap_item", "story", "interview", "insight")
    for f in _free_text(r)
]


@pytest.mark.parametrize(("resource", "field"), CASES, ids=[f"{r}.{f}" for r, f in CASES])
async def test_free_text_is_redacted_before_storing(client, auth, settings, resource, field):
    w = await make_world(client, auth)
    warned, history = field, None
    if resource == "story" and field in ("clinical_review.comment", "comment"):
        # the review's comment: written once by the review, shown in the story and its history
        story = await w.story(clinical_review_required=True)
        clin = await w.member("clinician")
        url = f"/api/v1/stories/{story['id']}"
        r = await client.post(
            f"{url}/clinical-review", json={"status": "approved", "comment": PHI_TEXT}, headers=clin
        )
        warned, history = "clinical_review.comment", f"{url}/reviews"
    elif resource == "roadmap_item" and field == "comment":
        # the approval's comment (POST …/approve), shown in the approval history
        item = await w.roadmap_item()
        url = f"/api/v1/roadmap-items/{item['id']}"
        r = await client.post(f"{url}/approve", json={"comment": PHI_TEXT}, headers=auth("exec"))
        history = f"{url}/approvals"
    else:
        rows = {
            "product": lambda: w.product,
            "roadmap_item": w.roadmap_item,
            "story": w.story,
            "interview": w.interview,
            "insight": w.insight,
        }
        made = rows[resource]()
        row = made if isinstance(made, dict) else await made
        collection = {
            "product": "products",
            "roadmap_item": "roadmap-items",
            "story": "stories",
            "interview": "interviews",
            "insight": "insights",
        }[resource]
        url = f"/api/v1/{collection}/{row['id']}"
        name = field.split(".", 1)[0]
        r = await client.patch(url, json={name: _value(field)}, headers=w.pm)
    assert r.status_code == 200, r.text
    assert warned in r.headers["phi-redacted"].split(", "), r.headers
    _assert_clean(r.json(), f"{field} response")
    _assert_clean((await client.get(url, headers=w.pm)).json(), f"{field} stored")
    if history is not None:
        rows = (await client.get(history, headers=w.pm)).json()["data"]
        assert rows and rows[0]["comment"], rows
        _assert_clean(rows, f"{field} history")
    # a later read carries no warning (nothing was redacted by it)
    assert "phi-redacted" not in (await client.get(url, headers=w.pm)).headers


async def test_interview_title_site_tags_on_create(client, auth, settings):
    w = await make_world(client, auth)
    r = await client.post(
        "/api/v1/interviews",
        json={
            "product_id": w.pid,
            "title": f"Walkthrough with {PHI_TEXT}",
            "site": "Ward 5, call 617-555-0143",
            "tags": ["icu", "DOB 03/03/1931"],
            "conducted_on": "2025-03-04",
            "participant_persona": "nurse",
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    assert r.headers["phi-redacted"] == "title, site, tags"
    body = r.json()
    assert body["title"].startswith("Walkthrough with [NAME]")
    assert body["tags"][0] == "icu" and "[DATE]" in body["tags"][1]
    stored = await rawdb.row(settings, "interview", body["id"])
    _assert_clean({k: str(v) for k, v in stored.items()}, "interview row")


async def test_clean_text_and_identifiers_are_left_alone(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        "/api/v1/stories",
        json={
            "product_id": w.pid,
            "title": "Show the sepsis score",
            "sprint": "2025-03-04",  # an identifier (filter key): never rewritten
            "jira_key": "SEP-617",
            "labels": ["icu"],
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    assert "phi-redacted" not in r.headers
    body = r.json()
    assert body["title"] == "Show the sepsis score" and body["sprint"] == "2025-03-04"


async def test_graphql_reports_the_same_warning(client, auth):
    w = await make_world(client, auth)
    status, body = await gql(
        client,
        "mutation($input: StoryCreateInput!) { createStory(input: $input) "
        "{ title acceptanceCriteria { given } } }",
        {
            "input": {
                "productId": w.pid,
                "title": f"Call {PHI_TEXT}",
                "acceptanceCriteria": [{"given": PHI_TEXT, "when": "w", "then": "t"}],
            }
        },
        headers=w.pm,
    )
    assert status == 200, body
    assert body["extensions"]["phiRedacted"] == ["title", "acceptance_criteria.given"]
    _assert_clean(body["data"], "GraphQL story")
    status, body = await gql(
        client,
        "mutation($input: StoryCreateInput!) { createStory(input: $input) { title } }",
        {"input": {"productId": w.pid, "title": "Nothing to see"}},
        headers=w.pm,
    )
    assert status == 200 and "phiRedacted" not in (body.get("extensions") or {}), body


async def test_redacted_text_stays_within_the_field_length(client, auth):
    """ "Ed" -> "[NAME]" grows the text: it may grow up to the field's limit, never past it
    (PostgreSQL would refuse a longer value with a 500)."""
    w = await make_world(client, auth)
    full = ("Ed said " * 40)[:300]  # exactly the title limit, every "Ed" redacted
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": full}, headers=w.pm
    )
    assert r.status_code == 201, r.text
    title = r.json()["title"]
    assert len(title) == 300 and title.startswith("[NAME] said [NAME]")
    short = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "Ed said hi"}, headers=w.pm
    )
    assert short.json()["title"] == "[NAME] said hi"  # grown, not cut


async def test_openapi_documents_the_warning_header():
    doc = json.loads(OPENAPI.read_text())
    assert "PhiRedacted" in doc["components"]["headers"]
    for path, method, code in (
        ("/api/v1/stories", "post", "201"),
        ("/api/v1/interviews/{interview_id}", "patch", "200"),
    ):
        headers = doc["paths"][path][method]["responses"][code]["headers"]
        assert headers["PHI-Redacted"] == {"$ref": "#/components/headers/PhiRedacted"}

"""The published OpenAPI document is exactly as strict as the server (issue #13 items 3, 4, 9,
13): enums, integers, blank text, sort values and query parameters, each checked on both sides."""

from __future__ import annotations

import pytest

from app.core.fields import NOT_BLANK
from app.insights.repository import InsightRepository
from app.products.repository import ProductRepository
from app.roadmap.repository import RoadmapItemRepository
from app.stories.repository import StoryRepository
from tests.api.factories import assert_problem, error_locs, make_world


def _msgs(r) -> list[str]:
    return [e["msg"] for e in r.json().get("errors", [])]


async def test_story_points_enum_is_published_and_enforced(client, auth, app):
    w = await make_world(client, auth)
    prop = app.openapi()["components"]["schemas"]["StoryCreate"]["properties"]["story_points"]
    assert prop["anyOf"][0] == {"enum": [0, 1, 2, 3, 5, 8, 13, 21], "type": "integer"}
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "a", "story_points": 4}, headers=w.pm
    )
    assert_problem(r, 422)
    assert _msgs(r) == ["Input should be 0, 1, 2, 3, 5, 8, 13 or 21"]
    # JSON Schema's integer includes 5.0; the server agrees, and stores 5.
    r = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": "a", "story_points": 5.0},
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    assert r.json()["story_points"] == 5
    for bad in (5.5, True, "5"):
        r = await client.post(
            "/api/v1/stories",
            json={"product_id": w.pid, "title": "a", "story_points": bad},
            headers=w.pm,
        )
        assert_problem(r, 422)


async def test_impact_enum_and_integral_reach(client, auth, app):
    w = await make_world(client, auth)
    prop = app.openapi()["components"]["schemas"]["RoadmapItemCreate"]["properties"]["impact"]
    assert prop["anyOf"][0] == {"enum": [0.25, 0.5, 1, 2, 3], "type": "number"}
    url = "/api/v1/roadmap-items"
    r = await client.post(
        url, json={"product_id": w.pid, "title": "a", "impact": 1.5}, headers=w.pm
    )
    assert _msgs(r) == ["Input should be 0.25, 0.5, 1, 2 or 3"]
    r = await client.post(
        url, json={"product_id": w.pid, "title": "a", "impact": 2, "reach": 40.0}, headers=w.pm
    )
    assert r.status_code == 201, r.text
    assert r.json()["impact"] == 2 and r.json()["reach"] == 40


async def test_create_status_subset_has_no_python_repr(client, auth, app):
    w = await make_world(client, auth)
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["StoryCreateStatus"]["enum"] == ["backlog", "ready"]
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "a", "status": "done"}, headers=w.pm
    )
    assert_problem(r, 422)
    assert _msgs(r) == ["Input should be 'backlog' or 'ready'"]
    assert "<" not in r.text


async def test_request_schemas_publish_no_defaults(app):
    """openapi-typescript (default flags) makes a property with a `default` required: request
    bodies say defaults in words so `{product_id, title}` is a complete StoryCreate."""
    schemas = app.openapi()["components"]["schemas"]
    create = schemas["StoryCreate"]
    assert sorted(create["required"]) == ["product_id", "title"]
    assert not [n for n, p in create["properties"].items() if "default" in p]
    assert 'Default: "backlog"' in create["properties"]["status"]["description"]
    for name in ("ProductCreate", "RoadmapItemCreate", "InterviewCreate", "InsightCreate"):
        assert not [n for n, p in schemas[name]["properties"].items() if "default" in p], name


async def test_text_is_checked_as_sent_and_stored_trimmed(client, auth, app):
    w = await make_world(client, auth)
    title = app.openapi()["components"]["schemas"]["StoryCreate"]["properties"]["title"]
    assert title["pattern"] == NOT_BLANK and title["maxLength"] == 300
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": " \t "}, headers=w.pm
    )
    assert_problem(r, 422)
    # Surrounding whitespace counts toward the published maximum ...
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": " " + "x" * 300}, headers=w.pm
    )
    assert_problem(r, 422)
    # ... and is not stored.
    r = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": "  Padded  ", "labels": [" ui "]},
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Padded" and r.json()["labels"] == ["ui"]


@pytest.mark.parametrize(
    ("path", "repo"),
    [
        ("/api/v1/products", ProductRepository),
        ("/api/v1/roadmap-items", RoadmapItemRepository),
        ("/api/v1/stories", StoryRepository),
        ("/api/v1/insights", InsightRepository),
    ],
)
async def test_sort_is_an_enum_of_the_sortable_fields(client, auth, app, path, repo):
    params = app.openapi()["paths"][path]["get"]["parameters"]
    (sort,) = [p for p in params if p["name"] == "sort"]
    enum = sort["schema"]["anyOf"][0]["enum"]
    assert sorted(enum) == sorted([*repo.sortable, *("-" + f for f in repo.sortable)])
    for value in enum:
        r = await client.get(path, params={"sort": value}, headers=auth("product_manager"))
        assert r.status_code == 200, (value, r.text)
    r = await client.get(path, params={"sort": "-bogus"}, headers=auth("product_manager"))
    assert_problem(r, 422)
    assert error_locs(r) == [["query", "sort"]]


async def test_unknown_or_repeated_query_parameters_are_refused(client, auth):
    w = await make_world(client, auth)
    r = await client.get(
        "/api/v1/stories", params={"stauts": "done", "product_id": w.pid}, headers=w.pm
    )
    body = assert_problem(r, 422)
    assert body["errors"] == [
        {"loc": ["query", "stauts"], "msg": "Unknown query parameter.", "type": "unknown"}
    ]
    r = await client.get("/api/v1/stories?limit=5&limit=6", headers=w.pm)
    assert_problem(r, 422)
    assert error_locs(r) == [["query", "limit"]]
    # Declared parameters, including those of shared dependencies (limit, sort), still pass.
    r = await client.get(
        "/api/v1/stories",
        params={"product_id": w.pid, "limit": 5, "sort": "-created_at", "include_archived": True},
        headers=w.pm,
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/audit-events", params={"limit": 1, "bogus": 1}, headers=auth("compliance_officer")
    )
    assert error_locs(r) == [["query", "bogus"]]


async def test_created_resources_carry_location(client, auth):
    w = await make_world(client, auth)
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "Located"}, headers=w.pm
    )
    assert r.status_code == 201
    assert r.headers["location"] == f"/api/v1/stories/{r.json()['id']}"
    got = await client.get(r.headers["location"], headers=w.pm)
    assert got.status_code == 200 and got.json()["id"] == r.json()["id"]
    item = await client.post(
        "/api/v1/roadmap-items", json={"product_id": w.pid, "title": "x"}, headers=w.pm
    )
    assert item.headers["location"] == f"/api/v1/roadmap-items/{item.json()['id']}"
    member = await client.post(
        f"/api/v1/products/{w.pid}/members", json={"subject": "oidc/ann lee"}, headers=w.pm
    )
    assert member.status_code == 201
    assert member.headers["location"] == f"/api/v1/products/{w.pid}/members/oidc%2Fann%20lee"
    story = r.json()
    comment = await client.post(
        f"/api/v1/stories/{story['key']}/comments", json={"body": "Looks right"}, headers=w.pm
    )
    assert comment.status_code == 201, comment.text
    where = comment.headers["location"]
    assert where == f"/api/v1/stories/{story['key']}/comments/{comment.json()['id']}"
    edited = await client.patch(where, json={"body": "Edited"}, headers=w.pm)
    assert edited.status_code == 200, edited.text


def test_openapi_documents_headers_security_servers_tags(app):
    doc = app.openapi()
    assert doc["servers"] and doc["info"]["contact"] and doc["info"]["license"]["url"]
    assert {t["name"] for t in doc["tags"]} >= {"products", "stories", "audit", "health"}
    assert all(t["description"] for t in doc["tags"])
    for path in ("/health/live", "/health/ready", "/.well-known/jwks.json", "/oauth/token"):
        for op in doc["paths"][path].values():
            assert op["security"] == [], path
    assert doc["paths"]["/api/v1/stories"]["get"]["security"] == [{"bearerAuth": []}]
    created = doc["paths"]["/api/v1/stories"]["post"]["responses"]["201"]["headers"]
    assert set(created) == {"ETag", "Location", "X-Request-Id", "PHI-Redacted"}
    listed = doc["paths"]["/api/v1/stories"]["get"]["responses"]["200"]["headers"]
    assert set(listed) == {"Link", "X-Request-Id"}
    jwks = doc["paths"]["/.well-known/jwks.json"]["get"]["responses"]["200"]["content"]
    assert jwks["application/json"]["schema"] == {"$ref": "#/components/schemas/JWKS"}

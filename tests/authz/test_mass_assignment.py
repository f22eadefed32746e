"""Mass assignment: read-only and server-owned fields in create/update bodies of every resource
are a 422 naming the field (errors[].loc), and nothing changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.factories import World, assert_problem, make_world
from tests.conftest import unique_key

pytestmark = pytest.mark.asyncio

WHEN = "2024-01-01T00:00:00Z"
SERVER_OWNED: dict[str, Any] = {
    "id": str(uuid.uuid4()),
    "key": "HACKED",
    "product_id": str(uuid.uuid4()),
    "approved_by": "mallory",
    "approved_at": WHEN,
    "approval_status": "current",
    "clinical_review": {"status": "approved", "reviewer_sub": "mallory", "reviewed_at": WHEN},
    "version": 99,
    "created_at": WHEN,
    "updated_at": WHEN,
    "archived_at": WHEN,
    "created_by": "mallory",
    "rice_score": 9999.0,
    "evidence_count": 42,
    "imdrf_category": "IV",
    "redacted": False,
    "phi_detected": False,
    "phi_categories": [],
    "purged_at": WHEN,
    "number": 1,
}

# The only places where one of these names is a legitimate input.
WRITABLE = {
    ("product", "create", "key"),
    ("roadmap_item", "create", "product_id"),
    ("story", "create", "product_id"),
    ("interview", "create", "product_id"),
}


@dataclass(frozen=True)
class Resource:
    name: str
    collection: str
    row: str | None  # World attribute holding the existing row (None: the product)

    def create_body(self, w: World, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "product": {"key": unique_key("MA"), "name": "Mass"},
            "roadmap_item": {"product_id": w.pid, "title": "Item"},
            "story": {"product_id": w.pid, "title": "Story"},
            "interview": {
                "product_id": w.pid,
                "title": "Interview",
                "conducted_on": "2025-01-02",
                "participant_persona": "nurse",
            },
            "insight": {"interview_id": rows["interview"]["id"], "title": "Insight"},
        }[self.name]


RESOURCES = [
    Resource("product", "products", None),
    Resource("roadmap_item", "roadmap-items", "item"),
    Resource("story", "stories", "story"),
    Resource("interview", "interviews", "interview"),
    Resource("insight", "insights", "insight"),
]


@pytest.fixture(scope="module")
async def world(client, auth) -> tuple[World, dict[str, dict[str, Any]]]:
    w = await make_world(client, auth)
    interview = await w.interview(participant_name="Ada Lovelace")
    rows = {
        "item": await w.roadmap_item(reach=10, impact=1.0, confidence=0.5, effort=2.0),
        "story": await w.story(clinical_review_required=True),
        "interview": interview,
        "insight": await w.insight(interview["id"], quote="Ada said so"),
    }
    return w, rows


def loc_names(r: httpx.Response) -> set[str]:
    return {str(e["loc"][-1]) for e in r.json().get("errors", []) if e.get("loc")}


async def snapshot(client: httpx.AsyncClient, w: World, res: Resource) -> list[str]:
    """Ids of the resource's rows in the world's product (products: the newest keys)."""
    if res.name == "product":
        r = await client.get("/api/v1/products?sort=-created_at&limit=200", headers=w.pm)
        return sorted(p["key"] for p in r.json()["data"])
    r = await client.get(f"/api/v1/{res.collection}?product_id={w.pid}&limit=200", headers=w.pm)
    assert r.status_code == 200, r.text
    return sorted(row["id"] for row in r.json()["data"])


def _cases(mode: str) -> list[Any]:
    return [
        pytest.param(res, name, id=f"{res.name}-{name}")
        for res in RESOURCES
        for name in SERVER_OWNED
        if (res.name, mode, name) not in WRITABLE
    ]


@pytest.mark.parametrize(("res", "field"), _cases("create"))
async def test_create_refuses_server_owned_field(client, world, res: Resource, field: str):
    w, rows = world
    before = await snapshot(client, w, res)
    body = {**res.create_body(w, rows), field: SERVER_OWNED[field]}
    r = await client.post(f"/api/v1/{res.collection}", json=body, headers=w.pm)
    assert_problem(r, 422)
    assert field in loc_names(r), r.text
    assert await snapshot(client, w, res) == before


@pytest.mark.parametrize(("res", "field"), _cases("update"))
async def test_update_refuses_server_owned_field(client, world, res: Resource, field: str):
    w, rows = world
    url = f"/api/v1/{res.collection}/{w.pid if res.row is None else rows[res.row]['id']}"
    before = await client.get(url, headers=w.pm)
    assert before.status_code == 200
    r = await client.patch(url, json={field: SERVER_OWNED[field]}, headers=w.pm)
    assert_problem(r, 422)
    assert field in loc_names(r), r.text
    # alongside a legitimate change too: the whole request is refused
    legit = "name" if res.name == "product" else "title"
    r = await client.patch(url, json={legit: "Changed", field: SERVER_OWNED[field]}, headers=w.pm)
    assert_problem(r, 422)
    after = await client.get(url, headers=w.pm)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize("field", ["product_id", "added_by", "created_at", "id", "role"])
async def test_add_member_refuses_extra_fields(client, world, field: str):
    w, _ = world
    url = f"/api/v1/products/{w.pid}/members"
    before = (await client.get(url, headers=w.pm)).json()
    value = SERVER_OWNED.get(field, "admin")
    r = await client.post(url, json={"subject": "mallory", field: value}, headers=w.pm)
    assert_problem(r, 422)
    assert field in loc_names(r), r.text
    assert (await client.get(url, headers=w.pm)).json() == before

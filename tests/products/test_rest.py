"""Products over REST: CRUD, computed IMDRF category, ETags, archive, validation."""

from __future__ import annotations

import pytest

from tests.conftest import unique_key

pytestmark = pytest.mark.asyncio


async def create(client, auth, **over):
    body = {"key": unique_key("P"), "name": "Sepsis early warning", **over}
    r = await client.post("/api/v1/products", json=body, headers=auth("product_manager", "pm1"))
    assert r.status_code == 201, r.text
    return r


@pytest.mark.parametrize(
    ("situation", "significance", "category"),
    [
        ("critical", "treat_or_diagnose", "IV"),
        ("critical", "drive_management", "III"),
        ("critical", "inform_management", "II"),
        ("serious", "treat_or_diagnose", "III"),
        ("serious", "drive_management", "II"),
        ("serious", "inform_management", "I"),
        ("non_serious", "treat_or_diagnose", "II"),
        ("non_serious", "drive_management", "I"),
        ("non_serious", "inform_management", "I"),
        (None, "inform_management", None),
    ],
)
async def test_imdrf_category_follows_n12_table(client, auth, situation, significance, category):
    r = await create(client, auth, samd_situation=situation, samd_significance=significance)
    assert r.json()["imdrf_category"] == category


async def test_create_get_update_archive_with_etags(client, auth):
    pm = auth("product_manager", "pm1")
    r = await create(client, auth, performance_metrics={"auroc": 0.91})
    product = r.json()
    assert product["version"] == 1 and r.headers["etag"] == '"1"'
    assert product["performance_metrics"] == {"auroc": 0.91}

    got = await client.get(f"/api/v1/products/{product['id']}", headers=pm)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'

    upd = await client.patch(
        f"/api/v1/products/{product['id']}",
        json={
            "lifecycle_stage": "validation",
            "samd_situation": "serious",
            "samd_significance": "drive_management",
        },
        headers={**pm, "If-Match": '"1"'},
    )
    assert upd.status_code == 200, upd.text
    assert upd.json()["version"] == 2 and upd.json()["imdrf_category"] == "II"

    stale = await client.patch(
        f"/api/v1/products/{product['id']}", json={"name": "x"}, headers={**pm, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    again = await client.get(f"/api/v1/products/{product['id']}", headers=pm)
    assert again.json()["name"] == "Sepsis early warning"

    gone = await client.delete(f"/api/v1/products/{product['id']}", headers=pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    listed = await client.get("/api/v1/products?limit=200", headers=pm)
    ids = {p["id"] for p in listed.json()["data"]}
    assert product["id"] not in ids
    with_archived = await client.get(
        "/api/v1/products?include_archived=true&lifecycle_stage=validation&limit=200", headers=pm
    )
    assert product["id"] in {p["id"] for p in with_archived.json()["data"]}


async def test_duplicate_key_is_409_and_changes_nothing(client, auth):
    r = await create(client, auth)
    key = r.json()["key"]
    dup = await client.post(
        "/api/v1/products",
        json={"key": key, "name": "Other"},
        headers=auth("product_manager", "pm2"),
    )
    assert dup.status_code == 409
    assert dup.json()["status"] == 409 and "type" in dup.json() and "title" in dup.json()


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"key": "lower", "name": "x"}, ["body", "key"]),
        ({"key": "ABCDEFGHIJK", "name": "x"}, ["body", "key"]),
        ({"key": "OK1", "name": 5}, ["body", "name"]),
        ({"key": "OK1", "name": "x", "lifecycle_stage": "alpha"}, ["body", "lifecycle_stage"]),
        ({"key": "OK1", "name": "x", "handles_phi": "yes"}, ["body", "handles_phi"]),
        (
            {"key": "OK1", "name": "x", "performance_metrics": {"auroc": "high"}},
            ["body", "performance_metrics", "auroc"],
        ),
        ({"key": "OK1", "name": "x", "surprise": 1}, ["body", "surprise"]),
        ({"key": "OK1", "name": "x", "id": "0193"}, ["body", "id"]),
        ({"key": "OK1", "name": "x", "version": 7}, ["body", "version"]),
    ],
)
async def test_bad_input_is_422_naming_the_field(client, auth, body, loc):
    r = await client.post("/api/v1/products", json=body, headers=auth("product_manager", "pm1"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in r.json()["errors"]]


async def test_patch_cannot_null_a_required_field_or_set_key(client, auth):
    r = await create(client, auth)
    pid = r.json()["id"]
    pm = auth("product_manager", "pm1")
    for body in ({"name": None}, {"key": "NEWKEY"}, {"created_at": "2020-01-01T00:00:00Z"}):
        bad = await client.patch(f"/api/v1/products/{pid}", json=body, headers=pm)
        assert bad.status_code == 422, (body, bad.text)
    assert (await client.get(f"/api/v1/products/{pid}", headers=pm)).json()["version"] == 1


async def test_filter_sort_if_match_star_and_unknown_product(client, auth):
    pm = auth("product_manager", "pm1")
    a = (await create(client, auth, lifecycle_stage="retired")).json()
    b = (await create(client, auth, lifecycle_stage="retired")).json()
    r = await client.get("/api/v1/products?lifecycle_stage=retired&sort=-key&limit=200", headers=pm)
    keys = [p["key"] for p in r.json()["data"]]
    assert keys == sorted(keys, reverse=True) and {a["key"], b["key"]} <= set(keys)
    assert (
        await client.get("/api/v1/products?lifecycle_stage=alpha", headers=pm)
    ).status_code == 422
    star = await client.patch(
        f"/api/v1/products/{a['id']}", json={"name": "Renamed"}, headers={**pm, "If-Match": "*"}
    )
    assert star.status_code == 200 and star.json()["version"] == 2
    missing = await client.get("/api/v1/products/01900000-0000-7000-8000-000000000000", headers=pm)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_a_product_key_works_wherever_a_person_types_one(client, auth):
    """/products/SEPSIS and ?product_id=SEPSIS resolve the key once (app.products.params)."""
    from tests.api.factories import make_world

    w = await make_world(client, auth)
    story = await w.story()
    by_key = await client.get(f"/api/v1/products/{w.key}", headers=w.pm)
    assert by_key.status_code == 200 and by_key.json()["id"] == w.pid
    r = await client.patch(f"/api/v1/products/{w.key}", json={"name": "Renamed"}, headers=w.pm)
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    listed = await client.get("/api/v1/stories", params={"product_id": w.key}, headers=w.pm)
    assert [s["id"] for s in listed.json()["data"]] == [story["id"]]
    members = await client.get(f"/api/v1/products/{w.key}/members", headers=w.pm)
    assert members.status_code == 200 and members.json()["data"]
    # A key nobody has: 404 for the product, an empty list for a filter.
    assert (await client.get("/api/v1/products/NOSUCHKEY", headers=w.pm)).status_code == 404
    empty = await client.get("/api/v1/stories", params={"product_id": "NOSUCHKEY"}, headers=w.pm)
    assert empty.status_code == 200 and empty.json()["data"] == []
    # ... and on every other product path and filter: activity, search, CSV import and export.
    activity = await client.get(f"/api/v1/products/{w.key}/activity", headers=w.pm)
    assert activity.status_code == 200 and activity.json()["data"]
    found = await client.get(
        "/api/v1/search", params={"q": "x", "product_id": "NOSUCHKEY"}, headers=w.pm
    )
    assert found.status_code == 200 and found.json()["data"] == []
    exported = await client.get(
        "/api/v1/stories/export", params={"format": "json", "product_id": w.key}, headers=w.pm
    )
    assert [s["id"] for s in exported.json()["data"]] == [story["id"]]
    dry = await client.post(
        f"/api/v1/products/{w.key}/stories/import?dry_run=true",
        files={"file": ("s.csv", b"title\r\nFrom CSV\r\n", "text/csv")},
        headers=w.pm,
    )
    assert dry.status_code == 200 and dry.json()["created"] == 1, dry.text
    assert (await client.get("/api/v1/products/sepsis", headers=w.pm)).status_code == 422

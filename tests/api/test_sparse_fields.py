"""Sparse fieldsets (`?fields=`, app/api/fields.py): lists and single reads of every resource
answer only the named fields, in the resource's order, with the same values as the full
read; unknown names are a 400 that does not echo them; PHI views are unchanged; the ETag of
a sparse read is the weak form of the version's and If-Match accepts it."""

from __future__ import annotations

import orjson
import pytest

from app.api.fields import PARAM, SPARSE_JSON
from tests.api.factories import assert_problem, make_world
from tests.phi.test_views import QUOTE, phi_interview


def _subset(full: dict, names: list[str]) -> dict:
    return {k: v for k, v in full.items() if k in names}


async def _world_with_everything(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    story = await w.story(roadmap_item_id=item["id"], labels=["ui"], story_points=3)
    interview = await w.interview()
    insight = await w.insight(interview["id"])
    return w, {
        "products": w.product,
        "roadmap-items": item,
        "stories": story,
        "interviews": interview,
        "insights": insight,
    }


@pytest.mark.parametrize(
    ("resource", "names"),
    [
        ("products", ["id", "key", "name"]),
        ("roadmap-items", ["id", "title", "status"]),
        ("stories", ["id", "roadmap_item_id", "title", "status", "story_points", "created_at"]),
        ("stories", ["labels", "acceptance_criteria", "evidence_count"]),
        ("interviews", ["id", "title", "transcript", "redacted"]),
        ("insights", ["id", "title"]),
    ],
)
async def test_lists_and_reads_answer_only_the_named_fields(client, auth, resource, names):
    w, made = await _world_with_everything(client, auth)
    row = made[resource]
    full = (await client.get(f"/api/v1/{resource}/{row['id']}", headers=w.pm)).json()
    asked = ",".join(reversed(names))  # any order in; the resource's order out
    r = await client.get(f"/api/v1/{resource}/{row['id']}?{PARAM}={asked}", headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == SPARSE_JSON
    assert list(r.json()) == [k for k in full if k in names]
    assert r.json() == _subset(full, names)

    # Products: the newest first (other tests' products share the database).
    scope = "sort=-created_at&" if resource == "products" else f"product_id={w.pid}&"
    listed = await client.get(f"/api/v1/{resource}?{scope}{PARAM}={asked}", headers=w.pm)
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"] == SPARSE_JSON
    (item,) = [i for i in listed.json()["data"] if i.get("id", row["id"]) == row["id"]][:1]
    assert orjson.dumps(item) == orjson.dumps(_subset(full, names))


async def test_sparse_story_list_pages_like_the_full_one(client, auth):
    """Cursors and Link headers of a sparse list walk the same rows as the full list."""
    w = await make_world(client, auth)
    for n in range(5):
        await w.story(title=f"Story {n}")
    full, sparse = [], []
    for rows, extra in ((full, ""), (sparse, f"&{PARAM}=title")):
        url = f"/api/v1/stories?product_id={w.pid}&limit=2{extra}"
        while url:
            r = await client.get(url, headers=w.pm)
            assert r.status_code == 200, r.text
            rows.extend(r.json()["data"])
            cursor = r.json()["next_cursor"]
            url = (
                f"/api/v1/stories?product_id={w.pid}&limit=2{extra}&cursor={cursor}"
                if cursor
                else ""
            )
            if cursor:
                assert f"{PARAM}=title" in r.headers["link"] or not extra
    assert [{"title": s["title"]} for s in full] == sparse
    assert len(sparse) == 5


@pytest.mark.parametrize(
    "value", ["nope", "id,nope", "", "id,", "id,,title", "ID", "transcript_full", "x" * 200]
)
async def test_unknown_fields_are_a_400_that_does_not_echo_them(client, auth, value):
    w = await make_world(client, auth)
    for url in (f"/api/v1/stories?{PARAM}={value}", f"/api/v1/products/{w.pid}?{PARAM}={value}"):
        r = await client.get(url, headers=w.pm)
        body = assert_problem(r, 400)
        assert body["errors"][0]["loc"] == ["query", PARAM]
        assert "id, " in body["errors"][0]["msg"]  # names the allowed fields
        if value not in ("", "id,", "ID") and "id,," not in value:
            assert value not in r.text


async def test_fields_given_twice_is_refused(client, auth):
    w = await make_world(client, auth)
    r = await client.get(f"/api/v1/stories?{PARAM}=id&{PARAM}=title", headers=w.pm)
    assert r.status_code == 422, r.text


async def test_phi_stays_redacted_in_a_sparse_read(client, auth):
    """A field the caller may not see stays redacted: `fields` selects from the caller's
    view, it never reaches past it."""
    w = await make_world(client, auth)
    engineer = await w.member("engineer")
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    names = "transcript,participant_name,participant_contact,redacted"
    full = (await client.get(f"/api/v1/interviews/{interview['id']}", headers=engineer)).json()
    assert full["redacted"] is True
    sparse = await client.get(
        f"/api/v1/interviews/{interview['id']}?{PARAM}={names}", headers=engineer
    )
    assert sparse.json() == _subset(full, names.split(","))
    listed = await client.get(
        f"/api/v1/interviews?product_id={w.pid}&{PARAM}={names}", headers=engineer
    )
    assert listed.json()["data"] == [_subset(full, names.split(","))]
    q = await client.get(
        f"/api/v1/insights/{insight['id']}?{PARAM}=quote,redacted", headers=engineer
    )
    assert q.json()["redacted"] is True and q.json()["quote"] != QUOTE


async def test_sparse_read_etag_is_weak_and_if_match_accepts_it(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    url = f"/api/v1/stories/{story['id']}"
    full = await client.get(url, headers=w.pm)
    sparse = await client.get(f"{url}?{PARAM}=id,version", headers=w.pm)
    assert sparse.headers["etag"] == "W/" + full.headers["etag"]
    r = await client.patch(
        url, json={"title": "Renamed"}, headers={**w.pm, "If-Match": sparse.headers["etag"]}
    )
    assert r.status_code == 200, r.text
    stale = await client.patch(
        url, json={"title": "Again"}, headers={**w.pm, "If-Match": sparse.headers["etag"]}
    )
    assert stale.status_code == 412


async def test_openapi_publishes_fields_as_an_enum_array(client):
    doc = (await client.get("/openapi.json")).json()
    story_fields = list(doc["components"]["schemas"]["StoryOut"]["properties"])
    for path in ("/api/v1/stories", "/api/v1/stories/{story_ref}"):
        (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == PARAM]
        assert param["in"] == "query" and param["style"] == "form" and param["explode"] is False
        assert param["schema"]["type"] == "array"
        assert param["schema"]["items"]["enum"] == story_fields
    # A sparse answer is its own representation: every field optional, the page whole.
    ok = doc["paths"]["/api/v1/stories"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"]["$ref"].endswith("/StoryList")
    assert ok[SPARSE_JSON]["schema"]["$ref"].endswith("/StoryListFields")
    schemas = doc["components"]["schemas"]
    assert schemas["StoryListFields"]["required"] == ["data", "next_cursor"]
    assert schemas["StoryListFields"]["properties"]["data"]["items"]["$ref"].endswith(
        "/StoryOutFields"
    )
    assert "required" not in schemas["StoryOutFields"]
    assert schemas["StoryOutFields"]["properties"] == schemas["StoryOut"]["properties"]
    readers = [
        path
        for path, ops in doc["paths"].items()
        if "get" in ops and any(p["name"] == PARAM for p in ops["get"].get("parameters", []))
    ]
    assert len(readers) == 14, readers  # list + single read of the 7 resources

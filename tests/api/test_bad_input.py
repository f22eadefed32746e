"""Bad input on every write endpoint: problem+json, the right status, and nothing changed.
Ends with a fuzz-ish sweep: nasty JSON values in every field never produce a 5xx."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel

from app.insights.schemas import InsightCreate, InsightUpdate
from app.interviews.schemas import InterviewCreate, InterviewUpdate
from app.members.schemas import MemberAdd
from app.products.schemas import ProductCreate, ProductUpdate
from app.roadmap.schemas import RoadmapItemCreate, RoadmapItemUpdate
from app.stories.schemas import ClinicalReviewInput, StoryCreate, StoryUpdate
from tests.api.factories import PROBLEM, World, assert_problem, make_world, new_sub
from tests.conftest import unique_key

MIB = 1024 * 1024


async def _world(client, auth) -> tuple[World, dict[str, Any]]:
    w = await make_world(client, auth)
    clinician = await w.member("clinician")
    ids = {
        "item": (await w.roadmap_item(reach=1, impact=1, confidence=1, effort=1))["id"],
        "story": (await w.story(clinical_review_required=True))["id"],
        "interview": (await w.interview())["id"],
    }
    ids["insight"] = (await w.insight(ids["interview"]))["id"]
    return w, {"ids": ids, "clinician": clinician}


def endpoints(w: World, ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any], type]]:
    """(method, url, a valid body, its schema) for every JSON write endpoint."""
    return [
        ("POST", "/api/v1/products", {"key": unique_key("F"), "name": "n"}, ProductCreate),
        ("PATCH", f"/api/v1/products/{w.pid}", {"name": "n2"}, ProductUpdate),
        ("POST", "/api/v1/roadmap-items", {"product_id": w.pid, "title": "t"}, RoadmapItemCreate),
        ("PATCH", f"/api/v1/roadmap-items/{ids['item']}", {"title": "t2"}, RoadmapItemUpdate),
        ("POST", "/api/v1/stories", {"product_id": w.pid, "title": "t"}, StoryCreate),
        ("PATCH", f"/api/v1/stories/{ids['story']}", {"title": "t2"}, StoryUpdate),
        (
            "POST",
            f"/api/v1/stories/{ids['story']}/clinical-review",
            {"status": "changes_requested"},
            ClinicalReviewInput,
        ),
        (
            "POST",
            "/api/v1/interviews",
            {
                "product_id": w.pid,
                "title": "t",
                "conducted_on": "2025-01-02",
                "participant_persona": "nurse",
            },
            InterviewCreate,
        ),
        ("PATCH", f"/api/v1/interviews/{ids['interview']}", {"title": "t2"}, InterviewUpdate),
        (
            "POST",
            "/api/v1/insights",
            {"interview_id": ids["interview"], "title": "t"},
            InsightCreate,
        ),
        ("PATCH", f"/api/v1/insights/{ids['insight']}", {"title": "t2"}, InsightUpdate),
        ("POST", f"/api/v1/products/{w.pid}/members", {"subject": new_sub("m")}, MemberAdd),
    ]


async def snapshot(client, w: World) -> dict[str, Any]:
    """Everything the world's product holds, as the API shows it."""
    out: dict[str, Any] = {
        "product": (await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)).json()
    }
    for name in ("roadmap-items", "stories", "interviews", "insights"):
        r = await client.get(
            f"/api/v1/{name}?product_id={w.pid}&include_archived=true&limit=200", headers=w.pm
        )
        assert r.status_code == 200, r.text
        out[name] = r.json()["data"]
    out["members"] = (await client.get(f"/api/v1/products/{w.pid}/members", headers=w.pm)).json()
    return out


async def _product_ids(client, w: World) -> set[str]:
    r = await client.get("/api/v1/products?limit=200&sort=-created_at", headers=w.pm)
    return {p["id"] for p in r.json()["data"]}


def _headers(w: World, extra: dict[str, Any], url: str, content_type: str | None = None):
    h = dict(extra["clinician"] if url.endswith("/clinical-review") else w.pm)
    if content_type:
        h["content-type"] = content_type
    return h


async def test_every_kind_of_bad_body_is_refused_and_changes_nothing(client, auth):
    w, extra = await _world(client, auth)
    before = await snapshot(client, w)
    products_before = await _product_ids(client, w)
    for method, url, valid, _schema in endpoints(w, extra["ids"]):
        h = _headers(w, extra, url, "application/json")

        async def send(content: Any, headers=h, method=method, url=url) -> Any:
            return await client.request(method, url, content=content, headers=headers)

        where = f"{method} {url}"
        for raw in (b'{"title": ', b"{'title': 'x'}", b"not json", b'{"a": 1,}', b"\xff\xfe"):
            body = assert_problem(await send(raw), 400)
            assert "JSON" in body["detail"] or "pars" in body["detail"], where
        for raw in (b"[]", b'"text"', b"42", b"null", b""):
            assert_problem(await send(raw), 422)
        r = await send(json.dumps({**valid, "unknown_field": 1}).encode())
        body = assert_problem(r, 422)
        assert any(e["loc"][-1] == "unknown_field" for e in body["errors"]), where
        # Too large, announced by Content-Length ...
        big = json.dumps({**valid, "title": "x" * (MIB + 10)}).encode()
        assert_problem(await send(big), 413)

        # ... and streamed in chunks without it.
        async def chunks():
            yield b'{"title": "'
            for _ in range(12):
                yield b"x" * 100_000
            yield b'"}'

        assert_problem(await send(chunks()), 413)
        # A JSON body sent as another media type.
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            r = await client.request(
                method,
                url,
                content=json.dumps(valid).encode(),
                headers=_headers(w, extra, url, ctype),
            )
            assert_problem(r, 415)
    assert await snapshot(client, w) == before
    assert await _product_ids(client, w) == products_before


async def test_json_suffix_media_types_are_accepted(client, auth):
    w = await make_world(client, auth)
    for ctype in ("application/json; charset=utf-8", "application/merge-patch+json"):
        r = await client.patch(
            f"/api/v1/products/{w.pid}",
            content=json.dumps({"description": ctype}).encode(),
            headers={**w.pm, "content-type": ctype},
        )
        assert r.status_code == 200, (ctype, r.text)


async def test_body_just_under_the_limit_is_accepted(client, auth):
    w = await make_world(client, auth)
    padding = " " * (MIB - 200)
    raw = ('{"description": "fits"' + padding + "}").encode()
    assert len(raw) <= MIB
    r = await client.patch(
        f"/api/v1/products/{w.pid}",
        content=raw,
        headers={**w.pm, "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text


async def test_nul_in_query_is_400(client, auth):
    w = await make_world(client, auth)
    for url in ("/api/v1/stories?sprint=a%00b", "/api/v1/products?sort=key%00"):
        assert_problem(await client.get(url, headers=w.pm), 400)


async def test_nul_in_path_is_400(client, auth):
    w = await make_world(client, auth)
    assert_problem(await client.get(f"/api/v1/stories/{w.key}%00-1", headers=w.pm), 400)


async def test_nul_and_lone_surrogates_in_bodies_are_422(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    url = f"/api/v1/stories/{story['id']}"
    for raw in (
        b'{"title": "a\\u0000b"}',
        b'{"labels": ["ok", "a\\u0000"]}',
        b'{"acceptance_criteria": [{"given": "\\u0000", "when": "w", "then": "t"}]}',
        b'{"title": "\\ud800"}',
    ):
        r = await client.patch(
            url, content=raw, headers={**w.pm, "content-type": "application/json"}
        )
        assert_problem(r, 422)
    assert (await client.get(url, headers=w.pm)).json() == story


# Each value is sent in every field of every write endpoint; RAW values are spliced into
# the JSON text as is (they are not valid Python-serialisable JSON).
RAW = {"__1e309__": "1e309", "__nan__": "NaN", "__lone__": '"\\ud800"'}
NASTY: list[Any] = [
    None,
    True,
    -1,
    2**63,
    "__1e309__",
    "__nan__",
    "",
    "x" * 5000,
    "ü😀\u202e'; DROP TABLE story; --",
    "__lone__",
    "a\u0000b",
    [None, {}],
    {"$gt": ""},
]


def _nested(depth: int) -> Any:
    v: Any = "deep"
    for _ in range(depth):
        v = {"a": [v]}
    return v


NASTY.append(_nested(200))


def _encode(body: dict[str, Any]) -> bytes:
    text = json.dumps(body)
    for token, raw in RAW.items():
        text = text.replace(f'"{token}"', raw)
    return text.encode()


def _fields(schema: type[BaseModel]) -> list[str]:
    return list(schema.model_fields)


async def test_no_500_from_any_field_value(client, auth):
    w, extra = await _world(client, auth)
    failures: list[str] = []
    for method, url, valid, schema in endpoints(w, extra["ids"]):
        h = _headers(w, extra, url, "application/json")
        for field in _fields(schema):
            for value in NASTY:
                body = {**valid, field: value}
                if "key" in valid and field != "key":
                    body["key"] = unique_key("F")
                if "subject" in valid and field != "subject":
                    body["subject"] = new_sub("m")
                r = await client.request(method, url, content=_encode(body), headers=h)
                ok = r.status_code < 500 and (
                    r.status_code < 400 or r.headers.get("content-type") == PROBLEM
                )
                if not ok:
                    failures.append(
                        f"{method} {url} {field}={str(value)[:40]!r} -> {r.status_code}"
                    )
    assert not failures, "\n".join(failures[:50])
    assert (await client.get("/health/ready")).status_code == 200


QUERY_NASTY = [
    "",
    " ",
    "null",
    "-1",
    "1e309",
    "NaN",
    "ü😀",
    "x" * 3000,
    "%",
    "'; --",
    "[]",
    "01900000-0000-7000-8000-000000000000",
    str(uuid.UUID(int=0)),
]


async def test_no_500_from_any_query_value(client, auth):
    w = await make_world(client, auth)
    lists = {
        "/api/v1/products": ["lifecycle_stage", "sort", "cursor", "limit", "include_archived"],
        "/api/v1/roadmap-items": ["product_id", "status", "horizon", "sort", "cursor", "limit"],
        "/api/v1/stories": ["product_id", "roadmap_item_id", "status", "sprint", "sort", "cursor"],
        "/api/v1/interviews": ["product_id", "sort", "cursor", "include_archived"],
        "/api/v1/insights": ["product_id", "interview_id", "sort", "cursor", "limit"],
    }
    failures = []
    for url, params in lists.items():
        for param in params:
            for value in QUERY_NASTY:
                r = await client.get(url, params={param: value}, headers=w.pm)
                if r.status_code >= 500 or (
                    r.status_code >= 400 and r.headers["content-type"] != PROBLEM
                ):
                    failures.append(f"{url}?{param}={value[:30]!r} -> {r.status_code}")
    for ref in (
        "x" * 64,
        "ü😀",
        "%25",
        "..",
        "-1",
        "A-",
        "-",
        "01900000-0000-7000-8000-00000000000Z",
    ):
        r = await client.get(f"/api/v1/stories/{ref}", headers=w.pm)
        if r.status_code >= 500:
            failures.append(f"/stories/{ref} -> {r.status_code}")
    assert not failures, "\n".join(failures)

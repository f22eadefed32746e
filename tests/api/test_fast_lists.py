"""The hot-path shortcuts keep behaviour: lists encoded straight from rows equal what pydantic
renders for the same resource, and verified tokens are cached only while they are valid."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel, TypeAdapter, computed_field, field_validator

from app.api.fastjson import encoder_for
from app.api.responses import dump_list
from app.auth.principal import Principal, Role
from app.auth.tokens import TokenVerifier, VerifiedCache
from app.core.errors import Unauthenticated
from app.stories.schemas import StoryOut
from tests.api.factories import make_world, new_sub


async def test_story_list_items_equal_single_gets(client, auth):
    """List items (rows → orjson) are byte-for-byte what GET /stories/{id} (pydantic) says,
    for plain stories, pending reviews and reviewed ones (a timestamp inside the JSON)."""
    w = await make_world(client, auth)
    clin_sub = new_sub("clin")
    clinician = await w.member("clinician", clin_sub)
    criteria = [
        {"given": "a flagged patient", "when": "the nurse opens the banner", "then": "a trend"},
        {"id": "AC-9", "given": "no score", "when": "it renders", "then": "a dash", "met": True},
    ]
    plain = await w.story(labels=["ui"], acceptance_criteria=criteria, story_points=3)
    pending = await w.story(clinical_review_required=True, sprint="2026-S4")
    reviewed = await w.story(clinical_review_required=True, description="Needs sign-off.")
    r = await client.post(
        f"/api/v1/stories/{reviewed['id']}/clinical-review",
        json={"status": "changes_requested", "comment": "Cite the threshold."},
        headers=clinician,
    )
    assert r.status_code == 200, r.text
    assert r.json()["clinical_review"]["reviewed_at"].endswith("Z")

    listed = await client.get(f"/api/v1/stories?product_id={w.pid}&limit=10", headers=w.pm)
    assert listed.status_code == 200
    items = listed.json()["data"]
    assert [i["id"] for i in items] == [plain["id"], pending["id"], reviewed["id"]]
    for item in items:
        one = await client.get(f"/api/v1/stories/{item['id']}", headers=w.pm)
        assert item == one.json()
        # Same text, not only the same values: key order and number/timestamp formats.
        assert orjson.dumps(item) == orjson.dumps(orjson.loads(one.content))
    assert items[0]["acceptance_criteria"][0]["id"] == "AC-1"
    assert items[2]["clinical_review"]["comment"] == "Cite the threshold."


async def test_cached_list_statement_takes_each_requests_filters_and_limit(client, auth):
    """The story list's SELECT is built once per filter shape and reused with bound values:
    two products, statuses, sprints and limits through the same shapes see their own rows."""
    a = await make_world(client, auth)
    b = await make_world(client, auth)
    a1 = await a.story(sprint="2026-S1")
    a2 = await a.story(sprint="2026-S2")
    b1 = await b.story(sprint="2026-S1")
    b2 = await b.story(sprint="2026-S1")

    async def ids(w, query: str) -> list[str]:
        r = await client.get(f"/api/v1/stories?product_id={w.pid}{query}", headers=w.pm)
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["data"]]

    for _ in range(2):
        assert await ids(a, "") == [a1["id"], a2["id"]]
        assert await ids(b, "") == [b1["id"], b2["id"]]
        assert await ids(a, "&sprint=2026-S2") == [a2["id"]]
        assert await ids(b, "&sprint=2026-S2") == []
        assert await ids(b, "&sprint=2026-S1&limit=1") == [b1["id"]]
        assert await ids(b, "&sprint=2026-S1&limit=2") == [b1["id"], b2["id"]]
        assert await ids(a, "&status=done") == []
        assert await ids(a, "&status=backlog&sort=-created_at") == [a2["id"], a1["id"]]
    # A page after a cursor is built per request, beside the cached first page.
    first = (await client.get(f"/api/v1/stories?product_id={b.pid}&limit=1", headers=b.pm)).json()
    assert [s["id"] for s in first["data"]] == [b1["id"]]
    url = f"/api/v1/stories?product_id={b.pid}&limit=1&cursor={first['next_cursor']}"
    assert [s["id"] for s in (await client.get(url, headers=b.pm)).json()["data"]] == [b2["id"]]


class _Criterion(BaseModel):
    id: str
    given: str
    met: bool


class _Review(BaseModel):
    status: str
    reviewed_at: datetime | None = None


class _Out(BaseModel):
    id: uuid.UUID
    at: datetime
    tags: list[str]
    criteria: list[_Criterion]
    review: _Review | None


def _pydantic(items: list, out: type[BaseModel]) -> bytes:
    adapter = TypeAdapter(list[out])
    return adapter.dump_json(adapter.validate_python(items, from_attributes=True))


def test_encoder_matches_pydantic_on_stored_json_of_any_shape():
    """Stored nested JSON that is not already in output form (extra keys, another key order,
    a timestamp as text) goes through pydantic, so the bytes still match."""
    at = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "at": at,
            "tags": ["a"],
            "criteria": [{"id": "AC-1", "given": "g", "met": False}],
            "review": None,
        },
        {
            "id": uuid.uuid4(),
            "at": at.replace(microsecond=0),
            "tags": [],
            "criteria": [{"given": "g", "id": "AC-2", "met": True, "legacy": 1}],
            "review": {"status": "approved", "reviewed_at": "2026-01-02T03:04:05+00:00"},
        },
        {"id": uuid.uuid4(), "at": at, "tags": [], "criteria": [], "review": {"status": "x"}},
    ]

    class Obj:
        def __init__(self, d):
            self.__dict__.update(d)

    objs = [Obj(r) for r in rows]
    assert encoder_for(_Out) is not None
    assert dump_list(objs, _Out) == _pydantic(objs, _Out)
    assert encoder_for(StoryOut) is not None


def test_models_with_custom_serialization_are_left_to_pydantic():
    class Validated(BaseModel):
        a: str
        b: int

        @field_validator("a")
        @classmethod
        def _upper(cls, v: str) -> str:
            return v.upper()

    class Computed(BaseModel):
        a: str
        b: int

        @computed_field
        @property
        def c(self) -> int:
            return self.b * 2

    class Odd(BaseModel):
        a: str
        b: complex

    for model in (Validated, Computed, Odd):
        assert encoder_for(model) is None
    rows = [Validated(a="x", b=1)]
    assert dump_list([{"a": "x", "b": 1}], Validated) == _pydantic(rows, Validated)
    assert orjson.loads(dump_list([Computed(a="x", b=2)], Computed)) == [{"a": "x", "b": 2, "c": 4}]


def test_verified_cache_expires_and_is_bounded():
    cache = VerifiedCache(max_entries=2)
    p = Principal(sub="s", type="user", role=Role.engineer)
    cache.put("t1", p, time.time() + 60)
    cache.put("t2", p, time.time() - 1)
    assert cache.get("t1") is p
    assert cache.get("t2") is None  # expired: verified again, which then fails
    cache.put("t3", p, time.time() + 60)
    cache.put("t4", p, time.time() + 60)
    assert cache.get("t1") is None and cache.get("t4") is p  # least recently used evicted


async def test_cached_token_does_not_let_a_tampered_copy_in(settings, token):
    verifier = TokenVerifier(settings)
    good = token(new_sub("eng"), "engineer")
    first = await verifier.verify(good)
    assert await verifier.verify(good) is first  # served from the cache
    head, claims, sig = good.split(".")
    forged = ".".join((head, claims, sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")))
    try:
        await verifier.verify(forged)
    except Unauthenticated:
        pass
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a token with a broken signature was accepted")

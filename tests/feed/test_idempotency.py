"""Idempotency-Key on REST POSTs: replay, 422 on another body, 409 in flight, per principal,
failures release the key, and a purge erases stored PHI-bearing responses."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.feed.models import IdempotencyKey
from app.stories.models import Story
from tests.api.factories import assert_problem, make_world, new_sub
from tests.feed.helpers import events_for

pytestmark = pytest.mark.asyncio


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4()}"}


async def stories_titled(app, product_id: str, title: str) -> int:
    async with app.state.sessionmaker() as s:
        return await s.scalar(
            select(func.count())
            .select_from(Story)
            .where(Story.product_id == uuid.UUID(product_id), Story.title == title)
        )


async def test_double_post_replays_first_response(app, client, auth):
    w = await make_world(client, auth)
    headers = {**w.pm, **key()}
    body = {"product_id": w.pid, "title": "Retry-safe story"}
    first = await client.post("/api/v1/stories", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = await client.post("/api/v1/stories", json=body, headers=headers)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert await stories_titled(app, w.pid, "Retry-safe story") == 1
    assert [e["type"] for e in await events_for(app, first.json()["id"])] == ["story.created"]
    # a webhook subscription's Location is replayed too
    hook = {"url": "https://192.88.99.7/hook", "product_id": w.pid}
    h2 = {**w.pm, **key()}
    a = await client.post("/api/v1/webhooks", json=hook, headers=h2)
    b = await client.post("/api/v1/webhooks", json=hook, headers=h2)
    assert a.status_code == b.status_code == 201
    assert b.headers["location"] == a.headers["location"] and b.content == a.content


async def test_same_key_other_body_is_422(client, auth):
    w = await make_world(client, auth)
    headers = {**w.pm, **key()}
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "A"}, headers=headers
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "B"}, headers=headers
    )
    assert_problem(r, 422)
    assert "B" not in r.json()["detail"]
    # another endpoint with the same key is another request too
    r = await client.post(
        "/api/v1/roadmap-items", json={"product_id": w.pid, "title": "A"}, headers=headers
    )
    assert_problem(r, 422)


async def test_parallel_duplicates_create_one_row(app, client, auth):
    w = await make_world(client, auth)
    headers = {**w.pm, **key()}
    body = {"product_id": w.pid, "title": "Parallel story"}
    results = await asyncio.gather(
        *[client.post("/api/v1/stories", json=body, headers=headers) for _ in range(4)]
    )
    statuses = sorted(r.status_code for r in results)
    created = [
        r for r in results if r.status_code == 201 and "idempotent-replayed" not in r.headers
    ]
    assert len(created) == 1, statuses
    for r in results:
        if r.status_code == 409:
            assert_problem(r, 409)
            assert r.headers["retry-after"] == "1"
        else:
            assert r.status_code == 201 and r.json()["id"] == created[0].json()["id"]
    assert await stories_titled(app, w.pid, "Parallel story") == 1


async def test_key_is_per_principal_and_failures_release_it(app, client, auth):
    w = await make_world(client, auth)
    k = key()
    bad = await client.post("/api/v1/stories", json={"product_id": w.pid}, headers={**w.pm, **k})
    assert_problem(bad, 422)  # nothing changed: the key is free again
    ok = await client.post(
        "/api/v1/stories", json={"product_id": w.pid, "title": "After a 422"}, headers={**w.pm, **k}
    )
    assert ok.status_code == 201 and "idempotent-replayed" not in ok.headers
    engineer = await w.member("engineer")
    other = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": "After a 422"},
        headers={**engineer, **k},
    )
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert other.json()["id"] != ok.json()["id"]
    r = await client.post(
        "/api/v1/stories",
        json={"product_id": w.pid, "title": "x"},
        headers={**w.pm, "Idempotency-Key": "bad\x01key"},
    )
    assert_problem(r, 400)


async def test_purge_erases_stored_phi_response(app, client, auth):
    w = await make_world(client, auth)
    name = "Philippa Quarterman-Oduya"
    k = key()
    r = await client.post(
        "/api/v1/interviews",
        json={
            "product_id": w.pid,
            "title": "Walkthrough",
            "conducted_on": "2025-02-03",
            "participant_persona": "nurse",
            "participant_name": name,
        },
        headers={**w.pm, **k},
    )
    assert r.status_code == 201 and r.json()["participant_name"] == name
    async with app.state.sessionmaker() as s:
        row = await s.scalar(
            select(IdempotencyKey).where(IdempotencyKey.key == k["Idempotency-Key"])
        )
        assert row is not None and row.phi is True
        raw = await s.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.key == k["Idempotency-Key"])
        )
        assert raw == 1
    r = await client.patch(
        f"/api/v1/interviews/{r.json()['id']}", json={"consent_status": "withdrawn"}, headers=w.pm
    )
    interview_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/interviews/{interview_id}/purge",
        headers=auth("compliance_officer", new_sub("co")),
    )
    assert r.status_code == 200, r.text
    async with app.state.sessionmaker() as s:
        gone = await s.scalar(
            select(IdempotencyKey).where(IdempotencyKey.key == k["Idempotency-Key"])
        )
    assert gone is None

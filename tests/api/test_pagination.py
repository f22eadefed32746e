"""Cursor pagination across resources: every page walked, no duplicates or gaps, several
sort orders (nullable columns and ties included), Link headers, limits, tampered cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.api.factories import World, assert_problem, make_world, walk


def _sort_key(field: str, descending: bool):
    """The order the API promises: value (NULLs last in both directions), then id."""

    def key(row: dict[str, Any]):
        v = row[field]
        return (v is None, v if v is not None else 0, row["id"])

    def check(rows: list[dict[str, Any]]) -> None:
        present = [r for r in rows if r[field] is not None]
        nulls = [r for r in rows if r[field] is None]
        assert rows == present + nulls, "NULLs come last"
        expected = sorted(present, key=lambda r: (r[field], r["id"]), reverse=descending)
        assert present == expected
        assert nulls == sorted(nulls, key=lambda r: r["id"], reverse=descending)

    return key, check


async def assert_walks(client, w: World, base: str, sorts: list[str], n: int, sortable=()):
    """For each sort: walking pages of 1..4 rows equals the one-page list; no dup, no gap."""
    for sort in sorts:
        q = f"{base}&sort={sort}" if sort else base
        whole = await client.get(f"{q}&limit=200", headers=w.pm)
        assert whole.status_code == 200, whole.text
        assert whole.json()["next_cursor"] is None and "link" not in whole.headers
        expected = [r["id"] for r in whole.json()["data"]]
        assert len(expected) == n == len(set(expected)), sort
        for limit in (1, 3, 4):
            rows = await walk(client, f"{q}&limit={limit}", w.pm)
            ids = [r["id"] for r in rows]
            assert ids == expected, (sort, limit)
        field = sort.lstrip("-")
        if field in sortable:
            _, check = _sort_key(field, sort.startswith("-"))
            check(whole.json()["data"])


async def test_roadmap_items_walk(client, auth):
    w = await make_world(client, auth)
    specs = [
        {"reach": 10, "impact": 1, "confidence": 1, "effort": 1, "target_quarter": "2026-Q1"},
        {"reach": 10, "impact": 1, "confidence": 1, "effort": 1},  # tie on rice_score
        {"reach": 10, "impact": 1, "confidence": 1, "effort": 1, "target_quarter": "2026-Q1"},
        {"reach": 5, "impact": 2, "confidence": 0.5, "effort": 2, "target_quarter": "2025-Q4"},
        {},
        {"reach": 1},
        {"reach": 100, "impact": 3, "confidence": 0.9, "effort": 3, "status": "planned"},
        {"title": "alpha"},
        {"title": "alpha", "horizon": "now"},
        {"reach": 0, "impact": 1, "confidence": 1, "effort": 1, "status": "cancelled"},
        {},
    ]
    for s in specs:
        await w.roadmap_item(**{"title": "bravo", **s})
    base = f"/api/v1/roadmap-items?product_id={w.pid}"
    await assert_walks(
        client,
        w,
        base,
        [
            "",
            "-rice_score",
            "rice_score",
            "title",
            "-title",
            "-target_quarter",
            "status",
            "-created_at",
            "updated_at",
            "horizon",
        ],
        len(specs),
        sortable={"rice_score", "target_quarter"},
    )
    # Filters compose with pagination.
    rows = await walk(client, f"{base}&status=proposed&limit=2&sort=-rice_score", w.pm)
    assert len(rows) == 9 and all(r["status"] == "proposed" for r in rows)


async def test_stories_walk_and_include_archived(client, auth):
    w = await make_world(client, auth)
    points = [3, None, 5, 3, None, 8, 3, 0, None, 13, 21, 1]
    stories = [await w.story(story_points=p, title=f"s{i % 4}") for i, p in enumerate(points)]
    base = f"/api/v1/stories?product_id={w.pid}"
    await assert_walks(
        client,
        w,
        base,
        [
            "",
            "-rank",
            "story_points",
            "-story_points",
            "title",
            "-title",
            "key",
            "status",
            "-updated_at",
            "number",
        ],
        len(points),
        sortable={"story_points", "rank"},
    )
    for s in stories[::3]:
        r = await client.delete(f"/api/v1/stories/{s['id']}", headers=w.pm)
        assert r.status_code == 200
    live = await walk(client, f"{base}&limit=2&sort=-story_points", w.pm)
    assert len(live) == len(points) - 4
    assert not {s["id"] for s in stories[::3]} & {r["id"] for r in live}
    everything = await walk(
        client, f"{base}&limit=2&sort=-story_points&include_archived=true", w.pm
    )
    assert sorted(r["id"] for r in everything) == sorted(s["id"] for s in stories)


async def test_interviews_and_insights_walk(client, auth):
    w = await make_world(client, auth)
    dates = [
        "2025-01-01",
        "2025-01-01",
        "2024-06-30",
        "2025-03-15",
        "2025-01-01",
        "2023-12-31",
        "2025-03-15",
    ]
    interviews = [await w.interview(conducted_on=d, title=f"i{k % 3}") for k, d in enumerate(dates)]
    await assert_walks(
        client,
        w,
        f"/api/v1/interviews?product_id={w.pid}",
        ["", "conducted_on", "-conducted_on", "title", "-created_at"],
        len(dates),
        sortable={"conducted_on"},
    )
    severities = [3, 5, 1, 3, 3, 2, 5, 4]
    for k, sev in enumerate(severities):
        await w.insight(interviews[k % 3]["id"], severity=sev, title=f"n{k % 2}")
    await assert_walks(
        client,
        w,
        f"/api/v1/insights?product_id={w.pid}",
        ["", "severity", "-severity", "title", "-updated_at", "created_at"],
        len(severities),
        sortable={"severity"},
    )
    rows = await walk(client, f"/api/v1/insights?interview_id={interviews[0]['id']}&limit=1", w.pm)
    assert len(rows) == 3


async def test_products_walk_has_no_duplicates(client, auth):
    made = [await make_world(client, auth) for _ in range(3)]
    pm = made[0].pm
    for sort in ("", "-created_at", "name"):
        q = f"/api/v1/products?limit=7&sort={sort}" if sort else "/api/v1/products?limit=7"
        rows = await walk(client, q, pm)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids))
        assert {m.pid for m in made} <= set(ids)


def _cursor(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_limit_bounds_and_bad_sort(client, auth):
    w = await make_world(client, auth)
    await w.story()
    for url in (
        "/api/v1/stories",
        "/api/v1/roadmap-items",
        "/api/v1/insights",
        "/api/v1/interviews",
        "/api/v1/products",
    ):
        for limit in ("0", "201", "-1", "abc", "1.5"):
            assert_problem(await client.get(f"{url}?limit={limit}", headers=w.pm), 422)
        for sort in ("nope", "-nope", "--created_at", "created_at,title", "id;drop"):
            body = assert_problem(await client.get(f"{url}?sort={sort}", headers=w.pm), 422)
            assert body["errors"][0]["loc"] == ["query", "sort"]
        assert_problem(await client.get(f"{url}?include_archived=perhaps", headers=w.pm), 422)
        for limit in ("1", "200"):
            r = await client.get(f"{url}?limit={limit}", headers=w.pm)
            assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor(b"not json"),
        _cursor(b"[]"),
        _cursor({"s": "-rice_score"}),
        _cursor({"s": "title", "v": "x", "i": "00000000-0000-0000-0000-000000000000"}),
        _cursor({"s": "-rice_score", "v": 1.0, "i": "not-a-uuid"}),
        _cursor({"s": "-rice_score", "v": [1, 2], "i": "00000000-0000-0000-0000-000000000000"}),
        _cursor({"s": "-rice_score", "v": "high", "i": "00000000-0000-0000-0000-000000000000"}),
        _cursor({"s": "-rice_score", "v": True, "i": "00000000-0000-0000-0000-000000000000"}),
        _cursor(
            {
                "s": "-rice_score",
                "v": {"t": "zz", "v": 1},
                "i": "00000000-0000-0000-0000-000000000000",
            }
        ),
        "A" * 2049,
    ],
)
async def test_tampered_cursor_is_422(client, auth, cursor):
    w = await make_world(client, auth)
    r = await client.get(
        "/api/v1/roadmap-items", params={"sort": "-rice_score", "cursor": cursor}, headers=w.pm
    )
    assert_problem(r, 422)


@pytest.mark.parametrize(
    ("url", "sort", "value"),
    [
        ("/api/v1/roadmap-items", "created_at", "yesterday"),
        ("/api/v1/roadmap-items", "created_at", {"t": "dt", "v": "2025-01-01T00:00:00"}),
        ("/api/v1/roadmap-items", "created_at", {"t": "dt", "v": 5}),
        ("/api/v1/roadmap-items", "created_at", 17),
        ("/api/v1/stories", "story_points", "three"),
        ("/api/v1/stories", "story_points", 2**40),
        ("/api/v1/stories", "story_points", 1.5),
        ("/api/v1/stories", "title", 5),
        ("/api/v1/stories", "title", "a\u0000b"),
        ("/api/v1/interviews", "-conducted_on", {"t": "dt", "v": "2025-01-01T00:00:00+00:00"}),
        ("/api/v1/interviews", "-conducted_on", "2025-01-01"),
        ("/api/v1/insights", "severity", {"t": "u", "v": "00000000-0000-0000-0000-000000000000"}),
    ],
)
async def test_cursor_value_of_the_wrong_type_is_422(client, auth, url, sort, value):
    w = await make_world(client, auth)
    cursor = _cursor({"s": sort, "v": value, "i": "00000000-0000-0000-0000-000000000000"})
    r = await client.get(url, params={"sort": sort, "cursor": cursor}, headers=w.pm)
    assert_problem(r, 422)


async def test_cursor_of_another_sort_is_422(client, auth):
    w = await make_world(client, auth)
    for _ in range(3):
        await w.roadmap_item()
    first = await client.get(
        f"/api/v1/roadmap-items?product_id={w.pid}&limit=1&sort=title", headers=w.pm
    )
    cursor = first.json()["next_cursor"]
    assert cursor
    r = await client.get(
        "/api/v1/roadmap-items", params={"sort": "-title", "cursor": cursor}, headers=w.pm
    )
    assert_problem(r, 422)

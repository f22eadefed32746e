"""Async factories over real HTTP: every row a test needs is created through the API.

Tests share one database per session, so each factory makes its own product (unique key)
and a subject of its own unless told otherwise; assertions look at the test's own rows only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import unique_key

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    """`r` is an RFC 9457 problem document with that status; returns its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM, r.headers.get("content-type")
    body = r.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and "detail" in body
    assert "Traceback" not in r.text
    return body


def error_locs(r: httpx.Response) -> list[list[str]]:
    return [e["loc"] for e in r.json().get("errors", [])]


def new_sub(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class World:
    """One product with its manager (a member) and helpers to make rows in it."""

    client: httpx.AsyncClient
    auth: Callable[..., dict[str, str]]
    product: dict[str, Any]
    pm_sub: str

    @property
    def pid(self) -> str:
        return self.product["id"]

    @property
    def key(self) -> str:
        return self.product["key"]

    @property
    def pm(self) -> dict[str, str]:
        return self.auth("product_manager", self.pm_sub)

    async def member(self, role: str, sub: str | None = None) -> dict[str, str]:
        """Headers of a new person of `role` who is a member of this product."""
        sub = sub or new_sub(role)
        r = await self.client.post(
            f"/api/v1/products/{self.pid}/members", json={"subject": sub}, headers=self.pm
        )
        assert r.status_code == 201, r.text
        return self.auth(role, sub)

    async def roadmap_item(self, **over: Any) -> dict[str, Any]:
        body = {"product_id": self.pid, "title": "Alert fatigue triage", **over}
        r = await self.client.post("/api/v1/roadmap-items", json=body, headers=self.pm)
        assert r.status_code == 201, r.text
        return r.json()

    async def story(self, **over: Any) -> dict[str, Any]:
        body = {"product_id": self.pid, "title": "Show the sepsis score", **over}
        r = await self.client.post("/api/v1/stories", json=body, headers=self.pm)
        assert r.status_code == 201, r.text
        return r.json()

    async def interview(self, **over: Any) -> dict[str, Any]:
        body = {
            "product_id": self.pid,
            "title": "ICU nurse walkthrough",
            "conducted_on": "2025-03-04",
            "participant_persona": "nurse",
            **over,
        }
        r = await self.client.post("/api/v1/interviews", json=body, headers=self.pm)
        assert r.status_code == 201, r.text
        return r.json()

    async def insight(self, interview_id: str | None = None, **over: Any) -> dict[str, Any]:
        if interview_id is None:
            interview_id = (await self.interview())["id"]
        body = {"interview_id": interview_id, "title": "Alerts arrive too late", **over}
        r = await self.client.post("/api/v1/insights", json=body, headers=self.pm)
        assert r.status_code == 201, r.text
        return r.json()


async def make_world(client: httpx.AsyncClient, auth, **product: Any) -> World:
    pm_sub = new_sub("pm")
    body = {"key": unique_key("W"), "name": "Sepsis early warning", **product}
    r = await client.post("/api/v1/products", json=body, headers=auth("product_manager", pm_sub))
    assert r.status_code == 201, r.text
    return World(client=client, auth=auth, product=r.json(), pm_sub=pm_sub)


async def walk(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[dict]:
    """Every row of a list by following next_cursor; checks the Link header on the way."""
    rows: list[dict] = []
    next_url: str | None = url
    pages = 0
    while next_url:
        r = await client.get(next_url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        rows.extend(body["data"])
        pages += 1
        assert pages < 500, "pagination does not terminate"
        if body["next_cursor"]:
            link = r.headers["link"]
            assert link.endswith('>; rel="next"'), link
            target = httpx.URL(link[1 : link.index(">")])
            assert target.params["cursor"] == body["next_cursor"]
            next_url = target.raw_path.decode()
        else:
            assert "link" not in r.headers
            next_url = None
    return rows

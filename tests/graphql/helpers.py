"""Small helpers shared by the GraphQL tests."""

from __future__ import annotations

from typing import Any


async def gql(
    client, query: str, variables: dict[str, Any] | None = None, headers=None, **kw
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    body.update(kw)
    r = await client.post("/graphql", json=body, headers=headers or {})
    return r.status_code, r.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]

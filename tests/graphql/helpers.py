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


GRAPHQL_RESPONSE = "application/graphql-response+json"


async def gql_strict(
    client, query: str, variables: dict[str, Any] | None = None, headers=None, **kw
) -> tuple[int, dict[str, Any]]:
    """`gql` asking for application/graphql-response+json, so an operation that failed as a
    whole answers with the status REST would give (application/json answers 200 + errors)."""
    return await gql(
        client, query, variables, {**(headers or {}), "Accept": GRAPHQL_RESPONSE}, **kw
    )

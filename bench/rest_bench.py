"""REST list scenarios of issue #17, and the two-worker run of the GraphQL page.

- `stories-fields`: the 6-field REST list a client sends,
  `GET /api/v1/stories?product_id=…&limit=50&fields=id,roadmap_item_id,title,status,
  story_points,created_at` (Rounds, auth + audit on), against PostGraphile 5's
  `allStories(first: 50)` over the same product, the same order (rank, id), the same fields
  and the same rows; target ≥ 1.0×. The product is the GraphQL page's (`RMAP`, 200 stories,
  none archived: PostGraphile's conditions cover indexed columns only, so it could not leave
  archived ones out as Rounds does). Beside them the
  full-row list of the same product and the raw asyncpg baseline returning the same rows
  (`bench/baseline_app.py`, product filter): target ≥ 0.6×.
- `workers`: the GraphQL roadmap page (`bench/graphql_bench.py`'s document) on one uvicorn
  worker and on two; target two ≥ 1.6× one. The report's CPU is the whole process tree's, and
  each load records every worker's RSS after it ran (target ≤ 200 MB a worker).

`python bench/run.py --only stories-fields,workers`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bench.scenarios import (
    BenchEnv,
    Check,
    Load,
    Scenario,
    app_server,
    baseline_server,
    scenario,
)

SIX_FIELDS = ("id", "roadmap_item_id", "title", "status", "story_points", "created_at")
POSTGRAPHILE_LIST = """
query Stories($id: UUID!) {
  allStories(
    first: 50
    condition: { productId: $id }
    orderBy: [RANK_ASC, ROW_ID_ASC]
  ) {
    nodes { id: rowId roadmapItemId title status storyPoints createdAt }
  }
}
""".strip()


def _list_path(product_id: str, fields: tuple[str, ...] | None = None) -> str:
    path = f"/api/v1/stories?product_id={product_id}&limit=50"
    return path + ("&fields=" + ",".join(fields) if fields else "")


def _rest_ids(body: Any) -> list[str]:
    return [str(row["id"]) for row in body["data"]]


def verify_same_list(first: dict[str, Any]) -> None:
    """The four loads list the same 50 stories in the same order; the sparse list has only
    the six fields."""
    pgl = first["postgraphile"]
    if pgl.get("errors"):
        raise SystemExit(f"PostGraphile answered errors: {json.dumps(pgl)[:800]}")
    nodes = pgl["data"]["allStories"]["nodes"]
    expected = [str(n["id"]) for n in nodes]
    for label in ("rounds 6 fields", "rounds full rows", "baseline"):
        if _rest_ids(first[label]) != expected:
            raise SystemExit(f"{label} and postgraphile do not list the same stories")
    if any(tuple(row) != SIX_FIELDS for row in first["rounds 6 fields"]["data"]):
        raise SystemExit("the sparse list does not hold exactly the six fields")
    if len(expected) != 50:
        raise SystemExit(f"expected 50 stories, got {len(expected)}")
    print("  verified: the same 50 stories on every load", flush=True)


@scenario("stories-fields")
def stories_fields(env: BenchEnv) -> Scenario:
    """6-field REST list vs PostGraphile 5; full-row list vs the raw asyncpg baseline."""
    from bench.graphql_bench import postgraphile_server, seed_page

    product_id = seed_page(env.database_url)
    auth = {"Authorization": f"Bearer {env.token}"}
    gql = json.dumps(
        {"query": POSTGRAPHILE_LIST, "variables": {"id": product_id}}, separators=(",", ":")
    )
    return Scenario(
        name="stories-fields",
        description=(
            "GET /api/v1/stories?product_id=&limit=50 with 6 fields vs PostGraphile 5 "
            "allStories(first: 50); full rows vs the raw asyncpg baseline"
        ),
        servers=[app_server(env, "rounds"), postgraphile_server(env), baseline_server(env)],
        loads=[
            Load("rounds 6 fields", "rounds", _list_path(product_id, SIX_FIELDS), headers=auth),
            Load(
                "postgraphile",
                "postgraphile",
                "/graphql",
                method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                body=gql,
            ),
            Load("rounds full rows", "rounds", _list_path(product_id), headers=auth),
            Load("baseline", "baseline", _list_path(product_id)),
        ],
        checks=[
            Check("6 fields / postgraphile", "ratio", "rounds 6 fields", "postgraphile", 1.0),
            Check("full rows / baseline", "ratio", "rounds full rows", "baseline", 0.6),
        ],
        verify=verify_same_list,
    )


@scenario("workers")
def two_workers(env: BenchEnv) -> Scenario:
    """The GraphQL roadmap page on one uvicorn worker and on two (same machine, same run)."""
    from bench.graphql_bench import ROUNDS_QUERY, graphql_body, seed_page

    product_id = seed_page(env.database_url)
    one = app_server(env, "rounds-1")
    two = app_server(env, "rounds-2")
    argv = list(two.argv)
    argv[argv.index("--workers") + 1] = "2"
    two = replace(two, argv=tuple(argv))
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {env.token}",
    }
    body = graphql_body(ROUNDS_QUERY, product_id)
    return Scenario(
        name="workers",
        description="GraphQL roadmap page, 2 uvicorn workers vs 1",
        servers=[one, two],
        loads=[
            Load("1 worker", "rounds-1", "/graphql", method="POST", headers=headers, body=body),
            Load("2 workers", "rounds-2", "/graphql", method="POST", headers=headers, body=body),
        ],
        checks=[Check("2 workers / 1 worker", "ratio", "2 workers", "1 worker", 1.6)],
    )

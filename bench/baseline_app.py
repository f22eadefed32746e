"""The floor the Rounds stories list is measured against: a raw asyncpg pool and one Starlette
endpoint running the same SELECT (same columns, evidence_count subquery, ORDER BY rank, id,
LIMIT 51) and encoding the same fields with orjson. No auth, no audit, no ORM, no pydantic.

Served by the bench exactly like the app:
    BASELINE_DATABASE_URL=postgresql://… uvicorn bench.baseline_app:create_app --factory
"""

from __future__ import annotations

import base64
import os
import uuid
from contextlib import asynccontextmanager

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = (
    "id",
    "product_id",
    "roadmap_item_id",
    "key",
    "title",
    "persona",
    "as_a",
    "i_want",
    "so_that",
    "description",
    "acceptance_criteria",
    "status",
    "story_points",
    "rank",
    "sprint",
    "labels",
    "clinical_review_required",
    "clinical_review",
    "jira_key",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
)

_SELECT = (
    "SELECT "
    + ", ".join(f"s.{c}" for c in COLUMNS)
    + ", (SELECT count(*) FROM insight_story JOIN insight ON insight.id = insight_story.insight_id"
    " WHERE insight_story.story_id = s.id AND insight.archived_at IS NULL) AS evidence_count"
    " FROM story s WHERE s.archived_at IS NULL"
)
_ORDER = " ORDER BY s.rank ASC, s.id ASC LIMIT $1"
LIST_SQL = _SELECT + _ORDER
# ?product_id=<uuid>: the same list of one product (bench/rest_bench.py)
PRODUCT_LIST_SQL = _SELECT + " AND s.product_id = $2" + _ORDER


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ,
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


def _dsn() -> str:
    url = os.environ.get("BASELINE_DATABASE_URL") or os.environ["DATABASE_URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _cursor(rank: str, story_id) -> str:
    raw = orjson.dumps({"s": "rank", "v": rank, "i": str(story_id)})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def create_app() -> Starlette:
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette):
        state["pool"] = await asyncpg.create_pool(
            _dsn(), min_size=10, max_size=20, init=_init_connection
        )
        yield
        await state["pool"].close()

    async def list_stories(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "50"))
        product_id = request.query_params.get("product_id")
        async with state["pool"].acquire() as conn:
            if product_id:
                rows = await conn.fetch(PRODUCT_LIST_SQL, limit + 1, uuid.UUID(product_id))
            else:
                rows = await conn.fetch(LIST_SQL, limit + 1)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = _cursor(rows[-1]["rank"], rows[-1]["id"])
        # asyncpg's UUID is its own type; orjson falls back to str() for it.
        body = orjson.dumps(
            {"data": [dict(r) for r in rows], "next_cursor": next_cursor}, default=str
        )
        headers = {}
        if next_cursor:
            url = request.url.include_query_params(cursor=next_cursor)
            headers["Link"] = f'<{url}>; rel="next"'
        return Response(body, media_type="application/json", headers=headers)

    return Starlette(routes=[Route("/api/v1/stories", list_stories)], lifespan=lifespan)

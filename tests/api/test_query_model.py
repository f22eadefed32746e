"""`query_model` (app.api.params) answers and is documented exactly as FastAPI's own query
parameter model (`Annotated[Model, Query()]`) that it replaces on the story list: the same
values, the same validation errors, the same OpenAPI parameters. Two small apps, one per
form, with Rounds' error handlers; a FastAPI upgrade that changes either form fails here.
(No `from __future__ import annotations`: FastAPI must see the routes' local models.)"""

import uuid
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.openapi import document_query_models
from app.api.params import query_model
from app.core.http import install_error_handlers
from app.stories.router import StoryListParams


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=200, description="Page size")
    sort: Literal["rank", "-rank"] | None = None
    include_archived: bool = False
    product_id: uuid.UUID | None = None
    name: str | None = Field(None, max_length=5)


def _apps() -> tuple[FastAPI, FastAPI]:
    declared, fast = FastAPI(), FastAPI()

    @declared.get("/items")
    async def items_declared(params: Annotated[Params, Query()]) -> dict:
        return params.model_dump(mode="json")

    @fast.get("/items")
    async def items_fast(params: Annotated[Params, Depends(query_model(Params))]) -> dict:
        return params.model_dump(mode="json")

    install_error_handlers(declared)
    install_error_handlers(fast)
    return declared, fast


QUERIES = [
    "",
    "limit=7&sort=-rank&include_archived=true&name=abc",
    "product_id=01a24316-b38a-73e6-bb68-3991ef4aea7b",
    "limit=0",
    "limit=abc&sort=bogus&include_archived=maybe",
    "product_id=nope&name=toolong",
    "unknown=1",
    "name=",
    "limit=%ff",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_same_answers_as_a_fastapi_query_model(query: str) -> None:
    declared, fast = _apps()
    answers = []
    for app in (declared, fast):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/items?" + query)
            answers.append((r.status_code, r.headers.get("content-type"), r.content))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("model", [Params, StoryListParams])
def test_documented_as_a_fastapi_query_model(model: type[BaseModel]) -> None:
    from fastapi.openapi.utils import get_openapi

    declared, fast = FastAPI(), FastAPI()

    async def items(params: Annotated[model, Query()]) -> None:  # type: ignore[valid-type]
        return None

    async def items_fast(
        params: Annotated[model, Depends(query_model(model))],  # type: ignore[valid-type]
    ) -> None:
        return None

    declared.add_api_route("/items", items, methods=["GET"])
    fast.add_api_route("/items", items_fast, methods=["GET"], name="items")

    want = get_openapi(title="t", version="1", routes=declared.routes)
    got = get_openapi(title="t", version="1", routes=fast.routes)
    document_query_models(got, fast.routes)
    for doc in (want, got):  # FastAPI's own 422 answer, not documented by Rounds either way
        doc["paths"]["/items"]["get"]["responses"].pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            doc.get("components", {}).get("schemas", {}).pop(name, None)
    assert got["paths"] == want["paths"]
    assert got.get("components", {}).get("schemas") == want.get("components", {}).get("schemas")


def test_refuses_a_repeatable_member() -> None:
    class Repeats(BaseModel):
        tags: list[str] = []

    with pytest.raises(TypeError):
        query_model(Repeats)

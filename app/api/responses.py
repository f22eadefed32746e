"""Fast JSON responses for resources and pages (pydantic-core serializes, no double pass)."""

from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import quote, quote_plus

import orjson
from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from starlette.responses import Response

from app.api.fastjson import encoder_for
from app.api.fields import SPARSE_JSON, Fields, fields_field, parse_fields
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from app.core.repository import ListQuery, etag

T = TypeVar("T")


class Paginated(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


@lru_cache(maxsize=64)
def _list_adapter(out: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[out])  # type: ignore[valid-type]  # a model known at run time


def dump_list(items: list[Any], out: type[BaseModel], fields: Fields = None) -> bytes:
    """`list[out]` as JSON (only `fields`, app.api.fields, when given): straight from the
    rows when the model allows it (app.api.fastjson, identical output), else validated and
    dumped by pydantic."""
    encoder = encoder_for(out, fields)
    if encoder is not None:
        return encoder.dumps(items)
    adapter = _list_adapter(out)
    include = None if fields is None else {"__all__": set(fields)}
    return adapter.dump_json(adapter.validate_python(items, from_attributes=True), include=include)


class ListParams(BaseModel):
    """Every query parameter of one list operation as ONE model, for FastAPI's query
    parameter models (`Annotated[Model, Query()]`): validated in one pass, unknown names
    refused (extra="forbid"), published parameter by parameter as before. Built by
    `list_params_for`; `list_query()` and `selected()` hand the parts to the service."""

    model_config = ConfigDict(extra="forbid")
    field_names: ClassVar[tuple[str, ...]] = ()

    def list_query(self) -> ListQuery:
        return ListQuery(
            limit=self.limit,  # type: ignore[attr-defined]
            cursor=self.cursor,  # type: ignore[attr-defined]
            sort=self.sort,  # type: ignore[attr-defined]
            include_archived=self.include_archived,  # type: ignore[attr-defined]
        )

    def selected(self) -> Fields:
        """The sparse fieldset asked for (app.api.fields; 400 on an unknown name)."""
        return parse_fields(self.fields, self.field_names)  # type: ignore[attr-defined]


def list_params_for(
    name: str, sortable: Sequence[str], out: type[BaseModel], **filters: Any
) -> type[ListParams]:
    """The ListParams model of a list of `out`: limit, cursor, sort (the enum of `sortable`,
    each with and without '-'), include_archived, `filters` (name=(annotation, default or
    Field)) and fields. Field order = the order of the published parameters."""
    Sort = Literal[tuple(v for f in sortable for v in (f, "-" + f))]  # type: ignore[valid-type]
    names = tuple(out.model_fields)
    model = create_model(
        name,
        __base__=ListParams,
        limit=(int, Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size")),
        cursor=(str | None, Field(None, max_length=2048, description="From next_cursor")),
        sort=(Sort | None, Field(None, description="Field name, '-' prefix for descending")),  # type: ignore[arg-type]  # Sort: a Literal built at run time
        include_archived=(bool, Field(False, description="Include archived resources")),
        **filters,
        fields=(str | None, fields_field(names)),
    )
    model.field_names = names
    return model


def list_query_for(sortable: Sequence[str]) -> Callable[..., Awaitable[ListQuery]]:
    """The limit/cursor/sort/include_archived dependency of one list operation: `sort` is
    published as the enum of its sortable fields, each with and without a '-' prefix.
    (This module has no `from __future__ import annotations`: FastAPI must see `Sort`, a
    local, as a type and not as a string it cannot resolve.)"""
    Sort = Literal[tuple(v for f in sortable for v in (f, "-" + f))]  # type: ignore[valid-type]

    async def list_query(  # async: a sync dependency costs a threadpool hop per request
        limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size"),
        cursor: str | None = Query(None, max_length=2048, description="From next_cursor"),
        sort: Sort | None = Query(None, description="Field name, '-' prefix for descending"),  # type: ignore[valid-type]
        include_archived: bool = Query(False, description="Include archived resources"),
    ) -> ListQuery:
        return ListQuery(limit=limit, cursor=cursor, sort=sort, include_archived=include_archived)

    return list_query


async def history_query(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size"),
    cursor: str | None = Query(None, max_length=2048, description="From next_cursor"),
) -> ListQuery:
    """limit/cursor of a history list (fixed order: newest first; nothing is archived)."""
    return ListQuery(limit=limit, cursor=cursor)


# Typed dependency aliases of the list and read operations (a router names its own:
# `Annotated[ListQuery, Depends(list_query_for(sortable))]`, `Annotated[Fields,
# Depends(fields_query(Out))]`; the callables are made once, so each is one dependency).
HistoryQuery = Annotated[ListQuery, Depends(history_query)]


def page_response(
    request: Request, page: Page[Any], out: type[BaseModel], fields: Fields = None
) -> Response:
    """`{"data": [...], "next_cursor": ...}` plus an RFC 8288 Link header to the next page;
    with `fields`, each item holds only those (sparse fieldsets)."""
    body = (
        b'{"data":'
        + dump_list(page.items, out, fields)
        + b',"next_cursor":'
        + orjson.dumps(page.next_cursor)
        + b"}"
    )
    headers = {}
    if page.next_cursor:
        headers["Link"] = f'<{next_link(request, page.next_cursor)}>; rel="next"'
    return Response(body, media_type=_media_type(fields), headers=headers)


def _media_type(fields: Fields) -> str:
    return "application/json" if fields is None else SPARSE_JSON


def next_link(request: Request, cursor: str) -> str:
    """The next page's URL: under PUBLIC_BASE_URL when set, else relative (RFC 8288 allows
    it). Never built from the request's Host header, which the client chooses."""
    # What request.url.include_query_params(cursor=cursor) builds (the other parameters in
    # their order, `cursor` replaced and last, each name and value quote_plus'ed), from the
    # query parameters FastAPI already parsed, without re-parsing and re-splitting the URL.
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    pairs.append(("cursor", cursor))
    query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)
    target = f"{request.url.path}?{query}"
    base = request.app.state.settings.public_base_url
    return base.rstrip("/") + target if base else target


def resource_response(
    obj: Any,
    out: type[BaseModel],
    *,
    status: int = 200,
    location: str | None = None,
    fields: Fields = None,
) -> Response:
    """One resource with its ETag (and, for a 201, the `Location` of the new resource).
    With `fields` (a sparse read) only those fields, and the ETag is the weak form of the
    version's: the same version, a partial representation; If-Match accepts it."""
    model = obj if isinstance(obj, out) else out.model_validate(obj, from_attributes=True)
    headers = {}
    if hasattr(obj, "version"):
        headers["ETag"] = etag(obj) if fields is None else "W/" + etag(obj)
    if location is not None:
        headers["Location"] = location
    include = None if fields is None else set(fields)
    return Response(
        model.model_dump_json(include=include).encode(),
        status_code=status,
        media_type=_media_type(fields),
        headers=headers or None,
    )


def location(request: Request, *parts: Any) -> str:
    """The path of a resource created by a POST to `request`'s collection, e.g.
    /api/v1/stories/{id} (a relative reference, as RFC 9110 allows)."""
    return "/".join([request.url.path.rstrip("/"), *(quote(str(p), safe="") for p in parts)])

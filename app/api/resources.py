"""The create, read, update and archive operations of a versioned resource, made once for
every router. A router names its service functions, its models, the path of one resource
and that path's parameter, and keeps its own list operation (the filters differ) and its
other operations:

    one = ResourceRoutes(router, "/{interview_id}", id_path("interview_id"), InterviewOut)
    one.create(InterviewCreate, service.create_interview, "Record a research interview.")
    one.read(service.get_interview, "Get an interview.")

The operations are published exactly as if written out one by one: the route name (hence
the operationId) is the service function's unless `name` says otherwise, the description
is `doc`, the parameters come in the order path, `?fields=` or body, If-Match. Call them
where the operations stood: the order of the calls is the order of the published paths.

`ref` is the path parameter's annotated type, chosen per router at run time (hence the
`type: ignore` where it annotates); its `Path(alias=...)` (app.api.params.id_path) or its
dependency (app.products.params.ProductPath) names the parameter as the path does."""

# No `from __future__ import annotations`: the routes are made in methods, and FastAPI
# must see the models and the reference type themselves, not their names.

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch
from app.api.responses import HistoryQuery, location, page_response, resource_response

Service = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ResourceRoutes:
    router: APIRouter
    path: str  # of one resource, e.g. "/{interview_id}"
    ref: Any  # its path parameter's annotated type
    out: type[BaseModel]

    def create(self, body_model: type[BaseModel], create: Service, doc: str) -> None:
        """POST to the collection: 201 with the new resource's ETag and Location."""
        out = self.out

        async def endpoint(request: Request, ctx: Context, body: body_model) -> Response:  # type: ignore[valid-type]
            obj = await create(ctx, body)
            return resource_response(obj, out, status=201, location=location(request, obj.id))

        decorator = self.router.post("", response_model=out, status_code=201)
        _route(decorator, endpoint, create.__name__, doc)

    def read(self, get: Service, doc: str, *, name: str | None = None) -> None:
        """GET one resource, whole or only the `?fields=` asked for."""
        out = self.out

        async def endpoint(
            ctx: Context,
            ref: self.ref,  # type: ignore[name-defined]
            fields: Annotated[Fields, Depends(fields_query(out))] = None,
        ) -> Response:
            return resource_response(await get(ctx, ref), out, fields=fields)

        decorator = self.router.get(self.path, response_model=out)
        _route(decorator, endpoint, name or get.__name__, doc)

    def update(self, body_model: type[BaseModel], update: Service, doc: str) -> None:
        """PATCH one resource (If-Match pins the version it was read at)."""
        out = self.out

        async def endpoint(
            ctx: Context,
            ref: self.ref,  # type: ignore[name-defined]
            body: body_model,  # type: ignore[valid-type]
            if_match: IfMatch = None,
        ) -> Response:
            return resource_response(await update(ctx, ref, body, if_match=if_match), out)

        decorator = self.router.patch(self.path, response_model=out)
        _route(decorator, endpoint, update.__name__, doc)

    def archive(self, archive: Service, doc: str, *, name: str | None = None) -> None:
        """DELETE one resource: archived, answered as it is now."""
        out = self.out

        async def endpoint(
            ctx: Context,
            ref: self.ref,  # type: ignore[name-defined]
            if_match: IfMatch = None,
        ) -> Response:
            return resource_response(await archive(ctx, ref, if_match=if_match), out)

        decorator = self.router.delete(self.path, response_model=out)
        _route(decorator, endpoint, name or archive.__name__, doc)

    def history(
        self,
        suffix: str,
        page_model: type[BaseModel],
        item_model: type[BaseModel],
        list_page: Service,
        doc: str,
        *,
        name: str,
    ) -> None:
        """GET a history list under one resource (`suffix`, e.g. "/approvals"), newest
        first: `list_page(ctx, ref, query)` answered as a page of `item_model`."""

        async def endpoint(
            request: Request,
            ctx: Context,
            ref: self.ref,  # type: ignore[name-defined]
            query: HistoryQuery,
        ) -> Response:
            return page_response(request, await list_page(ctx, ref, query), item_model)

        decorator = self.router.get(self.path + suffix, response_model=page_model)
        _route(decorator, endpoint, name, doc)


def _route(
    decorator: Callable[[Any], Any], endpoint: Callable[..., Any], name: str, doc: str
) -> None:
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    decorator(endpoint)

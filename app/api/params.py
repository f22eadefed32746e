"""Header, path and query parameter handling shared by routers."""

from __future__ import annotations

import types
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Header, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from app.core.errors import Invalid


def id_path(name: str) -> Any:
    """A resource id path parameter published as `name` (app.api.resources makes the
    operations on it, whose own parameter is named `ref`)."""
    return Annotated[uuid.UUID, Path(alias=name)]


IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="ETag from a GET; 412 if it is stale")
]


M = TypeVar("M", bound=BaseModel)

# The attribute naming the model a `query_model` dependency reads.
_QUERY_MODEL = "__rounds_query_model__"


def query_model(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """The dependency reading an operation's query parameters into `model` in ONE
    `model_validate` (`Annotated[Model, Depends(query_model(Model))]`), instead of FastAPI's
    query parameter model (`Annotated[Model, Query()]`), which re-extracts and re-analyses
    the model field by field on every request (about a tenth of a list request's
    instructions, bench/README.md "Session 6"). The same answers: a parameter given twice
    is refused by `known_query_params` before this runs (FastAPI would take the last value,
    as `dict(query_params)` does), and a validation error is FastAPI's own
    RequestValidationError with the same errors (`("query", name)` locations). Published in
    the OpenAPI document parameter by parameter as FastAPI publishes a query model
    (app.api.openapi `document_query_models`). Members must be single-valued."""
    if any(_is_sequence(f.annotation) for f in model.model_fields.values()):
        raise TypeError(f"{model.__name__}: a query_model member cannot repeat")

    async def read_query(request: Request) -> M:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in errors]
            ) from None

    setattr(read_query, _QUERY_MODEL, model)
    return read_query


def query_models(dependant: Dependant) -> Iterator[type[BaseModel]]:
    """The models of the `query_model` dependencies in `dependant`'s tree, in the order
    FastAPI solves them."""
    for sub in dependant.dependencies:
        yield from query_models(sub)
    model = getattr(dependant.call, _QUERY_MODEL, None)
    if model is not None:
        yield model


def _declared_query(dependant: Dependant) -> dict[str, bool]:
    """Query parameter name → whether it may repeat (a list), over the whole dependency tree
    (the members of a query parameter model, `Annotated[Model, Query()]` or `query_model`,
    one by one)."""
    out: dict[str, bool] = {}
    own = getattr(dependant.call, _QUERY_MODEL, None)
    models = [own] if own is not None else []
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            models.append(annotation)
            continue
        out[field.alias] = _is_sequence(annotation)
    for model in models:
        for name, member in model.model_fields.items():
            out[member.alias or name] = _is_sequence(member.annotation)
    for sub in dependant.dependencies:
        out.update(_declared_query(sub))
    return out


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_sequence(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, tuple, set, frozenset)


# Per route (routes define __eq__, so they are not hashable): the route itself is kept with
# its entry, so an id is never reused for another route while the entry exists.
_DECLARED: dict[int, tuple[APIRoute, dict[str, bool]]] = {}


async def known_query_params(request: Request) -> None:
    """Refuse query parameters the operation does not declare, and a single-valued one given
    twice: a typo such as `?stauts=done` must not silently list everything (422 naming the
    parameter). One router-level dependency for every REST operation."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    entry = _DECLARED.get(id(route))
    if entry is None or entry[0] is not route:
        entry = _DECLARED[id(route)] = (route, _declared_query(route.dependant))
    declared = entry[1]
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        shown = name[:64]
        if name not in declared:
            errors.append(
                {"loc": ["query", shown], "msg": "Unknown query parameter.", "type": "unknown"}
            )
        elif not declared[name] and len(request.query_params.getlist(name)) > 1:
            errors.append(
                {"loc": ["query", shown], "msg": "Give this parameter once.", "type": "repeated"}
            )
    if errors:
        raise Invalid("The request has unknown or repeated query parameters.", errors=errors)

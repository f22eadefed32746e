"""The create, change (update, review) and archive mutations of a versioned resource, made
once: each is the service function REST calls, with its `input:` validated by the same
pydantic model (app/graphql/inputs.py). Published exactly as if written out: arguments
`id`, `input`, `ifMatch` in that order, the field's description and type as given.

`ref` turns the `id:` argument into what the service takes (a UUID, a product by id or
key, a story by id or key)."""

# No `from __future__ import annotations`: the resolvers are made in functions, and
# strawberry must see the input types themselves, not their names.

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from pydantic import BaseModel

from app.graphql.inputs import to_model
from app.graphql.types import Info, parse_id

Service = Callable[..., Awaitable[Any]]
Ref = Callable[[Info, strawberry.ID], Awaitable[Any]]


def create_mutation(
    input_type: Any,
    model: type[BaseModel],
    create: Service,
    graphql_type: Any,
    description: str | None = None,
) -> Any:
    async def resolve(info: Info, input: input_type) -> Any:
        return await create(info.context.ctx, to_model(model, input))

    return strawberry.mutation(resolver=resolve, graphql_type=graphql_type, description=description)


def change_mutation(
    input_type: Any,
    model: type[BaseModel],
    change: Service,
    ref: Ref,
    graphql_type: Any,
    description: str | None = None,
) -> Any:
    async def resolve(
        info: Info,
        id: strawberry.ID,
        input: input_type,
        if_match: str | None = None,
    ) -> Any:
        data = to_model(model, input)
        return await change(info.context.ctx, await ref(info, id), data, if_match=if_match)

    return strawberry.mutation(resolver=resolve, graphql_type=graphql_type, description=description)


def archive_mutation(
    archive: Service, ref: Ref, graphql_type: Any, description: str | None = None
) -> Any:
    async def resolve(info: Info, id: strawberry.ID, if_match: str | None = None) -> Any:
        return await archive(info.context.ctx, await ref(info, id), if_match=if_match)

    return strawberry.mutation(resolver=resolve, graphql_type=graphql_type, description=description)


async def uuid_ref(_info: Info, value: strawberry.ID) -> Any:
    """An `id:` that must be a UUID (BAD_USER_INPUT otherwise)."""
    return parse_id(value)


async def story_ref(_info: Info, value: strawberry.ID) -> Any:
    """A story's `id:`, its UUID or its key (e.g. SEPS-12)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return str(value)[:64]

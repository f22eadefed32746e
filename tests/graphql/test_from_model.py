"""app.graphql.types.common.from_model: a GraphQL type's plain fields derived from its REST
model, as the published schema relies on (order, ID, descriptions, overrides, resolvers)."""

from __future__ import annotations

import datetime
import uuid
from enum import Enum

import strawberry
from pydantic import BaseModel, Field

from app.graphql.types.common import from_model


class Color(Enum):
    RED = "red"


class ThingOut(BaseModel):
    id: uuid.UUID
    name: str = Field(description="What it is called")
    note: str | None = Field(None, description="Dropped in GraphQL")
    color: str
    owner_id: uuid.UUID
    created_at: datetime.datetime
    secret: str


@strawberry.type
@from_model(ThingOut, exclude=("secret",), descriptions={"note": None})
class Thing:
    color: Color  # the class's own type wins
    extra: int = 0

    @strawberry.field
    def owner_id(self) -> str:  # resolved, so not derived
        return "me"


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing | None:
        return None


def test_fields_follow_the_model_with_the_class_overrides() -> None:
    sdl = strawberry.Schema(query=Query, types=[strawberry.enum(Color)]).as_str()
    thing = sdl[sdl.index("type Thing {") :].split("}")[0]
    assert (
        thing.split()
        == (
            "type Thing { id: ID! "
            '"""What it is called""" name: String! '
            "note: String color: Color! createdAt: DateTime! extra: Int! ownerId: String!"
        ).split()
    )
    assert "secret" not in sdl

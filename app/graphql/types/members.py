"""GraphQL types of product members and of the calling principal."""

from __future__ import annotations

import strawberry

from app.graphql.types.common import from_model
from app.members.schemas import MemberOut, MeOut


@strawberry.type(name="Member")
@from_model(MemberOut)
class MemberType:
    pass


@strawberry.type(name="Me")
@from_model(MeOut)
class MeType:
    pass

"""GraphQL types of product members and of the calling principal."""

from __future__ import annotations

import datetime
import uuid

import strawberry


@strawberry.type(name="Member")
class MemberType:
    product_id: uuid.UUID
    subject: str
    created_at: datetime.datetime
    added_by: str | None


@strawberry.type(name="Me")
class MeType:
    sub: str
    type: str
    role: str | None
    name: str | None
    client_id: str | None
    scopes: list[str]
    product_ids: list[uuid.UUID] = strawberry.field(
        description="Products the principal is a member of"
    )

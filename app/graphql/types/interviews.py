"""GraphQL type of interviews."""

from __future__ import annotations

import uuid

import strawberry

from app.graphql.types.common import Info, LazyProduct, from_model, register_enums
from app.graphql.types.insights import insights_field
from app.interviews.schemas import ConsentStatus, InterviewOut, ParticipantPersona

register_enums(ParticipantPersona, ConsentStatus)


@strawberry.type(
    name="Interview",
    description="An interview as this caller may see it: full PHI, or the redacted rendition.",
)
@from_model(InterviewOut)
class InterviewType:
    product_id: uuid.UUID  # what the resolvers read, for the type checker

    @strawberry.field
    async def product(self, info: Info) -> LazyProduct | None:
        return await info.context.loaders.product.load(self.product_id)

    insights = insights_field("interview_id")

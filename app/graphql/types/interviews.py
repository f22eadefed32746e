"""GraphQL type of interviews."""

from __future__ import annotations

import datetime
import uuid

import strawberry

from app.graphql.types.common import Info, LazyProduct, register_enums
from app.graphql.types.insights import insights_field
from app.interviews.schemas import ConsentStatus, ParticipantPersona

register_enums(ParticipantPersona, ConsentStatus)


@strawberry.type(
    name="Interview",
    description="An interview as this caller may see it: full PHI, or the redacted rendition.",
)
class InterviewType:
    id: strawberry.ID
    product_id: uuid.UUID
    title: str
    conducted_on: datetime.date
    interviewer_sub: str
    participant_persona: ParticipantPersona
    participant_name: str | None
    participant_contact: str | None
    site: str | None
    consent_status: ConsentStatus
    transcript: str | None
    summary: str | None
    tags: list[str]
    phi_detected: bool
    phi_categories: list[str]
    redacted: bool = strawberry.field(description="true when this caller gets the redacted view")
    purged_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    async def product(self, info: Info) -> LazyProduct | None:
        return await info.context.loaders.product.load(self.product_id)

    insights = insights_field("interview_id")

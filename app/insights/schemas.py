from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StrictStr

from app.core.fields import Tags, Title, json_int
from app.core.schemas import InputModel, Omittable, OutputModel, PatchModel
from app.interviews.schemas import ParticipantPersona

if TYPE_CHECKING:  # built at run time; to the type checker, what a caller reads
    Severity = int
else:
    Severity = json_int(ge=1, le=5)
Quote = Annotated[StrictStr, Field(max_length=5000)]
Links = Annotated[list[uuid.UUID], Field(max_length=100)]


class InsightCreate(InputModel):
    interview_id: uuid.UUID
    title: Title
    quote: Quote | None = None
    persona: ParticipantPersona | None = None
    severity: Severity = 3
    tags: Tags = Field(default_factory=list)
    story_ids: Links = Field(default_factory=list)
    roadmap_item_ids: Links = Field(default_factory=list)


class InsightUpdate(PatchModel):
    title: Omittable[Title] = None
    quote: Quote | None = None
    persona: ParticipantPersona | None = None
    severity: Omittable[Severity] = None
    tags: Omittable[Tags] = None
    story_ids: Omittable[Links] = None
    roadmap_item_ids: Omittable[Links] = None


class InsightOut(OutputModel):
    id: uuid.UUID
    interview_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    quote: str | None = Field(description="redacted unless the caller may see the interview's PHI")
    persona: ParticipantPersona | None
    severity: int
    tags: list[str]
    story_ids: list[uuid.UUID]
    roadmap_item_ids: list[uuid.UUID]
    phi_detected: bool
    redacted: bool
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictStr

from app.core.fields import PhiLongText, ShortText, Tags, Title
from app.core.schemas import InputModel, Omittable, OutputModel, PatchModel


class ParticipantPersona(StrEnum):
    PHYSICIAN = "physician"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    PATIENT = "patient"
    CAREGIVER = "caregiver"
    ADMINISTRATOR = "administrator"
    PAYER = "payer"
    IT_STAFF = "it_staff"
    OTHER = "other"


class ConsentStatus(StrEnum):
    OBTAINED = "obtained"
    NOT_REQUIRED = "not_required"
    WITHDRAWN = "withdrawn"


# An OIDC subject: at most 255 ASCII characters; Rounds also refuses whitespace and control
# characters, so a person's name or other free text cannot pass for one (it is audited).
Sub = Annotated[
    StrictStr,
    Field(min_length=1, max_length=255, pattern=r"^[!-~]+$", description="a principal's sub"),
]
Contact = Annotated[StrictStr, Field(max_length=500)]


class InterviewCreate(InputModel):
    product_id: uuid.UUID
    title: Title
    conducted_on: date
    interviewer_sub: Sub | None = Field(
        default=None,
        description="defaults to the creator; naming someone else needs interview:reassign",
    )
    participant_persona: ParticipantPersona
    participant_name: ShortText | None = None
    participant_contact: Contact | None = None
    site: ShortText | None = None
    consent_status: ConsentStatus = ConsentStatus.OBTAINED
    transcript: PhiLongText | None = None
    summary: PhiLongText | None = None
    tags: Tags = Field(default_factory=list)


class InterviewUpdate(PatchModel):
    title: Omittable[Title] = None
    conducted_on: Omittable[date] = None
    interviewer_sub: Omittable[Sub] = None
    participant_persona: Omittable[ParticipantPersona] = None
    participant_name: ShortText | None = None
    participant_contact: Contact | None = None
    site: ShortText | None = None
    consent_status: Omittable[ConsentStatus] = None
    transcript: PhiLongText | None = None
    summary: PhiLongText | None = None
    tags: Omittable[Tags] = None


class InterviewOut(OutputModel):
    """An interview as this caller may see it: full PHI, or the redacted rendition."""

    id: uuid.UUID
    product_id: uuid.UUID
    title: str
    conducted_on: date
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
    redacted: bool = Field(description="true when this caller gets the redacted view")
    purged_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StrictFloat, StrictStr

from app.core.fields import LongText, Quarter, Subject, Title, json_int, one_of
from app.core.schemas import InputModel, Omittable, OutputModel, PatchModel


class Horizon(StrEnum):
    NOW = "now"
    NEXT = "next"
    LATER = "later"


class RoadmapStatus(StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class ApprovalStatus(StrEnum):
    NONE = "none"
    CURRENT = "current"
    STALE = "stale"


class ApprovalEntryStatus(StrEnum):
    CURRENT = "current"
    STALE = "stale"


IMPACT_VALUES = (0.25, 0.5, 1, 2, 3)
if TYPE_CHECKING:  # built at run time; to the type checker, what a caller reads
    Reach = int
    Impact = float
else:
    Reach = json_int(ge=0, le=1_000_000_000)
    Impact = one_of(StrictFloat, IMPACT_VALUES)
Confidence = Annotated[StrictFloat, Field(ge=0, le=1)]
Effort = Annotated[StrictFloat, Field(gt=0, le=10_000, description="person-months")]
Theme = Annotated[StrictStr, Field(max_length=100)]  # the column is VARCHAR(100)


class RoadmapItemCreate(InputModel):
    product_id: uuid.UUID
    title: Title
    description: LongText = ""
    theme: Theme | None = None
    horizon: Horizon = Horizon.LATER
    target_quarter: Quarter | None = None
    status: RoadmapStatus = RoadmapStatus.PROPOSED
    reach: Reach | None = None
    impact: Impact | None = None
    confidence: Confidence | None = None
    effort: Effort | None = None
    owner_sub: Subject | None = Field(None, description="A member of the product")


class RoadmapItemUpdate(PatchModel):
    title: Omittable[Title] = None
    description: Omittable[LongText] = None
    theme: Theme | None = None
    horizon: Omittable[Horizon] = None
    target_quarter: Quarter | None = None
    status: Omittable[RoadmapStatus] = None
    reach: Reach | None = None
    impact: Impact | None = None
    confidence: Confidence | None = None
    effort: Effort | None = None
    owner_sub: Subject | None = Field(None, description="A member of the product")


class RoadmapItemOut(OutputModel):
    id: uuid.UUID
    product_id: uuid.UUID
    title: str
    description: str
    theme: str | None
    horizon: Horizon
    target_quarter: str | None
    status: RoadmapStatus
    reach: int | None
    impact: float | None
    confidence: float | None
    effort: float | None
    rice_score: float | None = Field(description="reach·impact·confidence/effort")
    approved_by: str | None = Field(description="Approver of the current approval; null if none")
    approved_at: datetime | None = Field(description="When the current approval was given")
    approval_status: ApprovalStatus = Field(
        description="none, current, or stale (approved, then materially changed)"
    )
    owner_sub: str | None = Field(description="Who drives it (a product member)")
    evidence_count: int = Field(description="Insights linked as evidence")
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None


class RoadmapItemApprovalInput(InputModel):
    """An exec's approval of the item's current version, with an optional comment."""

    comment: Annotated[StrictStr, Field(max_length=5000)] | None = None


class RoadmapItemApprovalOut(OutputModel):
    id: uuid.UUID
    roadmap_item_id: uuid.UUID
    version: int = Field(description="The item version that was approved")
    approver_sub: str
    approved_at: datetime
    comment: str | None
    status: ApprovalEntryStatus
    current: bool = Field(description="Whether this approval still counts")
    stale_at: datetime | None
    stale_by: str | None = Field(description="Who made the change that made it stale")
    stale_reason: str | None = Field(description="material_change or reopened")
    stale_fields: list[str] | None = Field(description="Material fields whose change staled it")

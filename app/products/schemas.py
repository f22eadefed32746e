from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictBool, StrictFloat, field_validator

from app.core.fields import NOT_BLANK
from app.core.schemas import InputModel, Omittable, OutputModel, PatchModel


# A story's status, here because a product's Jira status map names them (JiraStatusMap):
# products import nothing of stories, stories build on products (app.stories.schemas re-exports it).
class StoryStatus(StrEnum):
    BACKLOG = "backlog"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    WONT_DO = "wont_do"


class LifecycleStage(StrEnum):
    IDEATION = "ideation"
    DISCOVERY = "discovery"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    LAUNCHED = "launched"
    RETIRED = "retired"


class SamdSignificance(StrEnum):
    TREAT_OR_DIAGNOSE = "treat_or_diagnose"
    DRIVE_MANAGEMENT = "drive_management"
    INFORM_MANAGEMENT = "inform_management"


class SamdSituation(StrEnum):
    CRITICAL = "critical"
    SERIOUS = "serious"
    NON_SERIOUS = "non_serious"


class FdaPathway(StrEnum):
    NOT_A_DEVICE = "not_a_device"
    EXEMPT = "exempt"
    K510 = "510k"
    DE_NOVO = "de_novo"
    PMA = "pma"
    UNDETERMINED = "undetermined"


class Iec62304Class(StrEnum):
    A = "A"
    B = "B"
    C = "C"


KEY_PATTERN = r"^[A-Z0-9]{2,10}$"
ProductKey = Annotated[str, Field(pattern=KEY_PATTERN, description="2-10 of A-Z0-9")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]
LongText = Annotated[str, Field(max_length=20_000)]
Metrics = Annotated[dict[Annotated[str, Field(max_length=50)], StrictFloat], Field(max_length=50)]
JiraProjectKey = Annotated[
    str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$", description="Jira project key, e.g. SEPS")
]
JiraStatusName = Annotated[str, Field(min_length=1, max_length=100)]
JiraStatusMap = Annotated[
    dict[JiraStatusName, StoryStatus],
    Field(
        max_length=100,
        description="Jira status name -> Rounds story status (names match case-insensitively); "
        "statuses not named here map by Jira's status category: new -> ready, "
        "indeterminate -> in_progress, done -> done",
    ),
]


class _ProductFields(InputModel):
    @field_validator("performance_metrics", check_fields=False)
    @classmethod
    def _finite(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and any(x != x or x in (float("inf"), float("-inf")) for x in v.values()):
            raise ValueError("metrics must be finite numbers")
        return v

    @field_validator("jira_status_map", check_fields=False)
    @classmethod
    def _distinct_names(cls, v: dict[str, StoryStatus] | None) -> dict[str, StoryStatus] | None:
        if v is not None and len({k.casefold() for k in v}) != len(v):
            raise ValueError("Jira status names must differ in more than letter case")
        return v


class ProductCreate(_ProductFields):
    key: ProductKey
    name: Name
    description: LongText = ""
    lifecycle_stage: LifecycleStage = LifecycleStage.IDEATION
    intended_use: LongText = ""
    samd_significance: SamdSignificance | None = None
    samd_situation: SamdSituation | None = None
    fda_pathway: FdaPathway = FdaPathway.UNDETERMINED
    iec62304_class: Iec62304Class | None = None
    handles_phi: StrictBool = False
    model_type: Annotated[str, Field(max_length=100)] | None = None
    performance_metrics: Metrics = Field(default_factory=dict)


class ProductUpdate(PatchModel, _ProductFields):
    name: Omittable[Name] = None
    description: Omittable[LongText] = None
    lifecycle_stage: Omittable[LifecycleStage] = None
    intended_use: Omittable[LongText] = None
    samd_significance: SamdSignificance | None = None
    samd_situation: SamdSituation | None = None
    fda_pathway: Omittable[FdaPathway] = None
    iec62304_class: Iec62304Class | None = None
    handles_phi: Omittable[StrictBool] = None
    model_type: Annotated[str, Field(max_length=100)] | None = None
    performance_metrics: Omittable[Metrics] = None
    jira_project_key: JiraProjectKey | None = None
    jira_status_map: Omittable[JiraStatusMap] = None


class ProductOut(OutputModel):
    id: uuid.UUID
    key: str
    name: str
    description: str
    lifecycle_stage: LifecycleStage
    intended_use: str
    samd_significance: SamdSignificance | None
    samd_situation: SamdSituation | None
    imdrf_category: str | None = Field(description="IMDRF SaMD N12 category, I to IV")
    fda_pathway: FdaPathway
    iec62304_class: Iec62304Class | None
    handles_phi: bool
    model_type: str | None
    performance_metrics: dict[str, float]
    jira_project_key: str | None = Field(description="Linked Jira project (SPEC §9)")
    jira_status_map: dict[str, StoryStatus]
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None

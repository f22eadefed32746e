from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictStr

from app.core.fields import NOT_BLANK, JsonInt, LongText, Subject, Tags, Title, one_of
from app.core.schemas import InputModel, Omittable, OutputModel, PatchModel
from app.products.schemas import StoryStatus


class StoryCreateStatus(StrEnum):
    """The statuses a new story may start in."""

    BACKLOG = "backlog"
    READY = "ready"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class ReviewDecision(StrEnum):
    """What a clinician decides in a review."""

    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


STORY_POINTS = (0, 1, 2, 3, 5, 8, 13, 21)
Gherkin = Annotated[StrictStr, Field(min_length=1, max_length=2000, pattern=NOT_BLANK)]
Rank = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z:|_.-]+$")]
Sprint = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=NOT_BLANK)]
JiraKey = Annotated[StrictStr, Field(pattern=r"^[A-Z][A-Z0-9_]{0,30}-\d{1,9}$")]
if TYPE_CHECKING:  # built at run time; to the type checker, what a caller reads
    Points = int
else:
    Points = one_of(JsonInt, STORY_POINTS)
Persona = Annotated[StrictStr, Field(max_length=100)]  # the column is VARCHAR(100)


class AcceptanceCriterion(InputModel):
    """A Gherkin scenario: Given / When / Then, and whether it is met."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=32, pattern=NOT_BLANK)] | None = None
    given: Gherkin
    when: Gherkin
    then: Gherkin
    met: StrictBool = False


class AcceptanceCriterionOut(BaseModel):
    id: str
    given: str
    when: str
    then: str
    met: bool


class ClinicalReviewOut(BaseModel):
    status: ReviewStatus
    reviewer_sub: str | None = None
    reviewed_at: datetime | None = None
    comment: str | None = None


class JiraSyncOut(BaseModel):
    """Whether the story follows its Jira issue (SPEC §9): `conflict` when Rounds' workflow
    or clinical gate refused the last status Jira sent (`detail` says why)."""

    state: Literal["in_sync", "conflict"]
    detail: str | None = None
    jira_status: str | None = None
    last_event_at: datetime | None = None
    changed_by: str | None = Field(
        default=None, description="Jira user of the last event: accountId (Cloud) or key (Server)"
    )


Criteria = Annotated[list[AcceptanceCriterion], Field(max_length=50)]


class StoryCreate(InputModel):
    product_id: uuid.UUID
    roadmap_item_id: uuid.UUID | None = None
    title: Title
    persona: Persona | None = None
    as_a: LongText | None = None
    i_want: LongText | None = None
    so_that: LongText | None = None
    description: LongText = ""
    acceptance_criteria: Criteria = Field(default_factory=list)
    status: StoryCreateStatus = Field(
        default=StoryCreateStatus.BACKLOG, description="new stories start in backlog or ready"
    )
    story_points: Points | None = None
    rank: Rank | None = None
    sprint: Sprint | None = None
    labels: Tags = Field(default_factory=list)
    clinical_review_required: StrictBool = False
    jira_key: JiraKey | None = None
    assignee_sub: Subject | None = Field(None, description="A member of the product")


class StoryUpdate(PatchModel):
    roadmap_item_id: uuid.UUID | None = None
    title: Omittable[Title] = None
    persona: Persona | None = None
    as_a: LongText | None = None
    i_want: LongText | None = None
    so_that: LongText | None = None
    description: Omittable[LongText] = None
    acceptance_criteria: Omittable[Criteria] = None
    status: Omittable[StoryStatus] = None
    story_points: Points | None = None
    rank: Omittable[Rank] = None
    sprint: Sprint | None = None
    labels: Omittable[Tags] = None
    clinical_review_required: Omittable[StrictBool] = None
    jira_key: JiraKey | None = None
    assignee_sub: Subject | None = Field(None, description="A member of the product")


class ClinicalReviewInput(InputModel):
    status: ReviewDecision
    comment: Annotated[StrictStr, Field(max_length=5000)] | None = None


class StoryOut(OutputModel):
    id: uuid.UUID
    product_id: uuid.UUID
    roadmap_item_id: uuid.UUID | None
    key: str
    title: str
    persona: str | None
    as_a: str | None
    i_want: str | None
    so_that: str | None
    description: str
    acceptance_criteria: list[AcceptanceCriterionOut]
    status: StoryStatus
    story_points: int | None
    rank: str
    sprint: str | None
    labels: list[str]
    clinical_review_required: bool
    clinical_review: ClinicalReviewOut | None
    jira_key: str | None
    jira_sync: JiraSyncOut | None = Field(description="Jira sync state; null when never synced")
    assignee_sub: str | None = Field(description="Who works on it (a product member)")
    evidence_count: int
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None


class StoryReviewOut(OutputModel):
    id: uuid.UUID
    story_id: uuid.UUID
    version: int = Field(description="The story version that was reviewed")
    status: ReviewDecision
    reviewer_sub: str
    reviewed_at: datetime
    comment: str | None
    current: bool = Field(description="Whether this review is the story's clinical review now")
    ended_at: datetime | None
    ended_by: str | None = Field(description="Who superseded it or changed the content")
    end_reason: str | None = Field(description="superseded or content_changed")
    changed_fields: list[str] | None = Field(description="Reviewed fields whose change ended it")

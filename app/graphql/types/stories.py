"""GraphQL types of stories and their clinical reviews, and the stories connection of a
product or roadmap item."""

from __future__ import annotations

import datetime
import uuid
from functools import partial
from typing import Any, cast

import strawberry

from app.graphql.columns import requested_columns
from app.graphql.fastpath import JsonPage
from app.graphql.sorts import StorySort
from app.graphql.types.comments import comments_field
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Info,
    LazyProduct,
    LazyRoadmapItem,
    child_connection,
    from_model,
    history_query,
    list_query,
    register_enums,
    rendered_page,
)
from app.graphql.types.insights import insights_field
from app.stories import service as stories_service
from app.stories.models import Story
from app.stories.repository import StoryRepository, StoryReviewRepository
from app.stories.schemas import (
    AcceptanceCriterionOut,
    ReviewStatus,
    StoryOut,
    StoryReviewOut,
    StoryStatus,
)

register_enums(StoryStatus, ReviewStatus)


def stories_page(parent: stories_service.StoryParent) -> dict[str, JsonPage]:
    """The stories connection of a product or roadmap item rendered by the database when the
    document asks only for plain node fields (fast path, PostgreSQL)."""
    return rendered_page(
        Story,
        partial(stories_service.stories_json_by, parent=parent),
        partial(stories_service.nested_stories_json, parent=parent),
        ("status", "sprint"),
    )


async def stories_connection(
    info: Info,
    parent: Any,
    node_id: strawberry.ID | uuid.UUID,
    first: int,
    after: str | None,
    sort: StorySort | None,
    include_archived: bool,
    filters: tuple[Any, ...],
) -> Connection[Any]:
    loaders = info.context.loaders
    return await child_connection(
        loaders.stories_by(parent),
        loaders.story_count_by(parent),
        StoryRepository,
        node_id,
        list_query(first, after, sort, include_archived),
        filters,
        page_key=(*filters, requested_columns(info)),
    )


def stories_field(parent: stories_service.StoryParent) -> Any:
    """The `stories` connection field of a product or roadmap item (`parent`), rendered by
    the database when it can (stories_page)."""

    async def stories(
        root: Any,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: StorySort | None = None,
        include_archived: bool = False,
        status: StoryStatus | None = None,
        sprint: str | None = None,
    ) -> Connection[StoryType]:
        return await stories_connection(
            info, parent, root.id, first, after, sort, include_archived, (status, sprint)
        )

    return strawberry.field(resolver=stories, metadata=stories_page(parent))


@strawberry.type(name="StoryReview", description="One clinical review of one story version.")
@from_model(StoryReviewOut)
class StoryReviewType:
    status: ReviewStatus  # GraphQL's enum has `pending` too
    ended_at: datetime.datetime | None  # what the resolvers read, for the type checker

    @strawberry.field(description="Whether this review is the story's clinical review now")
    def current(self) -> bool:
        return self.ended_at is None


@strawberry.type(name="AcceptanceCriterion")
@from_model(AcceptanceCriterionOut)
class AcceptanceCriterionType:
    id: str  # the criterion's own key, not a node id


# Built here from a story's JSON columns, so their fields stay written out (the type checker
# sees a derived field only where a class declares it).
@strawberry.type(name="ClinicalReview")
class ClinicalReviewType:
    status: ReviewStatus
    reviewer_sub: str | None
    reviewed_at: datetime.datetime | None
    comment: str | None


@strawberry.type(name="JiraSync", description="Whether a story follows its Jira issue.")
class JiraSyncType:
    state: str = strawberry.field(description="in_sync or conflict")
    detail: str | None
    jira_status: str | None
    last_event_at: datetime.datetime | None
    changed_by: str | None


def _story_row(source: StoryType) -> Story:
    """The `self` of a StoryType resolver: the Story row its parent field resolved to (every
    Story field resolves from a row, nothing builds a StoryType), whose JSON columns these
    resolvers read under their own field names."""
    return cast(Story, source)


@strawberry.type(name="Story")
@from_model(StoryOut, descriptions={"assignee_sub": None})
class StoryType:
    id: strawberry.ID  # what the resolvers read, for the type checker
    product_id: uuid.UUID
    roadmap_item_id: uuid.UUID | None

    @strawberry.field
    def acceptance_criteria(self) -> list[AcceptanceCriterionType]:
        return [AcceptanceCriterionType(**c) for c in _story_row(self).acceptance_criteria or ()]

    @strawberry.field
    def clinical_review(self) -> ClinicalReviewType | None:
        r = _story_row(self).clinical_review
        if r is None:
            return None
        at = r.get("reviewed_at")
        return ClinicalReviewType(
            status=ReviewStatus(r["status"]),
            reviewer_sub=r.get("reviewer_sub"),
            reviewed_at=datetime.datetime.fromisoformat(at) if at else None,
            comment=r.get("comment"),
        )

    @strawberry.field(description="Jira sync state (SPEC §9); null when never synced.")
    def jira_sync(self) -> JiraSyncType | None:
        s = _story_row(self).jira_sync
        if s is None:
            return None
        at = s.get("last_event_at")
        return JiraSyncType(
            state=s["state"],
            detail=s.get("detail"),
            jira_status=s.get("jira_status"),
            last_event_at=datetime.datetime.fromisoformat(at) if at else None,
            changed_by=s.get("changed_by"),
        )

    @strawberry.field
    async def product(self, info: Info) -> LazyProduct | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field
    async def roadmap_item(self, info: Info) -> LazyRoadmapItem | None:
        if self.roadmap_item_id is None:
            return None
        return await info.context.loaders.roadmap_item.load(self.roadmap_item_id)

    insights = insights_field("story_id", "Insights linked to this story as evidence.")

    @strawberry.field(description="Clinical reviews of this story, current and ended, newest first")
    async def reviews(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[StoryReviewType]:
        loaders = info.context.loaders
        return await child_connection(
            loaders.reviews_by_story,
            loaders.review_count_by_story,
            StoryReviewRepository,
            self.id,
            history_query(first, after),
        )

    comments = comments_field("story", "Comments on this story, oldest first.")

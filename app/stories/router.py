from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import Context
from app.api.params import IfMatch, query_model
from app.api.resources import ResourceRoutes
from app.api.responses import (
    Paginated,
    list_params_for,
    page_response,
    resource_response,
)
from app.products.params import PRODUCT_REF_DESCRIPTION, ProductRef, product_filter
from app.stories import service
from app.stories.filters import ASSIGNEE_DESCRIPTION, LABELS_DESCRIPTION, split_labels
from app.stories.repository import StoryRepository
from app.stories.schemas import (
    ClinicalReviewInput,
    StoryCreate,
    StoryOut,
    StoryReviewOut,
    StoryStatus,
    StoryUpdate,
)

router = APIRouter(prefix="/stories", tags=["stories"])
StoryRef = Annotated[
    str, Path(alias="story_ref", max_length=64, description="Story id or key, e.g. SEPS-12")
]


class StoryList(Paginated[StoryOut]):
    pass


class StoryReviewList(Paginated[StoryReviewOut]):
    pass


# The hottest operation: its ~11 query parameters are one model, validated in one pass
# (app.api.params.query_model, published parameter by parameter). A
# class on the generated model so that type checkers see a class (its fields are dynamic).
_StoryListBase = list_params_for(
    "StoryListParams",
    StoryRepository.sortable,
    StoryOut,
    product_id=(ProductRef | None, Field(None, description=PRODUCT_REF_DESCRIPTION)),
    roadmap_item_id=(uuid.UUID | None, None),
    status=(StoryStatus | None, None),
    sprint=(str | None, None),
    assignee=(str | None, Field(None, max_length=255, description=ASSIGNEE_DESCRIPTION)),
    labels=(str | None, Field(None, max_length=1000, description=LABELS_DESCRIPTION)),
)


class StoryListParams(_StoryListBase):  # type: ignore[valid-type,misc]  # built at import time
    pass


@router.get("", response_model=StoryList)
async def list_stories(
    request: Request,
    ctx: Context,
    params: Annotated[StoryListParams, Depends(query_model(StoryListParams))],
) -> Response:
    """List stories (default: backlog rank order)."""
    fields = params.selected()
    page = await service.list_stories(
        ctx,
        params.list_query(),
        product_id=await product_filter(ctx, params.product_id),
        roadmap_item_id=params.roadmap_item_id,
        status=params.status,
        sprint=params.sprint,
        assignee=params.assignee,
        labels=split_labels(params.labels),
        columns=fields,
    )
    return page_response(request, page, StoryOut, fields)


one = ResourceRoutes(router, "/{story_ref}", StoryRef, StoryOut)
one.create(StoryCreate, service.create_story, "Create a story.")
one.read(service.get_story, "Get a story by id or key.")
one.update(StoryUpdate, service.update_story, "Update a story (status moves follow the workflow).")
one.archive(service.archive_story, "Archive a story.")


@router.post("/{story_ref}/clinical-review", response_model=StoryOut)
async def review_story(
    ctx: Context, story_ref: StoryRef, body: ClinicalReviewInput, if_match: IfMatch = None
) -> Response:
    """Record a clinical review of the story's current content (member clinician)."""
    story = await service.review_story(ctx, story_ref, body, if_match=if_match)
    return resource_response(story, StoryOut)


one.history(
    "/reviews",
    StoryReviewList,
    StoryReviewOut,
    service.list_reviews,
    "List a story's clinical reviews, current and ended, newest first.",
    name="list_story_reviews",
)

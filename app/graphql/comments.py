"""GraphQL comment mutations: the same service as the REST comment routes."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry

from app.comments import service
from app.comments.models import Comment
from app.comments.schemas import CommentInput
from app.graphql.inputs import input_type, to_model
from app.graphql.types import Info, parse_id
from app.graphql.types.comments import CommentType, CommentWarningType, CommentWrittenType

if TYPE_CHECKING:
    # Built at run time from CommentInput (app/graphql/inputs.py): opaque to a type checker.
    CommentInputType: TypeAlias = Any
else:
    CommentInputType = input_type(CommentInput, "CommentInput")


@strawberry.enum(name="CommentParent")
class CommentParentEnum(Enum):
    STORY = "story"
    ROADMAP_ITEM = "roadmap_item"


def _ref(on: CommentParentEnum, id: strawberry.ID):
    # stories are addressed by id or key (as over REST); roadmap items by id
    return str(id) if on is CommentParentEnum.STORY else parse_id(id)


def _written(w: service.Written) -> CommentWrittenType:
    warning = w.warning
    return CommentWrittenType(
        comment=w.comment,  # type: ignore[arg-type]  # strawberry reads the row by attribute
        warning=CommentWarningType(**warning) if warning else None,
    )


@strawberry.type
class CommentMutation:
    @strawberry.mutation(description="Comment on a story or roadmap item (PHI is redacted).")
    async def add_comment(
        self, info: Info, on: CommentParentEnum, id: strawberry.ID, input: CommentInputType
    ) -> CommentWrittenType:
        data = to_model(CommentInput, input)
        written = await service.create_comment(info.context.ctx, on.value, _ref(on, id), data)
        return _written(written)

    @strawberry.mutation(description="Edit your own comment (the previous text is kept).")
    async def edit_comment(
        self,
        info: Info,
        on: CommentParentEnum,
        id: strawberry.ID,
        comment_id: strawberry.ID,
        input: CommentInputType,
        if_match: str | None = None,
    ) -> CommentWrittenType:
        data = to_model(CommentInput, input)
        written = await service.update_comment(
            info.context.ctx,
            on.value,
            _ref(on, id),
            parse_id(comment_id, "commentId"),
            data,
            if_match=if_match,
        )
        return _written(written)

    @strawberry.mutation(description="Delete (archive) your own comment.", graphql_type=CommentType)
    async def delete_comment(
        self,
        info: Info,
        on: CommentParentEnum,
        id: strawberry.ID,
        comment_id: strawberry.ID,
        if_match: str | None = None,
    ) -> Comment:
        return await service.delete_comment(
            info.context.ctx,
            on.value,
            _ref(on, id),
            parse_id(comment_id, "commentId"),
            if_match=if_match,
        )

"""GraphQL types of comments (issue #16), and the comments connection of a story or item."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.comments.repository import CommentRepository
from app.comments.schemas import CommentOut
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Info,
    child_connection,
    from_model,
    history_query,
)


@strawberry.type(name="Comment")
@from_model(
    CommentOut,
    descriptions={
        "body": "As stored: detected identifiers redacted",
        "phi_redacted": None,
        "mentions": None,
    },
)
class CommentType:
    pass


@strawberry.type(name="CommentWarning")
class CommentWarningType:
    code: str
    categories: list[str]
    detail: str


@strawberry.type(name="CommentWritten", description="A comment as written, for its author")
class CommentWrittenType:
    comment: CommentType
    warning: CommentWarningType | None


async def comments_connection(
    info: Info, parent: Any, node_id: strawberry.ID | uuid.UUID, first: int, after: str | None
) -> Connection[CommentType]:
    """One batched statement per query level for every parent's comment page."""
    loaders = info.context.loaders
    return await child_connection(
        loaders.comments_by(parent),
        loaders.comment_count_by(parent),
        CommentRepository,
        node_id,
        history_query(first, after),
    )


def comments_field(parent: str, description: str) -> Any:
    """The `comments` connection field of a story or roadmap item (`parent`)."""

    async def comments(
        root: Any, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[CommentType]:
        return await comments_connection(info, parent, root.id, first, after)

    return strawberry.field(resolver=comments, description=description)

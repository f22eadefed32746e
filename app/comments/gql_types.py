"""GraphQL types of comments (no import of app.graphql.types: that module uses these)."""

from __future__ import annotations

import datetime
import uuid

import strawberry


@strawberry.type(name="Comment")
class CommentType:
    id: strawberry.ID
    product_id: uuid.UUID
    story_id: uuid.UUID | None
    roadmap_item_id: uuid.UUID | None
    author_sub: str
    body: str = strawberry.field(description="As stored: detected identifiers redacted")
    phi_redacted: bool
    mentions: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None


@strawberry.type(name="CommentWarning")
class CommentWarningType:
    code: str
    categories: list[str]
    detail: str


@strawberry.type(name="CommentWritten", description="A comment as written, for its author")
class CommentWrittenType:
    comment: CommentType
    warning: CommentWarningType | None

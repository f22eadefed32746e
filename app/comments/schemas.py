from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from app.core.schemas import InputModel, OutputModel

MAX_BODY = 10_000
Body = Annotated[StrictStr, Field(min_length=1, max_length=MAX_BODY)]


class CommentInput(InputModel):
    """A comment's text. Mention product members as @subject."""

    body: Body


class CommentOut(OutputModel):
    id: uuid.UUID
    product_id: uuid.UUID
    story_id: uuid.UUID | None
    roadmap_item_id: uuid.UUID | None
    author_sub: str
    body: str = Field(description="As stored: identifiers the PHI detector found are redacted")
    phi_redacted: bool = Field(description="Whether the PHI detector redacted part of the text")
    mentions: list[str] = Field(description="Subjects of product members mentioned as @subject")
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None


class CommentWarning(OutputModel):
    code: str = Field(description="phi_redacted")
    categories: list[str] = Field(description="Kinds of identifiers redacted, e.g. name, phone")
    detail: str


class CommentWriteOut(CommentOut):
    """The author's view of a write: the comment, and what was redacted from the text sent."""

    warning: CommentWarning | None = Field(
        None, description="Set when the text sent had identifiers; they were not stored"
    )


class CommentRevisionOut(OutputModel):
    comment_id: uuid.UUID
    version: int = Field(description="The comment version this text was")
    body: str
    edited_at: datetime = Field(description="When it was replaced")

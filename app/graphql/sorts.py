"""The `sort` argument of each GraphQL list: an enum per resource, generated from the same
`sortable` list its repository checks and REST publishes (app/api/responses.py
list_query_for), so a generated client cannot send a sort the server refuses.

Each sortable field gives two values, `FIELD_ASC` and `FIELD_DESC` (GraphQL enum values
cannot start with REST's `-`); a value's Python value is REST's sort string (`rice_score`,
`-rice_score`), which is what list_query passes on, so the services, the fast path and the
database-rendered pages see the same strings as before."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

import strawberry

from app.audit import repository as audit_repository
from app.insights.repository import InsightRepository
from app.interviews.repository import InterviewRepository
from app.products.repository import ProductRepository
from app.roadmap.repository import RoadmapItemRepository
from app.stories.repository import StoryRepository


def sort_enum(name: str, sortable: Sequence[str], default: str) -> type[enum.Enum]:
    """`NameSort`: FIELD_ASC / FIELD_DESC for each sortable field, valued as REST's sort."""
    members = {
        f"{field.upper()}_{way}": ("-" if way == "DESC" else "") + field
        for field in sortable
        for way in ("ASC", "DESC")
    }
    shown = default.removeprefix("-").upper() + ("_DESC" if default.startswith("-") else "_ASC")
    # mypy types only functional Enums named by a literal; this one is named per resource.
    made = enum.Enum(name, members, type=str)  # type: ignore[misc]
    return strawberry.enum(made, description=f"Order of the list (default {shown}).")


if TYPE_CHECKING:  # to the type checker they are the sort strings they are valued as
    ProductSort = str
    RoadmapItemSort = str
    StorySort = str
    InterviewSort = str
    InsightSort = str
    AuditEventSort = str
else:
    ProductSort = sort_enum(
        "ProductSort", ProductRepository.sortable, ProductRepository.default_sort
    )
    RoadmapItemSort = sort_enum(
        "RoadmapItemSort", RoadmapItemRepository.sortable, RoadmapItemRepository.default_sort
    )
    StorySort = sort_enum("StorySort", StoryRepository.sortable, StoryRepository.default_sort)
    InterviewSort = sort_enum(
        "InterviewSort", InterviewRepository.sortable, InterviewRepository.default_sort
    )
    InsightSort = sort_enum(
        "InsightSort", InsightRepository.sortable, InsightRepository.default_sort
    )
    AuditEventSort = sort_enum(
        "AuditEventSort", tuple(audit_repository.SORTABLE), audit_repository.DEFAULT_SORT
    )

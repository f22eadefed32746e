"""The shared mechanics of every resource: repository base, list query, ETags, patching."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Invalid, PreconditionFailed
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, SortSpec, apply_keyset, make_page
from app.db.types import utcnow

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """limit/cursor/sort/include_archived, as REST query params and GraphQL arguments."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    sort: str | None = None
    include_archived: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(
                f"limit must be between 1 and {MAX_LIMIT}.",
                errors=[{"loc": ["query", "limit"], "msg": f"must be 1..{MAX_LIMIT}"}],
            )


class Repository(Generic[M]):
    """All SQL of one resource lives in its subclass; this holds the shared parts."""

    model: ClassVar[type[Any]]
    sortable: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    default_sort: ClassVar[str] = "created_at"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def base(self, *, include_archived: bool = False) -> Select:
        stmt = select(self.model)
        if not include_archived:
            stmt = stmt.where(self.model.archived_at.is_(None))
        return stmt

    async def get(self, id_: uuid.UUID) -> M | None:
        return await self.session.get(self.model, id_)

    async def page(self, stmt: Select, query: ListQuery) -> Page[M]:
        sort = SortSpec.parse(query.sort, dict.fromkeys(self.sortable), self.default_sort)
        stmt = apply_keyset(
            stmt,
            column=getattr(self.model, sort.field),
            id_column=self.model.id,
            sort=sort,
            cursor=query.cursor,
            limit=query.limit,
        )
        rows = list((await self.session.scalars(stmt)).all())
        return make_page(rows, sort=sort, limit=query.limit, sort_attr=sort.field)

    async def add(self, obj: M) -> M:
        self.session.add(obj)
        await self.session.flush()
        # Load server-computed attributes (evidence counts) now: lazy loads cannot await.
        await self.session.refresh(obj)
        return obj


async def save(session: AsyncSession, obj: Any) -> None:
    """Flush, then reload what the flush expired (SQL-computed attributes such as evidence
    counts), because a lazy load cannot happen later in async code."""
    await session.flush()
    expired = inspect(obj).expired_attributes
    if expired:
        await session.refresh(obj, list(expired))


def etag(obj: Any) -> str:
    return f'"{obj.version}"'


def check_if_match(obj: Any, if_match: str | None) -> None:
    """412 unless If-Match is absent, '*', or names the current version's ETag."""
    if if_match is None:
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" in tags or etag(obj) in tags:
        return
    raise PreconditionFailed(
        f"The resource has changed (current ETag {etag(obj)}); fetch it again and retry."
    )


def apply_changes(obj: Any, changes: dict[str, Any]) -> list[str]:
    """Set changed attributes; bump version once if anything changed. Returns field names."""
    changed = []
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    if changed:
        bump(obj)
    return changed


def bump(obj: Any) -> None:
    """A new version (and ETag) for a resource whose state changed."""
    obj.version += 1
    obj.updated_at = utcnow()


def archive(obj: Any) -> list[str]:
    """Soft-delete: DELETE never removes rows."""
    if obj.archived_at is not None:
        return []
    now: datetime = utcnow()
    obj.archived_at = now
    obj.updated_at = now
    obj.version += 1
    return ["archived_at"]

"""An append-only history of one parent resource (a roadmap item's exec approvals, a story's
clinical reviews): entries newest first, never archived, at most one of them current."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar, Generic

from sqlalchemy import Select, select

from app.authz import Permission, authorize
from app.core.context import Ctx
from app.core.pagination import Page
from app.core.repository import ListQuery, M, Repository


class HistoryRepository(Repository[M]):
    """The SQL of one history; a subclass names its model, `parent_key` (the attribute of
    the parent's id) and `ended_key` (set when an entry stops being the current one), and
    sorts on its timestamp (`sortable`, `default_sort`)."""

    parent_key: ClassVar[str]
    ended_key: ClassVar[str]

    def base(self, *, include_archived: bool = False) -> Select:
        return select(self.model)

    def filtered(self, *, include_archived: bool = False, **parent: Any) -> Select:
        stmt = self.base()
        for attr, value in parent.items():
            if value is not None:
                stmt = stmt.where(getattr(self.model, attr) == value)
        return stmt

    def of(self, parent_id: uuid.UUID) -> Select:
        return self.base().where(getattr(self.model, self.parent_key) == parent_id)

    async def current(self, parent_id: uuid.UUID) -> M | None:
        """The entry that counts now, if any."""
        at = getattr(self.model, self.sortable[0])
        stmt = (
            self.of(parent_id)
            .where(getattr(self.model, self.ended_key).is_(None))
            .order_by(at.desc(), self.model.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def history(self, parent_id: uuid.UUID, query: ListQuery) -> Page[M]:
        return await self.page(self.of(parent_id), query)

    async def histories(
        self, parent_ids: Collection[uuid.UUID], query: ListQuery
    ) -> dict[uuid.UUID, Page[M]]:
        """One history page per parent, in one statement (GraphQL's nested connections)."""
        key = getattr(self.model, self.parent_key)
        return await self.pages_by(self.base(), query, key, parent_ids)

    async def count_by_parent(self, parent_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await self.count_by(self.base(), getattr(self.model, self.parent_key), parent_ids)


@dataclass(frozen=True, slots=True)
class History(Generic[M]):
    """The reads of one history, for whoever may read its parent (`permission`); each is
    audited as a read of the parent (`resource`)."""

    repository: type[HistoryRepository[M]]
    permission: Permission
    resource: str

    async def page(
        self, ctx: Ctx, parent_id: uuid.UUID, product_id: uuid.UUID, query: ListQuery
    ) -> Page[M]:
        """The history of a parent the caller has fetched (and so may read)."""
        page = await self.repository(ctx.session).history(parent_id, query)
        ctx.audit.touch("read", self.resource, [parent_id], product_id=product_id)
        return page

    async def pages(
        self, ctx: Ctx, parent_ids: Collection[uuid.UUID], query: ListQuery
    ) -> dict[uuid.UUID, Page[M]]:
        """One history page per (already readable) parent, in one statement."""
        authorize(ctx.principal, self.permission)
        pages = await self.repository(ctx.session).histories(parent_ids, query)
        ctx.audit.touch("read", self.resource, parent_ids)
        return pages

    async def counts(self, ctx: Ctx, parent_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many entries each parent's history has, in one statement."""
        authorize(ctx.principal, self.permission)
        return await self.repository(ctx.session).count_by_parent(parent_ids)

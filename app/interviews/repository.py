from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page
from app.core.repository import ListQuery, Repository
from app.interviews.models import Interview


class InterviewRepository(Repository[Interview]):
    model = Interview
    sortable = ("created_at", "updated_at", "conducted_on", "title")
    default_sort = "-conducted_on"

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: uuid.UUID | None = None,
        within: Collection[uuid.UUID] | None = None,
    ) -> Page[Interview]:
        """`within` limits rows to those products (None: no limit)."""
        stmt = self.filtered(
            include_archived=query.include_archived, product_id=product_id, within=within
        )
        return await self.page(stmt, query)

    def filtered(
        self,
        *,
        include_archived: bool = False,
        product_id: uuid.UUID | None = None,
        within: Collection[uuid.UUID] | None = None,
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if product_id is not None:
            stmt = stmt.where(Interview.product_id == product_id)
        if within is not None:
            stmt = stmt.where(Interview.product_id.in_(list(within)))
        return stmt

    async def interviewers(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Interview.id, Interview.interviewer_sub).where(Interview.id.in_(list(ids)))
        )
        return {r[0]: r[1] for r in rows}


# What other packages copied out of an interview, erased with it on purge: audit field name
# ("insight.quote") -> an eraser returning the ids of the rows it changed. Those packages
# register here (app.insights does when imported), so interviews import none of them.
PurgeEraser = Callable[[AsyncSession, uuid.UUID], Awaitable[list[uuid.UUID]]]
PURGE_ERASERS: dict[str, PurgeEraser] = {}

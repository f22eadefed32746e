from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection

from sqlalchemy import Select, select, update

from app.core.crud import ListQuery, Repository
from app.core.pagination import Page
from app.insights.models import Insight
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

    async def erase_insight_quotes(self, interview_id: uuid.UUID) -> builtins.list[uuid.UUID]:
        """Irreversibly drop the quotes of an interview's insights (consent withdrawn)."""
        ids = list(
            await self.session.scalars(
                select(Insight.id).where(Insight.interview_id == interview_id)
            )
        )
        if ids:
            await self.session.execute(
                update(Insight)
                .where(Insight.interview_id == interview_id)
                .values(quote=None, quote_redacted=None, phi_detected=False)
                .execution_options(synchronize_session=False)
            )
        return ids

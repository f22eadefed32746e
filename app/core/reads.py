"""The reads of one resource's pages per parent (a product's roadmap items, a roadmap item's
stories), whichever form they take: read-only rows, rendered as JSON text by the database,
or nested in a rendered page of their parents. Each form has the same permission check and
audits the same rows, so a resource's service declares them once (`PagesBy`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Generic

from app.authz import Permission, authorize
from app.core.context import Ctx
from app.core.jsonpages import JsonMember, JsonNest, JsonPages
from app.core.pagination import Page
from app.core.repository import ListQuery, M, Repository


@dataclass(frozen=True, slots=True)
class PagesBy(Generic[M]):
    """First pages of `repository`'s `filtered(**filters)` per parent, for whoever holds
    `permission`; the rows served are audited as a search of `resource`."""

    repository: type[Repository[M]]
    permission: Permission
    resource: str

    async def rows(
        self,
        ctx: Ctx,
        query: ListQuery,
        key: Any,
        keys: Collection[uuid.UUID],
        *,
        columns: Collection[str] | None = None,
        **filters: Any,
    ) -> dict[uuid.UUID, Page[M]]:
        """One page per value of `key` (a column, e.g. Story.product_id), all in one
        statement, as read-only rows; with `columns` (attribute names) the rows hold only
        those (see `Repository.pages_by`)."""
        authorize(ctx.principal, self.permission)
        pages = await self.repository(ctx.session).filtered_pages_by(
            query, key, keys, columns=columns, **filters
        )
        served: list[Any] = [row for page in pages.values() for row in page.items]
        ctx.audit.touch("search", self.resource, [row.id for row in served])
        return pages

    async def json(
        self,
        ctx: Ctx,
        query: ListQuery,
        key: Any,
        keys: Collection[uuid.UUID],
        members: tuple[JsonMember, ...],
        *,
        total: bool = False,
        **filters: Any,
    ) -> dict[uuid.UUID, tuple[str, int]] | None:
        """`rows`' pages rendered as JSON text by the database (PostgreSQL): one array of
        objects with `members` per parent (parents without rows left out), with its number
        of rows (0 unless `total`); the same rows, order, permission and audit. None when
        the rows must be read instead (see `Repository.json_pages_by`)."""
        authorize(ctx.principal, self.permission)
        repo = self.repository(ctx.session)
        found = await repo.json_pages_by(query, key, keys, members, total=total, **filters)
        if found is None:
            return None
        pages = found.pages
        self._touch(ctx, [i for k in keys if k in pages for i in pages[k][1]], None, found)
        totals = found.totals
        return {k: (text, totals.get(k, 0)) for k, (text, _) in pages.items()}

    async def json_of(
        self,
        ctx: Ctx,
        query: ListQuery,
        key: Any,
        value: uuid.UUID,
        members: tuple[JsonMember, ...],
        *,
        product_id: uuid.UUID | None = None,
        **filters: Any,
    ) -> str | None:
        """`json` of one parent (`key` = `value`), as a list filtered on it: its page's
        text (`[]` when empty), audited with `product_id`."""
        authorize(ctx.principal, self.permission)
        repo = self.repository(ctx.session)
        found = await repo.json_pages_by(query, key, [value], members, **filters)
        if found is None:
            return None
        text, ids = found.pages.get(value, ("[]", []))
        self._touch(ctx, ids, product_id, found)
        return text

    def nest(
        self,
        ctx: Ctx,
        query: ListQuery,
        members: tuple[JsonMember, ...],
        parts: tuple[tuple[str, Any], ...],
        *,
        key_attr: str,
        **filters: Any,
    ) -> JsonNest:
        """The pages of each parent a JSON page of those parents renders (`key_attr` = the
        parent's id; see JsonNest): the same rows, permission and audit as `rows`."""
        authorize(ctx.principal, self.permission)
        return self.repository.json_nest(
            key_attr=key_attr,
            query=query,
            members=members,
            parts=parts,
            touch=lambda ids: ctx.audit.touch("search", self.resource, ids),
            **filters,
        )

    def _touch(
        self, ctx: Ctx, ids: list[str], product_id: uuid.UUID | None, found: JsonPages
    ) -> None:
        """Audit what a JSON read served: its rows' ids in parent order, as `rows` does,
        then those of each page nested in it."""
        ctx.audit.touch("search", self.resource, ids, product_id=product_id)
        found.touch_nested()

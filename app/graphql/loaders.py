"""Per-request DataLoaders: every nested edge is one batched service call per query level,
so the statements a query runs grow with its depth, never with the rows it returns."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from app.comments import service as comments
from app.core.context import Ctx
from app.core.pagination import Page
from app.core.repository import ListQuery
from app.insights import service as insights
from app.interviews import service as interviews
from app.products import service as products
from app.roadmap import service as roadmap
from app.stories import service as stories

# A paginated edge's key: (parent id, list query, filters); one statement per distinct
# (list query, filters) group, i.e. per field occurrence in the query document. The filters of
# row-backed edges end with the attribute names the document needs (None: all), see columns.py.
EdgeKey = tuple[uuid.UUID, ListQuery, tuple[Any, ...]]
CountKey = tuple[uuid.UUID, bool, tuple[Any, ...]]


def _grouped(
    fetch: Callable[[list[uuid.UUID], Any, tuple[Any, ...]], Awaitable[dict[uuid.UUID, Any]]],
    empty: Callable[[], Any],
) -> Callable[[Sequence[tuple[uuid.UUID, Any, tuple[Any, ...]]]], Awaitable[list[Any]]]:
    async def load(keys: Sequence[tuple[uuid.UUID, Any, tuple[Any, ...]]]) -> list[Any]:
        groups: dict[tuple[Hashable, tuple[Any, ...]], list[uuid.UUID]] = defaultdict(list)
        for parent, arg, filters in keys:
            groups[(arg, filters)].append(parent)
        results: dict[tuple[uuid.UUID, Any, tuple[Any, ...]], Any] = {}
        for (arg, filters), parents in groups.items():
            found = await fetch(parents, arg, filters)
            for p in parents:
                results[(p, arg, filters)] = found.get(p)
        return [r if (r := results.get(k)) is not None else empty() for k in keys]

    return load


def _by_id(
    fetch: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, Any]]],
) -> Callable[[Sequence[uuid.UUID]], Awaitable[list[Any]]]:
    async def load(keys: Sequence[uuid.UUID]) -> list[Any]:
        found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(k) for k in keys]

    return load


def _empty_page() -> Page[Any]:
    return Page([], None)


def _zero() -> int:
    return 0


class Loaders:
    """Created once per request with the request's Ctx; each loader batches one edge."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    def _get(self, name: str, make: Callable[[], Callable[..., Awaitable[list[Any]]]]):
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = DataLoader(load_fn=make())
        return loader

    # --- by id -------------------------------------------------------------------------
    @property
    def product(self) -> DataLoader[uuid.UUID, Any]:
        return self._get(
            "product", lambda: _by_id(lambda ids: products.products_by_ids(self.ctx, ids))
        )

    @property
    def roadmap_item(self) -> DataLoader[uuid.UUID, Any]:
        return self._get(
            "roadmap_item",
            lambda: _by_id(lambda ids: roadmap.roadmap_items_by_ids(self.ctx, ids)),
        )

    @property
    def interview(self) -> DataLoader[uuid.UUID, Any]:
        return self._get(
            "interview", lambda: _by_id(lambda ids: interviews.interviews_by_ids(self.ctx, ids))
        )

    # --- paginated edges ---------------------------------------------------------------
    @property
    def roadmap_items_by_product(self) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, filters):
            status, horizon, columns = filters
            return await roadmap.roadmap_items_by_product(
                self.ctx, parents, query, status=status, horizon=horizon, columns=columns
            )

        return self._get("ri_by_product", lambda: _grouped(fetch, _empty_page))

    def stories_by(self, parent: stories.StoryParent) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, filters):
            status, sprint, columns = filters
            return await stories.stories_by(
                self.ctx, parent, parents, query, status=status, sprint=sprint, columns=columns
            )

        return self._get(f"stories_by_{parent}", lambda: _grouped(fetch, _empty_page))

    def insights_by(self, parent: insights.InsightParent) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, _filters):
            return await insights.insights_by(self.ctx, parent, parents, query)

        return self._get(f"insights_by_{parent}", lambda: _grouped(fetch, _empty_page))

    def comments_by(self, parent: comments.Parent) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, _filters):
            return await comments.comments_by(self.ctx, parent, parents, query)

        return self._get(f"comments_by_{parent}", lambda: _grouped(fetch, _empty_page))

    def comment_count_by(self, parent: comments.Parent) -> DataLoader[CountKey, int]:
        async def fetch(parents, _archived, _filters):
            return await comments.count_comments_by(self.ctx, parent, parents)

        return self._get(f"comment_count_by_{parent}", lambda: _grouped(fetch, _zero))

    @property
    def approvals_by_item(self) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, _filters):
            return await roadmap.approvals_by_items(self.ctx, parents, query)

        return self._get("approvals_by_item", lambda: _grouped(fetch, _empty_page))

    @property
    def reviews_by_story(self) -> DataLoader[EdgeKey, Page[Any]]:
        async def fetch(parents, query, _filters):
            return await stories.reviews_by_stories(self.ctx, parents, query)

        return self._get("reviews_by_story", lambda: _grouped(fetch, _empty_page))

    # --- counts (totalCount of nested connections) ----------------------------------------
    @property
    def approval_count_by_item(self) -> DataLoader[CountKey, int]:
        async def fetch(parents, _archived, _filters):
            return await roadmap.count_approvals_by_items(self.ctx, parents)

        return self._get("approval_count_by_item", lambda: _grouped(fetch, _zero))

    @property
    def review_count_by_story(self) -> DataLoader[CountKey, int]:
        async def fetch(parents, _archived, _filters):
            return await stories.count_reviews_by_stories(self.ctx, parents)

        return self._get("review_count_by_story", lambda: _grouped(fetch, _zero))

    @property
    def roadmap_item_count_by_product(self) -> DataLoader[CountKey, int]:
        async def fetch(parents, include_archived, filters):
            status, horizon = filters
            return await roadmap.count_roadmap_items_by_product(
                self.ctx, parents, include_archived=include_archived, status=status, horizon=horizon
            )

        return self._get("ri_count_by_product", lambda: _grouped(fetch, _zero))

    def story_count_by(self, parent: stories.StoryParent) -> DataLoader[CountKey, int]:
        async def fetch(parents, include_archived, filters):
            status, sprint = filters
            return await stories.count_stories_by(
                self.ctx,
                parent,
                parents,
                include_archived=include_archived,
                status=status,
                sprint=sprint,
            )

        return self._get(f"story_count_by_{parent}", lambda: _grouped(fetch, _zero))

    def insight_count_by(self, parent: insights.InsightParent) -> DataLoader[CountKey, int]:
        async def fetch(parents, include_archived, _filters):
            return await insights.count_insights_by(
                self.ctx, parent, parents, include_archived=include_archived
            )

        return self._get(f"insight_count_by_{parent}", lambda: _grouped(fetch, _zero))

"""What every domain's GraphQL types share: arguments (first/after/sort, ids, products),
the Relay connection, and the nested connection a parent's field resolves through its
per-request loaders."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from pydantic import BaseModel
from strawberry.types.field import StrawberryField

from app.core.errors import Invalid
from app.core.jsonpages import JsonMember, JsonNest
from app.core.pagination import MAX_LIMIT, Page, SortSpec, encode_cursor
from app.core.repository import COUNT_CAP, ListQuery
from app.graphql.fastpath import JSON_PAGE, JsonPage
from app.products import service as products_service

if TYPE_CHECKING:
    from strawberry.dataloader import DataLoader

    from app.core.repository import Repository
    from app.graphql.types.interviews import InterviewType
    from app.graphql.types.products import ProductType
    from app.graphql.types.roadmap import RoadmapItemType

T = TypeVar("T")
C = TypeVar("C", bound=type)
Info = strawberry.Info  # .context is the request's GraphQLContext
DEFAULT_FIRST = 50

# The types a domain's types point back to, resolved when the schema is built (a product's
# roadmap items and stories point back to their product): no import cycle between modules.
LazyProduct = Annotated["ProductType", strawberry.lazy("app.graphql.types.products")]
LazyRoadmapItem = Annotated["RoadmapItemType", strawberry.lazy("app.graphql.types.roadmap")]
LazyInterview = Annotated["InterviewType", strawberry.lazy("app.graphql.types.interviews")]


def register_enums(*enums: type[Enum]) -> None:
    """The services' enums as GraphQL enums (once: inputs may have registered them)."""
    for enum in enums:
        if not hasattr(enum, "_enum_definition"):
            strawberry.enum(enum)


# --- fields of the REST models ----------------------------------------------------------
def from_model(
    model: type[BaseModel],
    *,
    exclude: Collection[str] = (),
    descriptions: Mapping[str, str | None] | None = None,
) -> Callable[[C], C]:
    """A class decorator, under @strawberry.type: the type's plain fields are `model`'s (the
    REST representation, app/<domain>/schemas.py), in its order, with its types and field
    descriptions (`descriptions` overrides one, None drops it). `id` is an ID. A field the
    class annotates itself keeps the class's type and default (a GraphQL enum, JSON, another
    description, or a field its resolvers read, declared for the type checker); a field the
    class resolves (a method or a connection field) is not derived; `exclude` leaves others
    out. The class's own other annotations follow."""
    overrides = descriptions or {}

    def derive(cls: C) -> C:
        own: dict[str, Any] = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            resolved = isinstance(cls.__dict__.get(name), StrawberryField) and name not in own
            if name in exclude or resolved:
                continue
            if name in own:
                annotations[name] = own.pop(name)
                continue
            annotations[name] = strawberry.ID if name == "id" else info.annotation
            description = overrides.get(name, info.description)
            if description is not None:
                setattr(cls, name, strawberry.field(description=description))
        cls.__annotations__ = {**annotations, **own}
        return cls

    return derive


# --- arguments ---------------------------------------------------------------------------
def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def history_query(first: int, after: str | None) -> ListQuery:
    """first/after of a history connection (newest first; nothing is archived)."""
    return list_query(first, after, None, False)


def list_query(
    first: int, after: str | None, sort: str | None, include_archived: bool
) -> ListQuery:
    """GraphQL's first/after/sort (camelCase or snake_case) as the services' ListQuery."""
    if not 1 <= first <= MAX_LIMIT:
        raise Invalid(
            f"first must be between 1 and {MAX_LIMIT}.",
            errors=[{"loc": ["first"], "msg": f"must be 1..{MAX_LIMIT}"}],
        )
    return ListQuery(
        limit=first,
        cursor=after,
        sort=_snake(sort) if sort else None,
        include_archived=include_archived,
    )


def parse_id(value: str | uuid.UUID, arg: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(
            f"{arg} must be a UUID.", errors=[{"loc": [arg], "msg": "not a valid UUID"}]
        ) from None


async def product_arg(info: Info, value: str, arg: str = "id") -> uuid.UUID:
    """A product argument given by id or key, as REST's /products/{id} takes it."""
    ref = products_service.product_ref(value, arg)
    return await products_service.product_id_for(info.context.ctx, ref)


async def product_filter_arg(info: Info, value: str | None) -> uuid.UUID | None:
    """A `productId` list filter given by id or key, as REST's ?product_id= takes it."""
    if value is None:
        return None
    ref = products_service.product_ref(value, "productId")
    return await products_service.product_filter_id(info.context.ctx, ref)


# --- connections -------------------------------------------------------------------------
@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A Relay connection over a keyset-paginated list.")
class Connection(Generic[T]):
    nodes: list[T]
    page: strawberry.Private[Page[Any]]
    sort: strawberry.Private[SortSpec]
    after: strawberry.Private[str | None]
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    def _cursor(self, node: Any) -> str:
        return encode_cursor(self.sort, getattr(node, self.sort.field), node.id)

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self._cursor(n), node=n) for n in self.nodes]

    @strawberry.field
    def page_info(self) -> PageInfo:
        nodes = self.nodes
        return PageInfo(
            has_next_page=self.page.next_cursor is not None,
            has_previous_page=self.after is not None,
            start_cursor=self._cursor(nodes[0]) if nodes else None,
            end_cursor=self._cursor(nodes[-1]) if nodes else None,
        )

    @strawberry.field(
        description=f"How many rows match the filters, counted up to {COUNT_CAP:,}: exact "
        f"below {COUNT_CAP:,}; {COUNT_CAP:,} means that many or more (a count never reads a "
        "whole large product)."
    )
    async def total_count(self) -> int:
        return await self.counter()


def connection(
    page: Page[Any],
    query: ListQuery,
    repo: type[Repository[Any]] | Any,
    counter: Callable[[], Awaitable[int]],
) -> Connection[Any]:
    """`repo` supplies the sort whitelist (`sortable`, `default_sort`) the page was cut by."""
    sort = SortSpec.parse(query.sort, dict.fromkeys(repo.sortable), repo.default_sort)
    return Connection(nodes=page.items, page=page, sort=sort, after=query.cursor, counter=counter)


async def list_connection(
    info: Info,
    query: ListQuery,
    repo: type[Repository[Any]],
    list_page: Callable[..., Awaitable[Page[Any]]],
    count: Callable[..., Awaitable[int]],
    filters: dict[str, Any],
    prime: DataLoader[Any, Any] | None = None,
) -> Connection[Any]:
    """A top-level list: `list_page(ctx, query, **filters)` and, when totalCount is asked
    for, `count(ctx, include_archived=, **filters)` (the services REST's lists call); the
    rows primed into the `prime` loader, so a nested reference to one is not read again."""
    ctx = info.context.ctx
    page = await list_page(ctx, query, **filters)
    if prime is not None:
        prime.prime_many({row.id: row for row in page.items})
    include_archived = query.include_archived
    return connection(
        page, query, repo, lambda: count(ctx, include_archived=include_archived, **filters)
    )


async def child_connection(
    pages: DataLoader[Any, Any],
    counts: DataLoader[Any, Any],
    repo: type[Repository[Any]],
    node_id: strawberry.ID | uuid.UUID,
    query: ListQuery,
    filters: tuple[Any, ...] = (),
    page_key: tuple[Any, ...] | None = None,
) -> Connection[Any]:
    """A parent's page of children: one batched statement per query level for every parent
    (`pages`, keyed by parent id, query and `page_key`, the filters unless the loader also
    reads by the columns asked for) and its count on demand (`counts`)."""
    parent_id = parse_id(node_id)  # the row's UUID, declared as the type's ID
    page = await pages.load((parent_id, query, filters if page_key is None else page_key))
    include_archived = query.include_archived
    return connection(
        page, query, repo, lambda: counts.load((parent_id, include_archived, filters))
    )


def first_page(kwargs: dict[str, Any]) -> ListQuery | None:
    """The ListQuery of a connection's arguments, unless they ask for a page after a cursor
    (database-rendered pages are first pages; the repository decides whether its database
    renders them at all)."""
    if kwargs["after"] is not None:
        return None
    return list_query(kwargs["first"], None, kwargs["sort"], kwargs["include_archived"])


def rendered_page(
    model: type,
    fetch_page: Callable[..., Any],
    nest_page: Callable[..., Any],
    filters: tuple[str, ...],
) -> dict[str, JsonPage]:
    """Field metadata (JsonPage) of a connection the database can render: `fetch_page(ctx,
    keys, query, members, total=, **filters)` and `nest_page(ctx, query, members, parts,
    **filters)`
    are the resource's services; `filters` name the field's filter arguments."""

    async def fetch(
        context: Any,
        keys: list[uuid.UUID],
        kwargs: dict[str, Any],
        members: tuple[JsonMember, ...],
        total: bool,
    ) -> dict[uuid.UUID, tuple[str, int]] | None:
        if (query := first_page(kwargs)) is None:
            return None
        values = {f: kwargs[f] for f in filters}
        return await fetch_page(context.ctx, keys, query, members, total=total, **values)

    def nest(
        context: Any, kwargs: dict[str, Any], members: tuple[JsonMember, ...], parts: Any
    ) -> JsonNest | None:
        if (query := first_page(kwargs)) is None:
            return None
        return nest_page(context.ctx, query, members, parts, **{f: kwargs[f] for f in filters})

    return {JSON_PAGE: JsonPage(model=model, parent_attr="id", fetch=fetch, nest=nest)}

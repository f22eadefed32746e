"""The shared mechanics of every resource: repository base, list query, ETags, patching."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    func,
    inspect,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.types import TypeDecorator

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


@dataclass(frozen=True, slots=True)
class JsonMember:
    """One member of an object that the database renders as JSON text: its name and either
    a model attribute (an enum's stored values mapped to the names to emit; `number` for a
    float column, written as orjson writes floats), a constant string (e.g. a GraphQL
    `__typename`), or a nested page of another resource (`nested`)."""

    name: str
    attr: str | None = None
    enum: tuple[tuple[str, str], ...] | None = None
    number: bool = False
    const: str | None = None
    nested: JsonNest | None = None


class _Total:
    """The `totalCount` member of a rendered connection object (see JsonNest.parts)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TOTAL"


TOTAL = _Total()


@dataclass(frozen=True, slots=True)
class JsonNest:
    """A page of another resource inside each rendered object: the first `query.limit`
    rows of `stmt()` (a repository's filter statement, fully determined by `shape`) whose
    `key_attr` equals the object's `parent_attr`, rendered as the object
    `{<part>: <nodes array> | <constant> | <count>, ...}` (a part of None is the nodes, of
    TOTAL the number of rows of the filters, like totalCount). Built by the nested
    resource's service, which authorized the read; `touch` records the ids served."""

    repo: type[Repository[Any]]
    key_attr: str
    parent_attr: str
    shape: Hashable
    query: ListQuery
    members: tuple[JsonMember, ...]
    parts: tuple[tuple[str, str | _Total | None], ...]
    stmt: Callable[[], Select] = field(compare=False, hash=False)
    touch: Callable[[list[str]], None] = field(compare=False, hash=False)


@dataclass(slots=True)
class JsonPages:
    """What `json_pages_by` read: each parent's nodes as JSON text with the ids of its rows
    (parents without rows left out), the ids of every nested page, per JsonNest, and with
    `total`, each parent's number of rows (its totalCount)."""

    pages: dict[Any, tuple[str, list[str]]]
    nested: list[tuple[JsonNest, list[str]]]
    totals: dict[Any, int] = field(default_factory=dict)


# Column types whose values PostgreSQL writes exactly as orjson writes the Python values the
# row would hold (strings, ints, booleans, UUIDs as strings; floats see JsonMember.number).
# TypeDecorators (PHI columns among them, whose values only the application can decrypt)
# never qualify.
_JSON_TYPES = (String, Text, Integer, Boolean, Uuid, Float)


def json_renderable(column: Any) -> bool:
    """Whether `json_pages_by` can render this model column."""
    return (
        isinstance(column, Column)
        and isinstance(column.type, _JSON_TYPES)
        and not isinstance(column.type, TypeDecorator)
    )


def renders_json(session: AsyncSession) -> bool:
    """Whether `Repository.json_pages_by` works on this session's database (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


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

    @classmethod
    def filter_of(
        cls, session: AsyncSession, *, include_archived: bool, **filters: Any
    ) -> tuple[Callable[[], Select], Hashable]:
        """The subclass's `filtered(...)` statement as a callable, with its shape: what the
        cached page statements (`page`, `pages_by`, `json_pages_by`) build once and key on."""
        return (
            lambda: cls(session).filtered(include_archived=include_archived, **filters),  # type: ignore[attr-defined]
            ("filtered", include_archived, *filters.items()),
        )

    @classmethod
    def json_nest(
        cls,
        session: AsyncSession,
        *,
        key_attr: str,
        query: ListQuery,
        members: tuple[JsonMember, ...],
        parts: tuple[tuple[str, Any], ...],
        touch: Callable[[list[str]], None],
        **filters: Any,
    ) -> JsonNest:
        """This resource's first pages of `filtered(**filters)` nested in a rendered page of
        their parents (`key_attr` = the parent's id); the caller authorized the read."""
        stmt, shape = cls.filter_of(session, include_archived=query.include_archived, **filters)
        return JsonNest(
            repo=cls,
            key_attr=key_attr,
            parent_attr="id",
            shape=shape,
            query=query,
            members=members,
            parts=parts,
            stmt=stmt,
            touch=touch,
        )

    async def get(self, id_: uuid.UUID) -> M | None:
        return await self.session.get(self.model, id_)

    @classmethod
    def row_columns(cls) -> list[Any]:
        """Every mapped column (and SQL-computed column_property) of the model as plain Core
        columns labeled with the attribute names, so rows skip the ORM loading machinery."""
        cached = cls.__dict__.get("_row_columns")
        if cached is None:
            cached = []
            for attr in inspect(cls.model).column_attrs:
                expr = attr.expression
                plain = isinstance(expr, Column) and expr.key == attr.key
                cached.append(expr if plain else expr.label(attr.key))
            cls._row_columns = cached
        return cached

    async def page(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        *,
        as_rows: bool = False,
        shape: Hashable | None = None,
        params: dict[str, Any] | None = None,
    ) -> Page[M]:
        """One keyset page of `stmt`. `as_rows` returns read-only rows with the model's
        attribute names instead of entities: no identity map or per-object state, which
        makes a hot list several times cheaper; use it where nothing is changed or lazily
        loaded and no Python-side property of the model is needed.

        `shape`: a hashable that, with the model, fully determines `stmt` (then `stmt` may
        be a callable whose filter values are bind parameters, given in `params`). First
        pages of such a statement are built once per (shape, sort, as_rows) and reused with
        the limit as a bound parameter, so SQLAlchemy reuses its cache key and compiled
        form instead of rebuilding and re-keying the SELECT every request."""
        sort = SortSpec.parse(query.sort, dict.fromkeys(self.sortable), self.default_sort)
        values = dict(params or {})
        if shape is not None and query.cursor is None:
            cache = self._class_cache("_page_stmt_cache")
            cache_key = (shape, sort, as_rows)
            built = cache.get(cache_key)
            if built is None:
                built = self._page_statement(stmt, query, sort, as_rows).limit(
                    bindparam("_page_limit", type_=Integer())
                )
                if len(cache) >= 256:
                    cache.clear()
                cache[cache_key] = built
            stmt = built
            values["_page_limit"] = query.limit + 1
        else:
            stmt = self._page_statement(stmt, query, sort, as_rows)
        if as_rows:
            # On the session's connection (same transaction), not Session.execute: the rows
            # then come straight from Core instead of through the ORM loading pipeline.
            conn = await self.session.connection()
            rows = list((await conn.execute(stmt, values or None)).all())
        else:
            rows = list((await self.session.scalars(stmt, values or None)).all())
        return make_page(rows, sort=sort, limit=query.limit, sort_attr=sort.field)

    async def page_filtered(
        self, query: ListQuery, *, as_rows: bool = False, **filters: Any
    ) -> Page[M]:
        """A page of the subclass's `filtered(**filters)` (None: no such filter) through a
        statement built once per filter shape, the given values bound as parameters (see
        `page`): what every REST list runs, so its SELECT is not rebuilt per request."""
        given = {name: value for name, value in filters.items() if value is not None}
        archived = query.include_archived

        def build() -> Select:
            binds = {name: bindparam(f"f_{name}") for name in given}
            return self.filtered(include_archived=archived, **binds)  # type: ignore[attr-defined]

        shape = ("list", archived, *given)
        params = {f"f_{name}": value for name, value in given.items()}
        return await self.page(build, query, as_rows=as_rows, shape=shape, params=params)

    def _page_statement(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        sort: SortSpec,
        as_rows: bool,
    ) -> Select:
        if callable(stmt):
            stmt = stmt()
        if as_rows:
            stmt = stmt.with_only_columns(*self.row_columns())
        return apply_keyset(
            stmt,
            column=getattr(self.model, sort.field),
            id_column=self.model.id,
            sort=sort,
            cursor=query.cursor,
            limit=query.limit,
        )

    async def by_ids(self, ids: Collection[Any], *, include_archived: bool = True) -> list[M]:
        """Rows with these ids in one statement (batched lookups for nested GraphQL edges)."""
        if not ids:
            return []
        stmt = self.base(include_archived=include_archived).where(self.model.id.in_(list(ids)))
        return list((await self.session.scalars(stmt)).all())

    async def count(self, stmt: Select) -> int:
        """How many rows `stmt` selects (a list's totalCount)."""
        sub = stmt.order_by(None).limit(None).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(sub)) or 0)

    async def count_by(self, stmt: Select, key: Any, keys: Collection[Any]) -> dict[Any, int]:
        """Row counts of `stmt` grouped by `key`, restricted to `keys`, in one statement."""
        if not keys:
            return {}
        grouped = (
            stmt.order_by(None)
            .where(key.in_(list(keys)))
            .with_only_columns(key, func.count(), maintain_column_froms=True)
            .group_by(key)
        )
        return {k: int(n) for k, n in (await self.session.execute(grouped)).all()}

    async def pages_by(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        *,
        as_rows: bool = False,
        columns: Collection[str] | None = None,
        shape: Hashable | None = None,
    ) -> dict[Any, Page[M]]:
        """One keyset page per value of `key` (a column of `stmt`, e.g. product_id) in ONE
        statement: ROW_NUMBER() OVER (PARTITION BY key ...) instead of a query per parent.
        `as_rows`: read-only rows instead of entities, as in `page()`; with `columns` (model
        attribute names) the rows hold only those plus id, product_id, the sort column and
        `key` — never prime such rows where a whole object is expected. `shape`: a hashable
        that, with the model, fully determines `stmt` (then `stmt` may be a callable): the
        finished statement is built once per shape, sort and column set, and reused with
        the keys and limit as bound parameters (first pages only)."""
        if not keys:
            return {}
        sort = SortSpec.parse(query.sort, dict.fromkeys(self.sortable), self.default_sort)
        if as_rows:
            return await self._row_pages_by(stmt, query, key, keys, sort, columns, shape)
        if callable(stmt):
            stmt = stmt()
        inner = self._partitioned(stmt.where(key.in_(list(keys))), query, key, sort)
        entity = aliased(self.model, inner)
        rows = await self.session.execute(
            select(entity, inner.c._key)
            .where(inner.c._rn <= query.limit + 1)
            .order_by(inner.c._key, inner.c._rn)
        )
        return _group_pages(keys, ((k, obj) for obj, k in rows.all()), sort, query.limit)

    async def _row_pages_by(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        sort: SortSpec,
        columns: Collection[str] | None,
        shape: Hashable | None,
    ) -> dict[Any, Page[M]]:
        selected = self._selected_columns(columns, sort.field, key.key)
        cache = self._class_cache("_pages_stmt_cache")
        cache_key = None
        if shape is not None and query.cursor is None:
            cache_key = (shape, key.key, sort, tuple(c.key for c in selected))
        built = cache.get(cache_key) if cache_key is not None else None
        if built is None:
            built = self._window_statement(stmt, query, key, sort, selected)
            if cache_key is not None:
                if len(cache) >= 256:
                    cache.clear()
                cache[cache_key] = built
        conn = await self.session.connection()
        result = await conn.execute(built, {"_keys": list(keys), "_rn_max": query.limit + 1})
        return _group_pages(keys, ((row[-1], row) for row in result.all()), sort, query.limit)

    def _window_statement(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        selected: tuple[Any, ...],
    ) -> Select:
        """The window statement of `_row_pages_by`, with the parent keys (`_keys`, expanding)
        and the row bound (`_rn_max`) as bind parameters."""
        if callable(stmt):
            stmt = stmt()
        keys_in = key.in_(bindparam("_keys", expanding=True))
        inner = self._partitioned(
            stmt.with_only_columns(*selected).where(keys_in), query, key, sort, name="paged"
        )
        # The outer SELECT names the window's columns textually (typed): asking the subquery
        # for `.c` would build a proxy per column.
        outer = [literal_column(f'paged."{c.name}"', type_=c.type).label(c.key) for c in selected]
        key_col = literal_column('paged."_key"', type_=key.type).label("_key")
        rn_col = literal_column('paged."_rn"', type_=Integer())
        return (
            select(*outer, key_col)
            .select_from(inner)
            .where(rn_col <= bindparam("_rn_max", type_=Integer()))
            .order_by(key_col, rn_col)
        )

    async def json_pages_by(
        self,
        stmt: Callable[[], Select],
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        members: tuple[JsonMember, ...],
        *,
        shape: Hashable,
        total: bool = False,
    ) -> JsonPages | None:
        """First pages per value of `key`, like `pages_by`, rendered by PostgreSQL as JSON
        text (an array of objects with `members`, in page order), nested pages included, in
        ONE statement; nothing of the rows passes through Python objects. None when a value
        cannot be written exactly as orjson would (a float such as 1e+16): the caller then
        reads the rows instead. With `total`, also each parent's number of rows. PostgreSQL
        only; first pages only (no cursor)."""
        if query.cursor is not None:
            raise ValueError("json_pages_by serves first pages only")
        if not keys:
            return JsonPages({}, [])
        sort = SortSpec.parse(query.sort, dict.fromkeys(self.sortable), self.default_sort)
        cache = self._class_cache("_json_stmt_cache")
        cache_key = (shape, key.key, sort, members, total)
        built = cache.get(cache_key)
        if built is None:
            builder = _JsonStatement(self.session)
            built = builder.build(self, stmt, query, key, sort, members, total)
            if len(cache) >= 256:
                cache.clear()
            cache[cache_key] = built
        statement = built
        # This request's JsonNests (their `touch` is this request's), in the statement's
        # order; the cached statement was built from equal ones of an earlier request.
        nests = _nests_of(members)
        conn = await self.session.connection()
        result = await conn.execute(statement, {"_keys": list(keys), "_rn_max": query.limit})
        rows = {row[0]: row for row in result.all()}
        if not all(row[3] for row in rows.values()):
            return None
        pages = {k: (row[1], row[2].split(",")) for k, row in rows.items()}
        nested = [
            (
                nest,
                [
                    i
                    for k in keys
                    if k in rows and rows[k][5 + n]
                    for i in rows[k][5 + n].split(",")
                ],
            )
            for n, nest in enumerate(nests)
        ]
        totals = {k: int(row[4]) for k, row in rows.items()} if total else {}
        return JsonPages(pages, nested, totals)

    def _partitioned(
        self,
        stmt: Select,
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        name: str | None = None,
        total: bool = False,
    ):
        """`stmt` after the keyset cursor as a subquery whose rows carry their parent (`_key`)
        and their position in that parent's page (`_rn`); with `total`, also the number of
        rows their parent has (`_total`)."""
        keyed = apply_keyset(
            stmt,
            column=getattr(self.model, sort.field),
            id_column=self.model.id,
            sort=sort,
            cursor=query.cursor,
            limit=query.limit,
        )
        # The window orders each partition exactly as apply_keyset orders a single page.
        order = list(keyed._order_by_clauses)
        rn = func.row_number().over(partition_by=key, order_by=order).label("_rn")
        extra = [func.count().over(partition_by=key).label("_total")] if total else []
        return (
            keyed.order_by(None)
            .limit(None)
            .add_columns(key.label("_key"), rn, *extra)
            .subquery(name)
        )

    @classmethod
    def _class_cache(cls, name: str) -> dict[Any, Any]:
        cache = cls.__dict__.get(name)
        if cache is None:
            cache = {}
            setattr(cls, name, cache)
        return cache

    @classmethod
    def _selected_columns(
        cls, columns: Collection[str] | None, sort_field: str, key_attr: str
    ) -> tuple[Any, ...]:
        """row_columns() restricted to `columns` plus what paging and grouping read (id,
        product_id, the sort column, the key); all of them for None or an unknown name."""
        cache = cls._class_cache("_selected_cache")
        wanted = None if columns is None else frozenset(columns)
        found = cache.get((wanted, sort_field, key_attr))
        if found is None:
            every = cls.row_columns()
            names = {c.key for c in every}
            needed = None
            if wanted is not None:
                needed = {*wanted, "id", sort_field, key_attr}
                if "product_id" in names:
                    needed.add("product_id")
                if not needed <= names:
                    needed = None
            found = tuple(c for c in every if needed is None or c.key in needed)
            if len(cache) >= 256:
                cache.clear()
            cache[(wanted, sort_field, key_attr)] = found
        return found

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


_TEXT = Text()


def _nests_of(members: tuple[JsonMember, ...]) -> list[JsonNest]:
    """The JsonNests among `members`, depth first: the order of the statement's id columns."""
    found: list[JsonNest] = []
    for m in members:
        if m.nested is not None:
            found.append(m.nested)
            found.extend(_nests_of(m.nested.members))
    return found


def _text(value: str) -> Any:
    """A constant in the statement's text, not a bind parameter: the statement is built and
    prepared once, and its ~70 constants would otherwise be processed by SQLAlchemy and
    encoded by asyncpg on every execution. Standard SQL quoting (no backslash escapes)."""
    if "\x00" in value:
        raise ValueError("NUL in an SQL constant")
    return literal_column("'" + value.replace("'", "''") + "'", _TEXT)


def _string_agg(value: Any, order: Any) -> Any:
    return func.string_agg(value, aggregate_order_by(_text(","), order))


class _JsonStatement:
    """Builds `Repository.json_pages_by`'s statement. Each level is a repository's window
    statement (the same WHERE and ORDER BY as its pages) as a subquery; an object is
    concatenated text — constant '"name":' pieces and coalesce(to_json(value)::text,
    'null') — not json_build_object, whose output carries spaces and would not match the
    rest of the response. A nested page is a LATERAL subquery per row of its parent level
    aggregating its own window rows. Besides the text, every level yields its rows' ids
    (comma-joined text, for the audit record) and whether every float in it could be
    written exactly as orjson writes it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.names = 0

    def _name(self, base: str) -> str:
        self.names += 1
        return f"{base}{self.names}"

    def build(
        self,
        repo: Repository[Any],
        stmt: Callable[[], Select],
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        members: tuple[JsonMember, ...],
        total: bool,
    ) -> Select:
        # = ANY(array): one statement text whatever the number of parents (an expanding IN
        # renders and prepares one per count).
        where = key == func.any(bindparam("_keys", type_=ARRAY(key.type)))
        level = self._level(repo, stmt(), query, key, sort, members, where, total)
        name, source, obj, ok, nested_ids = level
        rn = literal_column(f'{name}."_rn"', type_=Integer())
        key_col = literal_column(f'{name}."_key"', type_=key.type)
        columns = [
            key_col,
            func.concat(_text("["), _string_agg(obj, rn), _text("]")),
            _string_agg(cast(literal_column(f'{name}."id"'), _TEXT), rn),
            func.bool_and(ok) if ok is not None else true(),
            func.max(literal_column(f'{name}."_total"')) if total else literal_column("0"),
            *(_string_agg(ids, rn) for ids in nested_ids),
        ]
        statement = (
            select(*columns)
            .select_from(source)
            .where(rn <= bindparam("_rn_max", type_=Integer()))
            .group_by(key_col)
        )
        return statement

    def _level(
        self,
        repo: Repository[Any],
        stmt: Select,
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        members: tuple[JsonMember, ...],
        where: Any,
        total: bool = False,
    ) -> tuple[str, Any, Any, Any, list[Any]]:
        """(subquery name, FROM clause, object text, ok or None, nested ids) of one level;
        with `total`, its subquery counts each parent's rows (`_total`)."""
        attrs = [m.attr for m in members if m.attr is not None]
        attrs += [m.nested.parent_attr for m in members if m.nested is not None]
        selected = repo._selected_columns(attrs, sort.field, key.key)
        by_key = {c.key: c for c in selected}
        if not set(attrs) <= by_key.keys():
            raise ValueError("json_pages_by: unknown attribute")
        name = self._name("paged")
        source: Any = repo._partitioned(
            stmt.with_only_columns(*selected).where(where), query, key, sort, name, total
        )

        def col(attr: str) -> Any:
            c = by_key[attr]
            return literal_column(f'{name}."{c.name}"', type_=c.type)

        pieces: list[Any] = []
        oks: list[Any] = []
        nested_ids: list[Any] = []
        for i, m in enumerate(members):
            pieces.append(_text(("{" if i == 0 else ",") + orjson.dumps(m.name).decode() + ":"))
            if m.const is not None:
                pieces.append(_text(orjson.dumps(m.const).decode()))
            elif m.nested is not None:
                text, lateral, ok, ids = self._nested(m.nested, col(m.nested.parent_attr))
                source = source.join(lateral, true(), isouter=True)
                pieces.append(text)
                oks.append(ok)
                nested_ids.extend(ids)
            elif m.number:
                value = col(m.attr)  # type: ignore[arg-type]
                shown = cast(value, _TEXT)  # float8out: the shortest exact digits, like orjson
                pieces.append(
                    case(
                        (value.is_(None), _text("null")),
                        (shown.regexp_match(_text("^-?[0-9]+$")), func.concat(shown, _text(".0"))),
                        else_=shown,
                    )
                )
                # Exponent forms (1e+16, 1e-05), NaN and infinities are written otherwise.
                oks.append(
                    or_(value.is_(None), shown.regexp_match(_text("^-?[0-9]+([.][0-9]+)?$")))
                )
            else:
                value = col(m.attr)  # type: ignore[arg-type]
                if m.enum is not None:
                    value = case(*((value == _text(stored), _text(out)) for stored, out in m.enum))
                pieces.append(func.coalesce(cast(func.to_json(value), _TEXT), _text("null")))
        pieces.append(_text("}" if members else "{}"))
        ok = and_(*oks) if oks else None
        return name, source, func.concat(*pieces), ok, nested_ids

    def _nested(self, nest: JsonNest, parent: Any) -> tuple[Any, Any, Any, list[Any]]:
        """A LATERAL page of `nest` under the row whose `parent_attr` is `parent`: (its
        object text, the LATERAL subquery to join, ok, ids columns: its own, then those of
        the pages nested in it)."""
        child = nest.repo(self.session)
        key = getattr(child.model, nest.key_attr)
        sort = SortSpec.parse(nest.query.sort, dict.fromkeys(child.sortable), child.default_sort)
        total = any(kind is TOTAL for _, kind in nest.parts)
        name, source, obj, ok, deeper = self._level(
            child, nest.stmt(), nest.query, key, sort, nest.members, key == parent, total
        )
        rn = literal_column(f'{name}."_rn"', type_=Integer())
        lateral_name = self._name("nest")
        nodes = func.concat(_text("["), _string_agg(obj, rn), _text("]"))
        columns = [
            nodes.label("nodes"),
            func.bool_and(ok).label("ok") if ok is not None else true().label("ok"),
            _string_agg(cast(literal_column(f'{name}."id"'), _TEXT), rn).label("ids"),
            *(_string_agg(ids, rn).label(f"ids{n}") for n, ids in enumerate(deeper)),
        ]
        if total:
            columns.append(func.max(literal_column(f'{name}."_total"')).label("total"))
        lateral = (
            select(*columns)
            .select_from(source)
            .where(rn <= literal_column(str(int(nest.query.limit)), Integer()))
            .lateral(lateral_name)
        )
        shown = func.coalesce(lateral.c.nodes, _text("[]"))
        pieces: list[Any] = []
        for i, (part, kind) in enumerate(nest.parts):
            pieces.append(_text(("{" if i == 0 else ",") + orjson.dumps(part).decode() + ":"))
            if kind is None:
                pieces.append(shown)
            elif kind is TOTAL:
                pieces.append(cast(func.coalesce(lateral.c.total, literal_column("0")), _TEXT))
            else:
                pieces.append(_text(orjson.dumps(kind).decode()))
        pieces.append(_text("}"))
        ids = [lateral.c.ids, *(lateral.c[f"ids{n}"] for n in range(len(deeper)))]
        return func.concat(*pieces), lateral, func.coalesce(lateral.c.ok, true()), ids


def _group_pages(
    keys: Collection[Any], pairs: Iterable[tuple[Any, Any]], sort: SortSpec, limit: int
) -> dict[Any, Page[Any]]:
    """(parent key, row) pairs in page order -> one page per parent (empty ones included)."""
    grouped: dict[Any, list[Any]] = {k: [] for k in keys}
    for k, row in pairs:
        grouped.setdefault(k, []).append(row)
    return {
        k: make_page(v, sort=sort, limit=limit, sort_attr=sort.field) for k, v in grouped.items()
    }

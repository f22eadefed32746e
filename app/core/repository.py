"""The shared mechanics of every resource: repository base, list query, ETags, patching."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    Column,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from app.core.errors import Conflict, Invalid, PreconditionFailed
from app.core.jsonpages import (
    Filters,
    JsonLevel,
    JsonMember,
    JsonNest,
    JsonPages,
    JsonStatement,
    member_attrs,
    renders_json,
)
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, SortSpec, apply_keyset, make_page
from app.db.prepared import PreparedRead
from app.db.types import utcnow

M = TypeVar("M")

# A list's totalCount counts this many rows at most (Repository.count): exact below it, and
# COUNT_CAP means "COUNT_CAP or more". Capped rather than estimated (planner estimates of a
# filtered list are often off by 10x) or cached (stale right after a write, and per caller:
# what a caller may read differs).
COUNT_CAP = 10_000


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
    _row_columns: ClassVar[list[Any]]  # per subclass, built on first use (`row_columns`)
    sortable: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    default_sort: ClassVar[str] = "created_at"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def base(self, *, include_archived: bool = False) -> Select:
        stmt = select(self.model)
        if not include_archived:
            stmt = stmt.where(self.model.archived_at.is_(None))
        return stmt

    def filtered(self, *, include_archived: bool = False) -> Select:
        """The resource's rows matching filters (a subclass adds its own, each None = no
        such filter): what `page_filtered`, `filtered_pages_by` and `json_pages_by` page."""
        return self.base(include_archived=include_archived)

    @classmethod
    def json_nest(
        cls,
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
        return JsonNest(
            repo=cls,
            key_attr=key_attr,
            parent_attr="id",
            filters=_given(filters),
            query=query,
            members=members,
            parts=parts,
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
        stmt: Select,
        query: ListQuery,
        *,
        as_rows: bool = False,
        columns: Collection[str] | None = None,
    ) -> Page[M]:
        """One keyset page of `stmt`. `as_rows` returns read-only rows with the model's
        attribute names instead of entities: no identity map or per-object state, which
        makes a hot list several times cheaper; use it where nothing is changed or lazily
        loaded and no Python-side property of the model is needed.

        `columns` (with `as_rows`; model attribute names, e.g. a sparse fieldset): the rows
        hold only those plus id, product_id and the sort column (all of them when a name is
        not a column)."""
        return await self._page(stmt, query, as_rows, columns)

    async def page_filtered(
        self,
        query: ListQuery,
        *,
        as_rows: bool = False,
        columns: Collection[str] | None = None,
        **filters: Any,
    ) -> Page[M]:
        """A page of `filtered(**filters)` (None: no such filter), what every REST list runs.
        Its first pages are built once per filter shape — which filters are given, and
        include_archived — with the given values and the limit as bound parameters, so
        SQLAlchemy reuses its cache key and compiled form instead of rebuilding and re-keying
        the SELECT every request."""
        given = {name: value for name, value in filters.items() if value is not None}
        archived = query.include_archived

        def build() -> Select:
            binds: dict[str, Any] = {name: bindparam(f"f_{name}") for name in given}
            return self.filtered(include_archived=archived, **binds)

        shape = ("list", archived, *given)
        params = {f"f_{name}": value for name, value in given.items()}
        return await self._page(build, query, as_rows, columns, shape, params)

    async def _page(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        as_rows: bool,
        columns: Collection[str] | None,
        shape: Hashable | None = None,
        params: dict[str, Any] | None = None,
    ) -> Page[M]:
        """`page`; with `shape` (which, with the model, fully determines `stmt()`, its values
        in `params`), first pages come from a statement built once per (shape, sort, rows,
        columns), the limit bound, and later pages from the filtered statement built once
        (`_filtered_base`: an equality on a parent key read as a range)."""
        sort = self._sort(query)
        values = dict(params or {})
        selected = self._selected_columns(columns, sort.field, "id") if as_rows else None
        if shape is not None and query.cursor is None:
            cache = self._class_cache("_page_stmt_cache")
            dialect = self.session.get_bind().dialect
            cache_key = (shape, sort, as_rows, selected and tuple(c.key for c in selected))
            built = cache.get((cache_key, dialect.name, dialect.driver))
            if built is None:
                base, lead = self._filtered_base(stmt, sort, selected, shape)
                stmt = self._keyset(base, query, sort, lead).limit(
                    bindparam("_page_limit", type_=Integer())
                )
                # Rows of a cached statement on asyncpg: compiled once, run by the driver.
                usable = as_rows and PreparedRead.usable(stmt, dialect)
                built = PreparedRead(stmt, dialect) if usable else stmt
                if len(cache) >= 256:
                    cache.clear()
                cache[(cache_key, dialect.name, dialect.driver)] = built
            values["_page_limit"] = query.limit + 1
            if isinstance(built, PreparedRead):
                read = await built.rows(self.session, values)
                return make_page(read, sort=sort, limit=query.limit, sort_attr=sort.field)
            stmt = built
        elif shape is not None:
            base, lead = self._filtered_base(stmt, sort, selected, shape)
            stmt = self._keyset(base, query, sort, lead)
        else:
            stmt = self._page_statement(stmt, query, sort, selected)
        rows: list[Any]  # Core rows (as_rows) or model instances
        if as_rows:
            # On the session's connection (same transaction), not Session.execute: the rows
            # then come straight from Core instead of through the ORM loading pipeline.
            conn = await self.session.connection()
            rows = list((await conn.execute(stmt, values or None)).all())
        else:
            rows = list((await self.session.scalars(stmt, values or None)).all())
        return make_page(rows, sort=sort, limit=query.limit, sort_attr=sort.field)

    def _sort(self, query: ListQuery) -> SortSpec:
        return SortSpec.parse(query.sort, dict.fromkeys(self.sortable), self.default_sort)

    def _page_statement(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        sort: SortSpec,
        selected: tuple[Any, ...] | None,
    ) -> Select:
        """The page's statement; with `selected` (rows) only those columns."""
        if callable(stmt):
            stmt = stmt()
        if selected is not None:
            stmt = stmt.with_only_columns(*selected)
        return self._keyset(stmt, query, sort)

    def _keyset(self, stmt: Select, query: ListQuery, sort: SortSpec, lead: Any = None) -> Select:
        """`stmt` after `query`'s cursor, in `sort` order then by id, `query.limit` + 1 rows;
        `lead`: the parent key all its rows share, ordered by first (`_key_range`)."""
        return apply_keyset(
            stmt,
            column=getattr(self.model, sort.field),
            id_column=self.model.id,
            sort=sort,
            cursor=query.cursor,
            limit=query.limit,
            lead=lead,
        )

    def _filtered_base(
        self,
        stmt: Select | Callable[[], Select],
        sort: SortSpec,
        selected: tuple[Any, ...] | None,
        shape: Hashable,
    ) -> tuple[Select, Any]:
        """`stmt()` (a list of one filter shape, its values bound) with only `selected`, on
        PostgreSQL its parent key read as a range (`_key_range`), and that key (None: none):
        built once per shape, sort column, columns and database, for first pages and later
        ones alike. (SQLite plans without the bound values, so `=` is already what it plans
        once; the range there would only hide from it that the key is one value.)"""
        cache = self._class_cache("_base_stmt_cache")
        pg = self.session.get_bind().dialect.name == "postgresql"
        cache_key = (shape, sort.field, selected and tuple(c.key for c in selected), pg)
        found = cache.get(cache_key)
        if found is None:
            if callable(stmt):
                stmt = stmt()
            if selected is not None:
                stmt = stmt.with_only_columns(*selected)
            found = self._key_range(stmt, sort) if pg else (stmt, None)
            if len(cache) >= 256:
                cache.clear()
            cache[cache_key] = found
        return found

    @classmethod
    def _key_range(cls, stmt: Select, sort: SortSpec) -> tuple[Select, Any]:
        """`stmt` with its WHERE's `key = :value` on a parent key — a column indexed on
        (key, sort column, id) — written `key >= :value AND key <= :value`, and that key, to
        lead the ORDER BY (None and `stmt` as it is when there is no such equality).

        The answer is the same; the plan is not. With `=`, PostgreSQL takes the key as a
        constant and drops it from the ORDER BY, so its generic plan (made once for any
        value) may walk the (sort, id) index and filter out the other parents' rows: all
        10,000 of a large product, to page a small one beside it (11.5 ms instead of 0.1).
        Its custom plans choose well but are made again on every execution, which costs
        more than running the statement. A range keeps the key first in the ORDER BY, which
        only the (key, sort, id) index returns in order, so the generic plan reads that
        index from the parent's first row (or the cursor's) and stops after the page, and
        PostgreSQL keeps it. `_partitioned` compares its parent keys the same way. Where
        several parent keys are pinned (a roadmap item's stories in its product), the range
        goes to the narrowest: the one whose parent belongs to another's."""
        where = stmt.whereclause
        if where is None:
            return stmt, None
        nested = isinstance(where, BooleanClauseList) and where.operator is operators.and_
        criteria = list(where.clauses) if nested else [where]
        keys = cls._parent_keys(sort.field)
        pinned = [
            c
            for c in criteria
            if isinstance(c, BinaryExpression)
            and c.operator is operators.eq
            and isinstance(c.right, BindParameter)
            and getattr(c.left, "table", None) is cls.model.__table__
            and c.left.name in keys
        ]
        if not pinned:
            return stmt, None
        target = pinned[0]
        if len(pinned) > 1:
            parents = {c.left.name: {fk.column.table for fk in c.left.foreign_keys} for c in pinned}

            def inner(c: BinaryExpression) -> bool:
                """`c`'s parent rows refer to another pinned key's parent."""
                others = set().union(*(t for n, t in parents.items() if n != c.left.name))
                own = parents[c.left.name]
                return any(fk.column.table in others for t in own for fk in t.foreign_keys)

            target = next((c for c in pinned if inner(c)), target)
        key, value = target.left, target.right

        def ranged(element: Any) -> Any:
            return and_(key >= value, key <= value) if element is target else None

        found: Select = visitors.replacement_traverse(stmt, {}, ranged)  # type: ignore[call-overload]  # a Select in, a Select out
        return found, keys[key.name]

    @classmethod
    def _parent_keys(cls, sort_field: str) -> dict[str, Column[Any]]:
        """The model's columns that lead an index on (column, `sort_field`'s column, id), by
        name: the keys whose rows one index returns in page order."""
        cache = cls._class_cache("_parent_keys_cache")
        found = cache.get(sort_field)
        if found is None:
            columns = inspect(cls.model).columns
            sort_column, id_column = columns.get(sort_field), columns["id"]
            found = {}
            for index in cls.model.__table__.indexes:
                led = list(index.columns)
                if len(led) >= 3 and led[1] is sort_column and led[2] is id_column:
                    found[led[0].name] = led[0]
            cache[sort_field] = found
        return found

    async def by_ids(self, ids: Collection[Any], *, include_archived: bool = True) -> list[M]:
        """Rows with these ids in one statement (batched lookups for nested GraphQL edges)."""
        if not ids:
            return []
        stmt = self.base(include_archived=include_archived).where(self.model.id.in_(list(ids)))
        return list((await self.session.scalars(stmt)).all())

    async def count(self, stmt: Select) -> int:
        """How many rows `stmt` selects (a list's totalCount), counted up to COUNT_CAP: the
        count reads at most COUNT_CAP ids (an index range), never a whole large product, so
        a page with its totalCount costs the same at 10k and at 1M rows; the answer is
        min(rows, COUNT_CAP) (docs/api-guide.md, "Counts")."""
        ids = stmt.order_by(None).with_only_columns(self.model.id, maintain_column_froms=True)
        sub = ids.limit(COUNT_CAP).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(sub)) or 0)

    async def count_by(self, stmt: Select, key: Any, keys: Collection[Any]) -> dict[Any, int]:
        """Row counts of `stmt` grouped by `key`, restricted to `keys`, in one statement, each
        up to COUNT_CAP like `count` (a nested totalCount means what a root one means)."""
        if not keys:
            return {}
        numbered = (
            stmt.order_by(None)
            .where(key.in_(list(keys)))
            .with_only_columns(
                key.label("_key"),
                func.row_number().over(partition_by=key).label("_n"),
                maintain_column_froms=True,
            )
            .subquery()
        )
        grouped = (
            select(numbered.c._key, func.count())
            .where(numbered.c._n <= COUNT_CAP)
            .group_by(numbered.c._key)
        )
        return {k: int(n) for k, n in (await self.session.execute(grouped)).all()}

    async def pages_by(
        self,
        stmt: Select,
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        *,
        as_rows: bool = False,
        columns: Collection[str] | None = None,
    ) -> dict[Any, Page[M]]:
        """One keyset page per value of `key` (a column of `stmt`, e.g. product_id) in ONE
        statement: ROW_NUMBER() OVER (PARTITION BY key ...) instead of a query per parent.
        `as_rows`: read-only rows instead of entities, as in `page()`; with `columns` (model
        attribute names) the rows hold only those plus id, product_id, the sort column and
        `key` — never prime such rows where a whole object is expected."""
        if not keys:
            return {}
        sort = self._sort(query)
        if as_rows:
            return await self._row_pages_by(stmt, query, key, keys, sort, columns, None)
        rn_max = bindparam("_rn_max", type_=Integer())
        one = len(keys) == 1
        inner = self._partitioned(stmt, query, key, sort, "paged", per_parent=rn_max, one=one)
        entity = aliased(self.model, inner)
        rows = await self.session.execute(
            select(entity, inner.c._key)
            .where(inner.c._rn <= rn_max)
            .order_by(inner.c._key, inner.c._rn),
            {**_parent_params(keys), "_rn_max": query.limit + 1},
        )
        return _group_pages(keys, ((k, obj) for obj, k in rows.all()), sort, query.limit)

    async def filtered_pages_by(
        self,
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        *,
        columns: Collection[str] | None = None,
        **filters: Any,
    ) -> dict[Any, Page[M]]:
        """`pages_by` of `filtered(**filters)` (None: no such filter) as read-only rows. Its
        first pages come from a statement built once per filters, parent key, sort and
        column set, reused with the keys and limit as bound parameters."""
        if not keys:
            return {}
        given = _given(filters)
        archived = query.include_archived

        def build() -> Select:
            return self.filtered(include_archived=archived, **dict(given))

        shape = ("filtered", archived, *given)
        return await self._row_pages_by(build, query, key, keys, self._sort(query), columns, shape)

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
        one = len(keys) == 1
        if shape is not None and query.cursor is None:
            lateral = renders_json(self.session)  # the statement's form (`_partitioned`)
            cache_key = (shape, lateral, one, key.key, sort, tuple(c.key for c in selected))
        built = cache.get(cache_key) if cache_key is not None else None
        if built is None:
            built = self._window_statement(stmt, query, key, sort, selected, one)
            if cache_key is not None:
                if len(cache) >= 256:
                    cache.clear()
                cache[cache_key] = built
        conn = await self.session.connection()
        result = await conn.execute(built, {**_parent_params(keys), "_rn_max": query.limit + 1})
        return _group_pages(keys, ((row[-1], row) for row in result.all()), sort, query.limit)

    def _window_statement(
        self,
        stmt: Select | Callable[[], Select],
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        selected: tuple[Any, ...],
        one: bool,
    ) -> Select:
        """The statement of `_row_pages_by`, with the parent keys (`_keys`, or `_key` for
        `one`) and the row bound (`_rn_max`) as bind parameters."""
        if callable(stmt):
            stmt = stmt()
        rn_max = bindparam("_rn_max", type_=Integer())
        inner = self._partitioned(
            stmt.with_only_columns(*selected), query, key, sort, "paged", per_parent=rn_max, one=one
        )
        # The outer SELECT names the window's columns textually (typed): asking the subquery
        # for `.c` would build a proxy per column.
        outer = [literal_column(f'paged."{c.name}"', type_=c.type).label(c.key) for c in selected]
        key_col = literal_column('paged."_key"', type_=key.type).label("_key")
        rn_col = literal_column('paged."_rn"', type_=Integer())
        return (
            select(*outer, key_col)
            .select_from(inner)
            .where(rn_col <= rn_max)
            .order_by(key_col, rn_col)
        )

    async def json_pages_by(
        self,
        query: ListQuery,
        key: Any,
        keys: Collection[Any],
        members: tuple[JsonMember, ...],
        *,
        total: bool = False,
        **filters: Any,
    ) -> JsonPages | None:
        """First pages of `filtered(**filters)` per value of `key`, like `filtered_pages_by`,
        rendered by PostgreSQL as JSON text (an array of objects with `members`, in page
        order), nested pages included, in ONE statement; nothing of the rows passes through
        Python objects. None when a value cannot be written exactly as orjson would (a float
        such as 1e+16): the caller then reads the rows instead, as on any other database
        than PostgreSQL. With `total`, also each parent's number of rows. First pages only
        (no cursor). The statement is built once per what determines it — filters, parent
        key, sort, limits and members (nested pages' included) — and reused with the keys
        and limit as bound parameters."""
        if query.cursor is not None:
            raise ValueError("json_pages_by serves first pages only")
        if not renders_json(self.session):
            return None
        if not keys:
            return JsonPages({}, [])
        given = _given(filters)
        cache = self._class_cache("_json_stmt_cache")
        one = len(keys) == 1
        dialect = self.session.get_bind().dialect
        cache_key = (query.include_archived, given, key.key, self._sort(query), members, total, one)
        built = cache.get((cache_key, dialect.driver))
        if built is None:
            statement = JsonStatement(self.session).build(
                self, query, key.key, members, total, given, one
            )
            # On asyncpg, compiled once and run by the driver, as the REST pages are.
            usable = PreparedRead.usable(statement, dialect, positional=True)
            built = PreparedRead(statement, dialect, positional=True) if usable else statement
            if len(cache) >= 256:
                cache.clear()
            cache[(cache_key, dialect.driver)] = built
        params = {**_parent_params(keys), "_rn_max": query.limit, "_count_cap": COUNT_CAP}
        if isinstance(built, PreparedRead):
            rows: Sequence[Any] = await built.rows(self.session, params)
        else:
            rows = (await (await self.session.connection()).execute(built, params)).all()
        return JsonStatement.read(rows, keys, members, total)

    def json_level(
        self,
        renderer: JsonStatement,
        query: ListQuery,
        key_attr: str,
        members: tuple[JsonMember, ...],
        parent: Any,
        per_parent: Any,
        total: bool,
        filters: Filters,
        nested: bool = False,
    ) -> JsonLevel:
        """One level of a `json_pages_by` statement: the first `per_parent` rows of this
        resource's `filtered(**filters)` per parent — the bound `_keys`, or `parent` (a column
        of the enclosing level, `nested`) — in a subquery (`_partitioned`: the same WHERE and
        ORDER BY as its pages, only the columns `members` render), rendered by `renderer`."""
        key = getattr(self.model, key_attr)
        sort = self._sort(query)
        selected = self._selected_columns(member_attrs(members), sort.field, key.key)
        name = renderer.name("paged")
        stmt = self.filtered(include_archived=query.include_archived, **dict(filters))
        source = self._partitioned(
            stmt.with_only_columns(*selected),
            query,
            key,
            sort,
            name,
            per_parent=per_parent,
            total=total,
            parent=parent,
            nested=nested,
        )
        return renderer.level(name, source, key, selected, members)

    def _partitioned(
        self,
        stmt: Select,
        query: ListQuery,
        key: Any,
        sort: SortSpec,
        name: str,
        *,
        per_parent: Any,
        total: bool = False,
        parent: Any = None,
        one: bool = False,
        nested: bool = False,
    ) -> Any:
        """`stmt` after the keyset cursor, for each parent bound as `_keys` (`one`: the one
        parent bound as `_key`; or the one parent `parent`, an expression such as a column of
        the enclosing statement: a nested LATERAL page), as a
        subquery `name` whose rows carry their parent (`_key`) and their position in that
        parent's page (`_rn`, up to `per_parent` rows, an SQL expression; not for a `nested`
        page, which is its LIMIT); with `total`, also
        the number of rows their parent has, counted up to the bound `_count_cap` (COUNT_CAP,
        as `count`: `_total`).

        On PostgreSQL each parent's rows are read on their own, in the page order, LIMIT
        `per_parent` (LATERAL per parent): the index on (key, sort column, id) gives them
        already ordered and the read stops after the page, so a page of a parent with 10,000
        rows reads 50 of them (a window over every parent's rows sorted the whole parent
        first: 25 ms instead of 0.15 ms for a product of 10,000 stories). Elsewhere (SQLite
        has no LATERAL) one window numbers the rows of all parents."""
        keyed = self._keyset(stmt, query, sort)
        # The window orders each parent's rows exactly as apply_keyset orders a single page.
        order = list(keyed._order_by_clauses)
        rows = keyed.order_by(None).limit(None)
        if not renders_json(self.session):
            if parent is not None or total:
                raise ValueError("nested and counted pages are PostgreSQL's (json_pages_by)")
            rn = func.row_number().over(partition_by=key, order_by=order).label("_rn")
            return (
                rows.where(key.in_(bindparam("_keys", expanding=True)))
                .add_columns(key.label("_key"), rn)
                .subquery(name)
            )
        keys = None
        if parent is None and one:
            # Not an array of one: PostgreSQL estimates ten rows for any unnest($1), which
            # prices the statement's generic plan ten times its custom ones and so plans it
            # again on every execution (a third of a roadmap page's database time); for a
            # scalar key the cached generic plan is taken after five executions.
            parent = bindparam("_key", type_=key.type)
        if parent is None:
            keys = (
                func.unnest(bindparam("_keys", type_=ARRAY(key.type)))
                .table_valued("_key")
                .render_derived(name=f"{name}_k")
            )
            parent = keys.c._key
        # A range rather than `key = parent`: with `=`, PostgreSQL takes the key as constant,
        # drops it from the ORDER BY and may walk the (sort, id) index instead, filtering out
        # the other parents' rows (all 10,000 of a large product, to page a small one beside
        # it). The range keeps `key` first in the ORDER BY, which only the (key, sort, id)
        # index returns in order — in the sort's direction, so that a descending page walks
        # it backwards (key ascending before `sort DESC, id DESC` is no index's order: the
        # parent's rows were all read and sorted, 43 ms for 10,000 stories).
        # (The window numbers in the same order, so one index walk serves both.)
        ordered = [key.desc() if sort.descending else key, *order]
        page = rows.where(key >= parent, key <= parent).add_columns(key.label("_key"))
        # A nested page is read for one parent row at a time and aggregated in the order its
        # rows come (jsonpages._string_agg): no window numbers them (a WindowAgg per parent
        # row was ~20 % of a roadmap page's statement).
        if not nested:
            page = page.add_columns(func.row_number().over(order_by=ordered).label("_rn"))
        page = page.order_by(*ordered).limit(per_parent)
        counted = None
        if total:
            ids = stmt.order_by(None).with_only_columns(self.model.id, maintain_column_froms=True)
            ids = ids.where(key == parent).limit(bindparam("_count_cap", type_=Integer()))
            if keys is not None:
                ids = ids.correlate(keys)
            capped = ids.subquery(f"{name}_ids")
            counted = select(func.count().label("_total")).select_from(capped)
        if keys is None:
            if counted is None:
                return page.subquery(name)
            own = page.subquery(f"{name}_p")
            alone = counted.subquery(f"{name}_n")
            return (
                select(*own.c, alone.c._total).select_from(own.join(alone, true())).subquery(name)
            )
        lateral = page.lateral(f"{name}_p")
        source = keys.join(lateral, true())
        columns = list(lateral.c)
        if counted is not None:
            count = counted.lateral(f"{name}_n")
            source = source.join(count, true())
            columns.append(count.c._total)
        return select(*columns).select_from(source).subquery(name)

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


def dialect_insert(session: AsyncSession, target: Any) -> Any:
    """`INSERT` for `target` in the session's dialect (PostgreSQL's or SQLite's), the form that
    has `on_conflict_do_update` / `on_conflict_do_nothing` for an upsert."""
    bind = session.bind
    return (pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert)(
        target
    )


async def save(session: AsyncSession, obj: Any) -> None:
    """Flush, then reload what the flush expired (SQL-computed attributes such as evidence
    counts), because a lazy load cannot happen later in async code. A model mapped with a
    `version_id_col` whose row another request changed since it was read is a 409."""
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "The resource was changed by another request at the same time; "
            "fetch it again and retry."
        ) from exc
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


def not_archived(obj: Any) -> None:
    """409 for a change to an archived resource (DELETE is its last change; read-only after)."""
    if obj.archived_at is not None:
        raise Conflict("The resource is archived; it cannot be changed or approved.")


def archive(obj: Any) -> list[str]:
    """Soft-delete: DELETE never removes rows."""
    if obj.archived_at is not None:
        return []
    now: datetime = utcnow()
    obj.archived_at = now
    obj.updated_at = now
    obj.version += 1
    return ["archived_at"]


def _given(filters: dict[str, Any]) -> Filters:
    """The filters given (None: no such filter) in name order: with include_archived, what
    determines a `filtered(...)` statement."""
    return tuple(sorted((name, value) for name, value in filters.items() if value is not None))


def _parent_params(keys: Collection[Any]) -> dict[str, Any]:
    """The parents of a `_partitioned` statement as its bind parameters: `_keys`, and the
    only one as `_key` (the statement built for one parent reads that one)."""
    found = list(keys)
    return {"_keys": found, "_key": found[0]} if len(found) == 1 else {"_keys": found}


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

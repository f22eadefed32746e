"""Pages rendered as JSON text by PostgreSQL (`Repository.json_pages_by`): what a rendered
object holds (JsonMember), a page nested in it (JsonNest), what a read returns (JsonPages),
and the SQL that renders them (JsonStatement). The repository builds each level's window
subquery (`Repository.json_level`) and imports this module; this module imports no
repository: it reaches one only through the JsonSource protocol. The GraphQL fast path
(JsonPage in app/graphql/fastpath.py) is its client; the resources' services build the
JsonNests after authorizing their reads."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from app.db.types import UTCDateTime

# The filters given to a repository's `filtered(...)`, as (name, value) pairs in name order.
Filters = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class JsonMember:
    """One member of an object that the database renders as JSON text: its name and either
    a model attribute (an enum's stored values mapped to the names to emit; `number` for a
    float column, written as orjson writes floats), a constant string (e.g. a GraphQL
    `__typename`), or a nested page of another resource (`nested`). `when`: a UTC
    timestamp column, written as Python's `datetime.isoformat()` writes it."""

    name: str
    attr: str | None = None
    enum: tuple[tuple[str, str], ...] | None = None
    number: bool = False
    when: bool = False
    const: str | None = None
    nested: JsonNest | None = None


class _Total:
    """The `totalCount` member of a rendered connection object (see JsonNest.parts)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TOTAL"


TOTAL = _Total()


class JsonSource(Protocol):
    """What renders one level of a JSON page: a repository (`Repository.json_level`)."""

    def json_level(
        self,
        renderer: JsonStatement,
        query: Any,
        key_attr: str,
        members: tuple[JsonMember, ...],
        parent: Any,
        per_parent: Any,
        total: bool,
        filters: Filters,
        nested: bool = False,
    ) -> JsonLevel: ...


@dataclass(frozen=True, slots=True)
class JsonNest:
    """A page of another resource inside each rendered object: the first `query.limit`
    rows of the repository's `filtered(**filters)` (a ListQuery's limit, sort and
    include_archived) whose `key_attr` equals the object's `parent_attr`, rendered as the object
    `{<part>: <nodes array> | <constant> | <count>, ...}` (a part of None is the nodes, of
    TOTAL the number of rows of the filters, like totalCount). Built by the nested
    resource's service, which authorized the read; `touch` records the ids served."""

    repo: Callable[[AsyncSession], JsonSource]  # the repository class
    key_attr: str
    parent_attr: str
    filters: Filters
    query: Any  # app.core.repository.ListQuery
    members: tuple[JsonMember, ...]
    parts: tuple[tuple[str, str | _Total | None], ...]
    touch: Callable[[list[str]], None] = field(compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class JsonLevel:
    """One level of a `JsonStatement`: its window subquery's name, its FROM clause (the
    subquery joined to the LATERAL pages nested in it), its key column, each row's object
    text, whether every value in it could be written (None: nothing to check), and the ids
    columns of the pages nested in it."""

    name: str
    source: Any
    key: Any
    obj: Any
    ok: Any
    nested_ids: list[Any]


@dataclass(slots=True)
class JsonPages:
    """What `json_pages_by` read: each parent's nodes as JSON text with the ids of its rows
    (parents without rows left out), the ids of every nested page, per JsonNest, and with
    `total`, each parent's number of rows (its totalCount)."""

    pages: dict[Any, tuple[str, list[str]]]
    nested: list[tuple[JsonNest, list[str]]]
    totals: dict[Any, int] = field(default_factory=dict)

    def touch_nested(self) -> None:
        """Record the ids of every nested page on the audit record of its own service."""
        for nest, ids in self.nested:
            nest.touch(ids)


# Column types whose values PostgreSQL writes exactly as orjson writes the Python values the
# row would hold (strings, ints, booleans, UUIDs as strings; floats see JsonMember.number).
# TypeDecorators (PHI columns among them, whose values only the application can decrypt)
# never qualify, except UTC timestamps (see JsonMember.when).
_JSON_TYPES = (String, Text, Integer, Boolean, Uuid, Float)


def json_renderable(column: Any) -> bool:
    """Whether `json_pages_by` can render this model column."""
    if not isinstance(column, Column):
        return False
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return True
    return isinstance(kind, _JSON_TYPES) and not isinstance(kind, TypeDecorator)


def is_timestamp(column: Any) -> bool:
    """A UTC timestamp column (rendered as `datetime.isoformat()` writes its value)."""
    return isinstance(column, Column) and isinstance(column.type, UTCDateTime)


def renders_json(session: AsyncSession) -> bool:
    """Whether `Repository.json_pages_by` works on this session's database (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


_TEXT = Text()


def member_attrs(members: tuple[JsonMember, ...]) -> list[str]:
    """The model attributes a level rendering `members` reads (nested pages' parent keys
    included)."""
    attrs = [m.attr for m in members if m.attr is not None]
    return attrs + [m.nested.parent_attr for m in members if m.nested is not None]


def nests_of(members: tuple[JsonMember, ...]) -> list[JsonNest]:
    """The JsonNests among `members`, depth first: the order of the statement's id columns."""
    found: list[JsonNest] = []
    for m in members:
        if m.nested is not None:
            found.append(m.nested)
            found.extend(nests_of(m.nested.members))
    return found


def _text(value: str) -> Any:
    """A constant in the statement's text, not a bind parameter: the statement is built and
    prepared once, and its ~70 constants would otherwise be processed by SQLAlchemy and
    encoded by asyncpg on every execution. Standard SQL quoting (no backslash escapes)."""
    if "\x00" in value:
        raise ValueError("NUL in an SQL constant")
    return literal_column("'" + value.replace("'", "''") + "'", _TEXT)


def _isoformat(value: Any) -> Any:
    """A timestamptz as the JSON string of the aware UTC datetime's `isoformat()` (what
    asyncpg's value serializes to): microseconds only when not zero, offset +00:00. The
    format is chosen per row (whole seconds: none), which costs a tenth less of a 50-story
    page's statement than writing them and cutting ".000000" off with regexp_replace."""
    whole = func.date_trunc(_text("second"), value) == value
    shown = func.to_char(
        func.timezone(_text("UTC"), value),
        case(
            (whole, _text('YYYY-MM-DD"T"HH24:MI:SS')),
            else_=_text('YYYY-MM-DD"T"HH24:MI:SS.US'),
        ),
    )
    return case((value.is_(None), _text("null")), else_=_cat(_text('"'), shown, _text('+00:00"')))


def _plain(value: Any, column: Any, enum: tuple[tuple[str, str], ...] | None) -> Any:
    """A string, integer, boolean, UUID or enum column's value as JSON text. Only strings
    need to_json's escaping: a UUID's or a number's text is its JSON (quoted for a UUID), an
    enum's stored value maps to its name's JSON constant, and `null` is only written for a
    nullable column (each saved call counts: it runs for every row of a page)."""
    kind = getattr(column, "type", None)
    shown: Any
    if enum is not None:
        shown = case(
            *((value == _text(stored), _text(orjson.dumps(out).decode())) for stored, out in enum)
        )
    elif isinstance(kind, Uuid):
        shown = _cat(_text('"'), cast(value, _TEXT), _text('"'))
    elif isinstance(kind, (Integer, Boolean)) and not isinstance(kind, TypeDecorator):
        shown = cast(value, _TEXT)
    else:
        shown = cast(func.to_json(value), _TEXT)
    if enum is None and getattr(column, "nullable", True) is False:
        return shown
    return func.coalesce(shown, _text("null"))


def _cat(*pieces: Any) -> Any:
    """`a || b || …`: the pieces of an object's text. Every piece is non-null (constants,
    coalesce(…, 'null'), NOT NULL columns, CASE with a null branch), except an empty
    page's string_agg, which the caller coalesces. concat() costs a call of each argument's
    output function per row (a quarter of the roadmap page statement's time, bench/README.md
    "Session 8"), and by skipping a null argument it once wrote '""' for a null UUID."""
    out = pieces[0]
    for piece in pieces[1:]:
        out = out.op("||")(piece)
    return out


def _string_agg(value: Any, order: Any | None) -> Any:
    """Comma-joined `value`s in `order`; without `order`, in the order its input comes.

    A nested page (JsonStatement._nested) aggregates without ORDER BY: its input is its
    level's subquery (`ORDER BY … LIMIT`, never flattened into its parent because of its
    LIMIT) joined only `ON true`, to its own nested pages (LATERAL) and to its one-row count:
    joins without a join clause that only a nested loop can run, and a nested loop keeps the
    order of the side it walks once, so rows arrive in the page's order (the JSON-page tests
    compare every shape with graphql-core's answer). An ordered aggregate sorts each
    parent's rows again (a tuplesort per parent: ~13 % of the page statement). The root
    level keeps ORDER BY: it groups by key, and measured faster with it."""
    if order is None:
        return func.string_agg(value, _text(","))
    return func.string_agg(value, aggregate_order_by(_text(","), order))


class JsonStatement:
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

    def name(self, base: str) -> str:
        """A name for a subquery of this statement, unique in it."""
        self.names += 1
        return f"{base}{self.names}"

    def build(
        self,
        root: JsonSource,
        query: Any,
        key_attr: str,
        members: tuple[JsonMember, ...],
        total: bool,
        filters: Filters,
        one: bool = False,
    ) -> Select:
        """The statement of `root`'s first pages per value of `key_attr` (bound `_keys`;
        `one`: the one bound `_key`; rows up to `_rn_max`): (key, text, ids, ok, total,
        nested ids…) per parent."""
        # The parents bound as one array: one statement text whatever their number (an
        # expanding IN renders and prepares one per count); one parent as a scalar (see
        # Repository._partitioned).
        rn_max = bindparam("_rn_max", type_=Integer())
        parent: Any = bindparam("_key") if one else None
        level = root.json_level(self, query, key_attr, members, parent, rn_max, total, filters)
        name = level.name
        rn = literal_column(f'{name}."_rn"', type_=Integer())
        key_col = literal_column(f'{name}."_key"', type_=level.key.type)
        columns = [
            key_col,
            _cat(_text("["), _string_agg(level.obj, rn), _text("]")),
            _string_agg(cast(literal_column(f'{name}."id"'), _TEXT), rn),
            func.bool_and(level.ok) if level.ok is not None else true(),
            func.max(literal_column(f'{name}."_total"')) if total else literal_column("0"),
            *(_string_agg(ids, rn) for ids in level.nested_ids),
        ]
        statement = select(*columns).select_from(level.source).where(rn <= rn_max).group_by(key_col)
        return statement

    @staticmethod
    def read(
        rows: Iterable[Any], keys: Collection[Any], members: tuple[JsonMember, ...], total: bool
    ) -> JsonPages | None:
        """The rows of a `build` statement (key, text, ids, ok, total, nested ids…) as
        JsonPages; None when a page holds a value orjson would write otherwise. `members`
        are this request's (their JsonNests' `touch` is this request's): the statement
        may have been built from equal ones of an earlier request, in the same order."""
        found = {row[0]: row for row in rows}
        if not all(row[3] for row in found.values()):
            return None
        pages = {k: (row[1], row[2].split(",")) for k, row in found.items()}
        nested = [
            (
                nest,
                [
                    i
                    for k in keys
                    if k in found and found[k][5 + n]
                    for i in found[k][5 + n].split(",")
                ],
            )
            for n, nest in enumerate(nests_of(members))
        ]
        totals = {k: int(row[4]) for k, row in found.items()} if total else {}
        return JsonPages(pages, nested, totals)

    def level(
        self,
        name: str,
        source: Any,
        key: Any,
        selected: tuple[Any, ...],
        members: tuple[JsonMember, ...],
    ) -> JsonLevel:
        """The level whose window subquery `source` (named `name`, partitioned by `key`)
        holds the `selected` columns: each row's object text with `members`, the pages
        nested in it joined as LATERAL subqueries."""
        by_key = {c.key: c for c in selected}
        if not set(member_attrs(members)) <= by_key.keys():
            raise ValueError("json_pages_by: unknown attribute")

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
                        (shown.regexp_match(_text("^-?[0-9]+$")), _cat(shown, _text(".0"))),
                        else_=shown,
                    )
                )
                # Exponent forms (1e+16, 1e-05), NaN and infinities are written otherwise.
                oks.append(
                    or_(value.is_(None), shown.regexp_match(_text("^-?[0-9]+([.][0-9]+)?$")))
                )
            elif m.when:
                value = col(m.attr)  # type: ignore[arg-type]
                pieces.append(_isoformat(value))
                oks.append(or_(value.is_(None), func.isfinite(value)))  # no 'infinity'
            else:
                attr: str = m.attr  # type: ignore[assignment]
                pieces.append(_plain(col(attr), by_key[attr], m.enum))
        pieces.append(_text("}" if members else "{}"))
        ok = and_(*oks) if oks else None
        return JsonLevel(name, source, key, _cat(*pieces), ok, nested_ids)

    def _nested(self, nest: JsonNest, parent: Any) -> tuple[Any, Any, Any, list[Any]]:
        """A LATERAL page of `nest` under the row whose `parent_attr` is `parent`: (its
        object text, the LATERAL subquery to join, ok, ids columns: its own, then those of
        the pages nested in it)."""
        total = any(kind is TOTAL for _, kind in nest.parts)
        limit = literal_column(str(int(nest.query.limit)), Integer())
        level = nest.repo(self.session).json_level(
            self,
            nest.query,
            nest.key_attr,
            nest.members,
            parent,
            limit,
            total,
            nest.filters,
            nested=True,
        )
        name, ok, deeper = level.name, level.ok, level.nested_ids
        lateral_name = self.name("nest")
        # Null for a parent without rows (coalesced to [] below).
        nodes = _cat(_text("["), _string_agg(level.obj, None), _text("]"))
        columns = [
            nodes.label("nodes"),
            func.bool_and(ok).label("ok") if ok is not None else true().label("ok"),
            _string_agg(cast(literal_column(f'{name}."id"'), _TEXT), None).label("ids"),
            *(_string_agg(ids, None).label(f"ids{n}") for n, ids in enumerate(deeper)),
        ]
        if total:
            columns.append(func.max(literal_column(f'{name}."_total"')).label("total"))
        # (The level's LIMIT is the page: a nested level has no row numbers to filter on.)
        lateral = select(*columns).select_from(level.source).lateral(lateral_name)
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
        return _cat(*pieces), lateral, func.coalesce(lateral.c.ok, true()), ids

"""Connections the database renders as JSON, on graphql-core's executor.

graphql-core resolves and completes every field of every object (~4-5 µs per field; a
roadmap page has ~1,150). For a connection whose selection asks only for `nodes` of plain
column fields (with `totalCount`, `__typename`s and connections of the same kind nested in
the nodes), PostgreSQL can write the whole page as JSON text in one statement per query
level, as PostGraphile does: the field's value is then that text (an `orjson.Fragment`) and
graphql-core walks only the fields above it.

How it plugs in, on public extension points only:
- a field opts in with strawberry field metadata, `metadata={JSON_PAGE: JsonPage(...)}`
  (what to read, how its service renders it);
- `RenderingExecutor` is the executor class strawberry hands graphql-core (strawberry's
  documented `execution_context_class`); its `execute_field` renders such a field when the
  document's selection allows it, and otherwise (another database, a cursor, a field that is
  not a plain column, a directive other than @skip/@include …) leaves the field to
  graphql-core and its resolver, unchanged;
- the parents of one level are batched by a DataLoader per field occurrence: one `fetch`
  (one statement) for all of them, as the resolvers' own loaders do.

Errors: a service raising while rendering (not found, forbidden) is the field's error, as
the resolver's would be (the `*_json` services authorize and audit exactly like the row
services the resolvers call); the answer is byte-identical to graphql-core's resolvers, which
tests/graphql/test_differential.py and test_json_pages.py check across roles and documents.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLIncludeDirective,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLString,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_argument_values,
)
from graphql.language import Visitor, visit
from graphql.pyutils import Path, Undefined
from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, Uuid
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper
from strawberry import UNSET
from strawberry.dataloader import DataLoader
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from app.core.jsonpages import TOTAL, JsonMember, JsonNest, is_timestamp, json_renderable
from app.graphql.internals import convert_arguments, does_fragment_condition_match
from app.graphql.scalars import SCALAR_MAP

log = logging.getLogger("rounds.graphql")

JSON_PAGE = "rounds.json_page"  # strawberry field metadata key of a JsonPage
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF  # "strawberry-definition"
MAX_PLANS = 1024  # cached plans (field occurrences × @skip/@include values)


@dataclass(frozen=True, slots=True)
class JsonPage:
    """Field metadata (`metadata={JSON_PAGE: JsonPage(...)}`) of a connection field whose
    first pages a service can have the database render as JSON text. When a document asks
    only for `nodes { <plain column fields> }` of such a field, the executor calls `fetch`
    ONCE for all parents of a level instead of the resolver once per parent: `fetch` returns
    the JSON text of each parent's nodes (a parent left out has none), or None when it
    cannot here (another database, a cursor…), and then the resolver runs as usual. The
    service behind it authorizes and audits exactly like the resolver's."""

    model: type
    parent_attr: str | None  # None: a root field (no parent object)
    # (context, parent keys, converted arguments, members, whether totalCount is asked)
    # -> each parent's (nodes text, row count), or for `single` its object's text; or None.
    fetch: Callable[
        [Any, list[Any], dict[str, Any], tuple[JsonMember, ...], bool],
        Awaitable[Mapping[Any, Any] | None],
    ]
    # The same connection nested in another rendered page: (context, converted arguments,
    # members, connection parts) -> the JsonNest its service authorized, or None.
    nest: (
        Callable[
            [Any, dict[str, Any], tuple[JsonMember, ...], tuple[tuple[str, str | None], ...]],
            JsonNest | None,
        ]
        | None
    ) = None
    # A single object rather than a connection: `fetch` maps the key to the object's text.
    single: bool = False


# GraphQL leaf types a JsonMember may have, with the column types whose values PostgreSQL's
# to_json writes exactly as the type's serializer and orjson write them. Float: double
# precision only (a real's shortest digits differ from those of the Python float it reads as).
_JSON_LEAVES: dict[Any, tuple[type, ...]] = {
    GraphQLID: (Uuid, String),
    GraphQLString: (String, Text),
    GraphQLInt: (Integer,),
    GraphQLBoolean: (Boolean,),
    GraphQLFloat: (Float,),
}
_DATETIME_SERIALIZE = SCALAR_MAP[datetime].serialize


class _NotRendered(Exception):
    """This selection is not for the database (the resolver answers it)."""


def _json_leaf(key: str, attr: str, type_: GraphQLOutputType, column: Any) -> JsonMember:
    """The member of a leaf field `key` read from `column`, if the database writes it
    exactly as the field's serializer would."""
    nonnull = isinstance(type_, GraphQLNonNull)
    leaf = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not json_renderable(column) or (nonnull and column.nullable):
        raise _NotRendered(key)
    if is_timestamp(column):  # DateTime: strawberry's isoformat, written by the database
        if not isinstance(leaf, GraphQLScalarType) or leaf.serialize is not _DATETIME_SERIALIZE:
            raise _NotRendered(key)
        return JsonMember(key, attr, when=True)
    kind = column.type
    if isinstance(leaf, GraphQLEnumType):
        stored = [
            v.value.value if isinstance(v.value, Enum) else v.value for v in leaf.values.values()
        ]
        if not all(isinstance(v, str) for v in stored) or not isinstance(kind, String):
            raise _NotRendered(key)
        return JsonMember(key, attr, enum=tuple((v, leaf.serialize(v)) for v in stored))
    if not isinstance(kind, _JSON_LEAVES.get(leaf, ())):
        raise _NotRendered(key)
    if isinstance(kind, BigInteger) or (isinstance(kind, Float) and kind.precision is not None):
        raise _NotRendered(key)  # beyond GraphQL's 32-bit Int; a real
    return JsonMember(key, attr, number=leaf is GraphQLFloat)


def _column_attr(field_def: GraphQLField) -> str | None:
    """The attribute a strawberry field without a resolver of its own reads (the default
    resolver is getattr), or None."""
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if definition is None or definition.base_resolver is not None or field_def.args:
        return None
    if not definition.is_basic_field:
        return None
    if getattr(definition, "default_resolver", getattr) is not getattr:
        return None
    return definition.python_name


def _page_of(field_def: GraphQLField) -> tuple[JsonPage, Any] | None:
    """The field's JsonPage and strawberry definition, if it has one."""
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if definition is None:
        return None
    page = definition.metadata.get(JSON_PAGE)
    return None if page is None else (page, definition)


class _Nested(NamedTuple):
    """A connection nested in the nodes of a rendered one: its place among the members."""

    place: int
    edge: Edge
    field_def: GraphQLField
    definition: Any  # strawberry's field (its arguments)
    node: FieldNode


class Edge:
    """A database-rendered field of one document: the connection object's members in order
    (None marks `nodes`, otherwise a `__typename` value or TOTAL), the node members, and
    where among them connections nested in the nodes go."""

    __slots__ = ("members", "nested", "page", "parts", "total")

    def __init__(
        self,
        page: JsonPage,
        parts: tuple[tuple[str, Any], ...] | None,
        members: tuple[JsonMember, ...],
        nested: tuple[_Nested, ...] = (),
    ) -> None:
        self.page = page
        self.parts = parts
        self.members = members
        self.nested = nested
        self.total = parts is not None and any(kind is TOTAL for _, kind in parts)

    def run_members(
        self, context: Any, variables: Any, convert: Callable[..., dict[str, Any]]
    ) -> tuple[JsonMember, ...] | None:
        """The members for this request: nested connections as the JsonNest their services
        return for this request's arguments; None when one of them cannot be rendered."""
        if not self.nested:
            return self.members
        members = list(self.members)
        for child in self.nested:
            edge = child.edge
            inner = edge.run_members(context, variables, convert)
            if inner is None or edge.page.nest is None or edge.parts is None:
                return None
            kwargs = convert(child.field_def, child.definition, child.node, variables)
            nest = edge.page.nest(context, kwargs, inner, edge.parts)
            if nest is None:
                return None
            members[child.place] = JsonMember(members[child.place].name, nested=nest)
        return tuple(members)

    def value(self, found: Any) -> Any:
        """The field's completed value from what `fetch` returned for its parent: the
        object's text, or the connection with the nodes' text (and the row count)."""
        if self.parts is None:
            return orjson.Fragment(found)
        text, total = found
        nodes = orjson.Fragment(text)
        return {
            key: nodes if kind is None else total if kind is TOTAL else kind
            for key, kind in self.parts
        }


# --- planning: which selections the database renders -------------------------------------
class _Planner:
    """Walks one field occurrence's selection (fragments merged, @skip/@include decided by
    the request's variables) into an Edge, or raises _NotRendered."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, Any], variables: Any):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _included(self, node: Any) -> bool:
        skip = include = None
        for d in node.directives or ():
            name = d.name.value
            if name == "skip":
                skip = d
            elif name == "include":
                include = d
            else:
                raise _NotRendered(f"directive @{name}")
        if (
            skip is not None
            and get_argument_values(GraphQLSkipDirective, skip, self.variables)["if"]
        ):
            return False
        return include is None or bool(
            get_argument_values(GraphQLIncludeDirective, include, self.variables)["if"]
        )

    def collect(
        self, type_: GraphQLObjectType, sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The selections' fields by response key, as graphql-core groups them."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in sets:
            self._collect(type_, selection_set, grouped, visited)
        return grouped

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if does_fragment_condition_match(self.schema, selection, type_):
                    self._collect(type_, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    raise _NotRendered("fragment arguments")
                name = selection.name.value
                fragment = self.fragments.get(name)
                if (
                    fragment is None
                    or name in visited
                    or not does_fragment_condition_match(self.schema, fragment, type_)
                ):
                    continue
                visited.add(name)
                if getattr(fragment, "variable_definitions", None):
                    raise _NotRendered("fragment variables")
                self._collect(type_, fragment.selection_set, grouped, visited)
            else:  # pragma: no cover - no other selection kinds
                raise _NotRendered(type(selection).__name__)

    def edge(self, page: JsonPage, type_: GraphQLOutputType, nodes: list[FieldNode]) -> Edge:
        """The rendering of a field whose selection is `nodes` (with `totalCount` and
        `__typename`s) over fields that are plain columns of `page.model` or connections the
        database renders too; _NotRendered for anything else (edges, cursors, pageInfo,
        other nested objects, JSON columns)."""
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if not isinstance(type_, GraphQLObjectType) or type_.is_type_of is not None:
            raise _NotRendered("not an object type")
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        if page.single:
            return Edge(page, None, *self._members(page, type_, sets))
        if "nodes" not in type_.fields:
            raise _NotRendered("not a connection")
        parts: list[tuple[str, Any]] = []
        members: tuple[JsonMember, ...] | None = None
        nested: tuple[_Nested, ...] = ()
        for key, fields in self.collect(type_, sets).items():
            name = fields[0].name.value
            if name == "__typename":
                parts.append((key, type_.name))
            elif name == "totalCount" and not fields[0].arguments:
                parts.append((key, TOTAL))
            elif name == "nodes" and members is None:
                node_type: Any = type_.fields["nodes"].type
                for wrapper in (GraphQLNonNull, GraphQLList, GraphQLNonNull):  # [T!]!
                    if not isinstance(node_type, wrapper):
                        raise _NotRendered("nodes type")
                    node_type = node_type.of_type
                if not isinstance(node_type, GraphQLObjectType) or node_type.is_type_of:
                    raise _NotRendered("nodes type")
                node_sets = [f.selection_set for f in fields if f.selection_set is not None]
                if len(node_sets) != len(fields):
                    raise _NotRendered("nodes without selection")
                members, nested = self._members(page, node_type, node_sets)
                parts.append((key, None))
            else:
                raise _NotRendered(name)
        if members is None:
            raise _NotRendered("no nodes")
        return Edge(page, tuple(parts), members, nested)

    def _members(
        self, page: JsonPage, type_: GraphQLObjectType, sets: list[SelectionSetNode]
    ) -> tuple[tuple[JsonMember, ...], tuple[_Nested, ...]]:
        """The members of each object of `type_`: plain column leaves, `__typename`, and
        connection fields the database can render in turn (their place and plan: what they
        render depends on each request's arguments)."""
        mapper: Mapper[Any] = sa_inspect(page.model)
        columns = mapper.column_attrs
        members: list[JsonMember] = []
        nested: list[_Nested] = []
        for key, fields in self.collect(type_, sets).items():
            name = fields[0].name.value
            if name == "__typename":
                members.append(JsonMember(key, const=type_.name))
                continue
            field_def = type_.fields.get(name)
            if field_def is None or name.startswith("__"):
                raise _NotRendered(name)
            attr = _column_attr(field_def)
            if attr is not None and attr in columns:
                if any(f.selection_set is not None for f in fields):
                    raise _NotRendered(name)
                members.append(_json_leaf(key, attr, field_def.type, columns[attr].expression))
                continue
            found = _page_of(field_def)
            if found is None or found[0].single:
                raise _NotRendered(name)
            child, definition = found
            edge = self.edge(child, field_def.type, fields)
            nested.append(_Nested(len(members), edge, field_def, definition, fields[0]))
            members.append(JsonMember(key))  # replaced per request
        return tuple(members), tuple(nested)


def _condition_variables(operation: Any, fragments: Mapping[str, Any]) -> tuple[str, ...]:
    """The variables that decide an @skip/@include of the operation or its fragments."""
    names: list[str] = []

    class _Conditions(Visitor):
        def enter_directive(self, node: Any, *_args: Any) -> Any:
            if node.name.value in ("skip", "include"):
                for arg in node.arguments or ():
                    if isinstance(arg.value, VariableNode):
                        names.append(arg.value.name.value)

    visit(operation, _Conditions())
    for fragment in fragments.values():
        visit(fragment, _Conditions())
    return tuple(dict.fromkeys(names))


class _Plans:
    """Edges per field occurrence (the FieldNodes of the cached parsed document are the same
    objects on every request) and @skip/@include values; None: not rendered."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Edge | None]] = (
            OrderedDict()
        )
        self._conditions: dict[int, tuple[Any, tuple[str, ...]]] = {}

    def conditions(self, operation: Any, fragments: Mapping[str, Any]) -> tuple[str, ...]:
        hit = self._conditions.get(id(operation))
        if hit is not None and hit[0] is operation:
            return hit[1]
        names = _condition_variables(operation, fragments)
        if len(self._conditions) >= MAX_PLANS:
            self._conditions.clear()
        self._conditions[id(operation)] = (operation, names)
        return names

    def edge(
        self,
        page: JsonPage,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        nodes: list[FieldNode],
        executor: Any,
    ) -> Edge | None:
        coerced = executor.variable_values.coerced
        names = self.conditions(executor.operation, executor.fragment_definitions)
        try:
            values = tuple(coerced.get(n, Undefined) for n in names)
            key = (id(parent_type), *map(id, nodes), *values)
            hit = self._entries.get(key)
        except TypeError:  # an unhashable condition value: not worth caching
            key, hit = None, None
        if (
            key is not None
            and hit is not None
            and all(a is b for a, b in zip(hit[0], nodes, strict=True))
        ):
            self._entries.move_to_end(key)
            return hit[1]
        planner = _Planner(executor.schema, executor.fragment_definitions, executor.variable_values)
        try:
            edge: Edge | None = planner.edge(page, field_def.type, nodes)
        except _NotRendered as exc:
            log.debug("graphql: %s not rendered (%s)", field_def.ast_node, exc)
            edge = None
        if key is not None:
            self._entries[key] = (tuple(nodes), edge)
            if len(self._entries) > MAX_PLANS:
                self._entries.popitem(last=False)
        return edge


_PLANS = _Plans()
# Fields answered from the database's text / JsonPage fields left to their resolver, since
# start (tests and bench/cpu_profile.py read them).
STATS = {"rendered": 0, "resolved": 0}


# --- execution -----------------------------------------------------------------------------
class RenderingExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor (strawberry's subclass of it) with database-rendered fields:
    passed as strawberry's `execution_context_class`. One instance per operation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per field occurrence: the DataLoader batching the parents of one level.
        self._rendered: dict[tuple[int, ...], DataLoader[Any, Any]] = {}
        self._strawberry: Any = (self.schema.extensions or {}).get(_DEFINITION)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        first = field_details_list[0]
        field_def = parent_type.fields.get(first.node.name.value)
        found = None if field_def is None else _page_of(field_def)
        if (
            found is None
            or self._strawberry is None
            or getattr(self.middleware_manager, "middlewares", None)
            or self.operation.operation is not OperationType.QUERY
        ):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        if any(d.fragment_variable_values for d in field_details_list):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        assert field_def is not None
        nodes = [d.node for d in field_details_list]
        edge = _PLANS.edge(found[0], parent_type, field_def, nodes, self)
        if edge is None:
            STATS["resolved"] += 1
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return self._execute_rendered(
            edge, found[1], parent_type, source, field_details_list, path, position_context
        )

    async def _execute_rendered(
        self,
        edge: Edge,
        definition: Any,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        field_def = parent_type.fields[field_details_list[0].node.name.value]
        nodes = [d.node for d in field_details_list]
        attr = edge.page.parent_attr
        try:
            if attr is None:  # a root field: one parent, nothing to batch
                found = (await self._fetch(edge, definition, field_def, nodes, [None]))[0]
            else:
                loader = self._loader(edge, definition, field_def, nodes)
                found = await loader.load(getattr(source, attr))
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None
        if found is _RESOLVER:  # not rendered here: the resolver answers
            STATS["resolved"] += 1
            result = super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
            return await result if self.is_awaitable(result) else result
        STATS["rendered"] += 1
        return edge.value(found)

    def _loader(
        self, edge: Edge, definition: Any, field_def: GraphQLField, nodes: list[FieldNode]
    ) -> DataLoader[Any, Any]:
        """The DataLoader of this field occurrence: one `fetch` for the parents of a level."""
        key = tuple(map(id, nodes))
        loader = self._rendered.get(key)
        if loader is None:

            async def batch(keys: list[Any]) -> list[Any]:
                return await self._fetch(edge, definition, field_def, nodes, keys)

            loader = self._rendered[key] = DataLoader(batch, cache=False)
        return loader

    async def _fetch(
        self,
        edge: Edge,
        definition: Any,
        field_def: GraphQLField,
        nodes: list[FieldNode],
        keys: list[Any],
    ) -> list[Any]:
        """What `fetch` rendered for each parent key, or _RESOLVER for a parent the resolver
        must answer (the database cannot render it here, or the service did not: not found)."""
        context, variables = self.context_value, self.variable_values
        try:
            members = edge.run_members(context, variables, self._convert)
            kwargs = self._convert(field_def, definition, nodes[0], variables)
        except Exception:  # an argument the resolvers report, each at its own path
            members = None
        texts = None
        if members is not None:
            texts = await edge.page.fetch(context, list(keys), kwargs, members, edge.total)
        if texts is None:
            return [_RESOLVER] * len(keys)
        empty = ("[]", 0) if edge.parts is not None else None
        out = [texts.get(k, empty) for k in keys]
        return [_RESOLVER if v is None else v for v in out]

    def _convert(
        self, field_def: GraphQLField, definition: Any, node: FieldNode, variables: Any
    ) -> dict[str, Any]:
        """A field's arguments as its resolver receives them (strawberry's conversion),
        converted once across requests for the same literal and scalar variable values."""
        key = _CONVERTED.key(node, variables.coerced)
        hit = _CONVERTED.get(key, node)
        if hit is not None:
            return dict(hit)
        strawberry = self._strawberry
        args = get_argument_values(field_def, node, variables)
        kwargs = convert_arguments(
            args,
            definition.arguments,
            scalar_registry=strawberry.schema_converter.scalar_registry,
            config=strawberry.config,
        )
        _CONVERTED.put(key, node, kwargs)
        return kwargs


class _Converted:
    """Converted arguments across requests, per field node and the values of the variables
    its arguments use, when those are JSON scalars (a client's ids and page sizes) and the
    converted values immutable. Types are part of the key (1, 1.0 and True are equal in
    Python, not in GraphQL)."""

    def __init__(self) -> None:
        self._names: dict[int, tuple[FieldNode, tuple[str, ...]]] = {}
        self._values: OrderedDict[tuple[Any, ...], tuple[FieldNode, dict[str, Any]]] = OrderedDict()

    def _variables(self, node: FieldNode) -> tuple[str, ...]:
        hit = self._names.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        names: list[str] = []

        class _Find(Visitor):
            def enter_variable(self, variable: Any, *_args: Any) -> Any:
                names.append(variable.name.value)

        for argument in node.arguments or ():
            visit(argument, _Find())
        if len(self._names) >= MAX_PLANS:
            self._names.clear()
        found = self._names[id(node)] = (node, tuple(dict.fromkeys(names)))
        return found[1]

    def key(self, node: FieldNode, coerced: Mapping[str, Any]) -> tuple[Any, ...] | None:
        items: list[Any] = [id(node)]
        for name in self._variables(node):
            value = coerced.get(name)
            if not isinstance(value, _SCALARS) or (isinstance(value, str) and len(value) > 256):
                return None
            items.append((name, type(value), value))
        return tuple(items)

    def get(self, key: tuple[Any, ...] | None, node: FieldNode) -> dict[str, Any] | None:
        hit = None if key is None else self._values.get(key)
        return hit[1] if hit is not None and hit[0] is node else None

    def put(self, key: tuple[Any, ...] | None, node: FieldNode, kwargs: dict[str, Any]) -> None:
        if key is None or not all(isinstance(v, _IMMUTABLE) for v in kwargs.values()):
            return
        self._values[key] = (node, dict(kwargs))
        if len(self._values) > MAX_PLANS:
            self._values.popitem(last=False)


_SCALARS = (str, int, float, bool, type(None))
_IMMUTABLE = (str, int, float, bool, type(None), Enum, type(UNSET))
_CONVERTED = _Converted()
_RESOLVER = object()  # a batch's answer for a parent the resolver must answer

"""A compiled executor for read-only GraphQL queries.

graphql-core executes every field of every object through the same generic machinery
(ResolveInfo, path, awaitable checks, completion by type): ~4-5 µs per field, ~1,150 fields
on a roadmap page. For a validated `query` operation this module compiles, once per
(document, operation, values of the variables used in @skip/@include), a plan: per selection
set the response keys with how to produce each value — a plain attribute read plus the output
type's serializer, or the field's own (strawberry-wrapped) resolver, or a nested plan. Running
the plan is a loop over those entries.

What stays the same:
- parsing, validation, limits and the operation-name stamp run before, as for any request;
- resolver-backed fields (root fields, connections, nested edges) call the same resolvers
  with an equivalent ResolveInfo, and sibling resolver calls are awaited together, so the
  DataLoaders batch exactly as under graphql-core;
- anything the plan does not cover (introspection, mutations, subscriptions, directives other
  than @skip/@include, abstract types, middleware) — and ANY error while running (an AppError,
  a null in a non-null position, a value a serializer refuses) — runs the request again through
  graphql-core's executor, after rolling back what the fast run recorded (audit record, loader
  caches), so errors, codes, masking and partial data are exactly the standard ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from math import isfinite
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLIncludeDirective,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_argument_values,
    get_variable_values,
)
from graphql.language import Visitor, visit
from graphql.pyutils import Path, Undefined
from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, Uuid
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapper

from app.core.errors import AppError
from app.core.jsonpages import TOTAL, JsonMember, JsonNest, is_timestamp, json_renderable
from app.graphql.internals import (
    ResolveInfo,
    convert_arguments,
    does_fragment_condition_match,
    field_exception_handlers,
    graphql_core_schema,
)
from app.graphql.scalars import SCALAR_MAP

log = logging.getLogger("rounds.graphql")

MAX_DOCUMENTS = 256
MAX_PLANS_PER_DOCUMENT = 16

_TYPENAME, _ATTR, _RESOLVE, _LEAF = 0, 1, 2, 3
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_NOT_ITERABLE = (bytearray, bytes, str, memoryview, Mapping)
_IMMUTABLE = (str, int, float, bool, type(None), Enum)
_SCALARS = (str, int, float, bool, type(None))
MAX_VARIABLES = 256  # cached coerced variables per document
MAX_CONVERTED = 1024  # cached converted arguments per plan


# --- connections rendered by the database ----------------------------------------------
JSON_PAGE = "rounds.json_page"  # strawberry field metadata key of a JsonPage

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


def _json_leaf(f: FieldPlan, column: Any) -> JsonMember | None:
    """The member of a compiled leaf field read from `column`, if the database can write it."""
    leaf = f.return_type
    if isinstance(leaf, GraphQLNonNull):
        leaf = leaf.of_type
    if not json_renderable(column) or (f.nonnull and column.nullable):
        return None
    if is_timestamp(column):  # DateTime: strawberry's isoformat, written by the database
        if not isinstance(leaf, GraphQLScalarType) or leaf.serialize is not _DATETIME_SERIALIZE:
            return None
        return JsonMember(f.key, f.attr, when=True)
    kind = column.type
    if isinstance(leaf, GraphQLEnumType):
        stored = [
            v.value.value if isinstance(v.value, Enum) else v.value for v in leaf.values.values()
        ]
        if not all(isinstance(v, str) for v in stored) or not isinstance(kind, String):
            return None
        return JsonMember(f.key, f.attr, enum=tuple((v, leaf.serialize(v)) for v in stored))
    if not isinstance(kind, _JSON_LEAVES.get(leaf, ())):
        return None
    if isinstance(kind, BigInteger) or (isinstance(kind, Float) and kind.precision is not None):
        return None  # beyond GraphQL's 32-bit Int; a real
    return JsonMember(f.key, f.attr, number=leaf is GraphQLFloat)


@dataclass(frozen=True, slots=True)
class JsonPage:
    """Field metadata (`metadata={JSON_PAGE: JsonPage(...)}`) of a connection field whose
    first pages a service can have the database render as JSON text. When a document asks
    only for `nodes { <plain column fields> }` of such a field, the fast path calls `fetch`
    ONCE for all parents of a level instead of the resolver once per parent:
    `fetch` returns the JSON text of each parent's nodes (a parent left out has none), or
    None when it cannot here (another database, a cursor…), and then the resolver runs as
    usual. The service behind it
    authorizes and audits exactly like the resolver's."""

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


class _JsonEdge:
    """A compiled database-rendered connection: the connection object's members in order
    (None marks `nodes`, otherwise a `__typename` value), the node members, and where among
    them connections nested in the nodes go (with their plans)."""

    __slots__ = ("members", "nested", "page", "parts", "total")

    def __init__(
        self,
        page: JsonPage,
        parts: tuple[tuple[str, Any], ...] | None,
        members: tuple[JsonMember, ...],
        nested: tuple[tuple[int, FieldPlan], ...] = (),
    ) -> None:
        self.page = page
        self.parts = parts
        self.members = members
        self.nested = nested
        self.total = parts is not None and any(kind is TOTAL for _, kind in parts)

    def run_members(self, run: _Run, path: Path) -> tuple[JsonMember, ...] | None:
        """The members for this request: nested connections as the JsonNest their services
        return for this request's arguments; None when one of them cannot be rendered."""
        if not self.nested:
            return self.members
        members = list(self.members)
        for index, child in self.nested:
            edge = child.json
            assert edge is not None  # `nested` holds connections the database may render
            inner = edge.run_members(run, path)
            if inner is None or edge.page.nest is None or edge.parts is None:
                return None
            nest = edge.page.nest(run.context, run.kwargs(child, path), inner, edge.parts)
            if nest is None:
                return None
            members[index] = JsonMember(members[index].name, nested=nest)
        return tuple(members)

    def value(self, found: Any) -> Any:
        """The field's value from what `fetch` returned for its parent: the object's text, or
        the connection with the nodes' text (and the row count)."""
        if self.parts is None:
            return orjson.Fragment(found)
        text, total = found
        nodes = orjson.Fragment(text)
        return {
            key: nodes if kind is None else total if kind is TOTAL else kind
            for key, kind in self.parts
        }


class _JsonBatch:
    """The parents of one level waiting for one database-rendered connection field."""

    __slots__ = ("closed", "f", "parents")

    def __init__(self, f: FieldPlan) -> None:
        self.f = f
        self.parents: list[tuple[Any, Any, dict]] = []  # (source, path, out)
        self.closed = False

    async def run(self, run: _Run) -> None:
        self.closed = True  # parents seen from now on start a batch of their own
        f, parents = self.f, self.parents
        edge = f.json
        assert edge is not None  # a batch is made for a connection the database may render
        path = parents[0][1]
        attr = edge.page.parent_attr
        keys = [None if attr is None else getattr(source, attr) for source, _, _ in parents]
        members = edge.run_members(run, path)
        texts = None
        if members is not None:
            kwargs = run.kwargs(f, path)
            texts = await edge.page.fetch(run.context, keys, kwargs, members, edge.total)
        if texts is None:  # not here: the resolver, parent by parent
            aws: list[Any] = []
            try:
                for source, path, out in parents:
                    _resolve(run, f, source, path, out, aws)
            except BaseException:
                _discard(aws)
                raise
            if aws:
                await _drain(run, aws)
            return
        empty = ("[]", 0) if edge.parts is not None else None
        for (_, _, out), key in zip(parents, keys, strict=True):
            found = texts.get(key, empty)
            if found is None:  # an object the service did not render: it raised, or it is not
                raise Unsupported("object not rendered")
            out[f.key] = edge.value(found)


class Unsupported(Exception):
    """The document (or this value) is not for the fast path: run the standard executor."""


# --- plans --------------------------------------------------------------------------------
# A completer turns a resolved value into its JSON-ready form: complete(run, value, path, aws).
# `path` is the value's response path (only built for values that contain objects); resolver
# calls that return awaitables are appended to `aws` as (field, awaitable, path, out dict).
Completer = Callable[[Any, Any, Any, list[Any]], Any]


def _not_planned(*_args: Any, **_kwargs: Any) -> Any:
    """A FieldPlan callable its kind does not use (each kind sets the ones it calls)."""
    raise AssertionError("a FieldPlan callable its kind does not set")


class FieldPlan:
    __slots__ = (
        "args",
        "attr",
        "complete",
        "definition",
        "field_def",
        "field_name",
        "field_nodes",
        "info_name",
        "json",
        "key",
        "kind",
        "needs_path",
        "nonnull",
        "parent_names",
        "parent_type",
        "resolve",
        "resolver",
        "return_type",
        "self_param",
        "serialize",
        "value",
    )

    def __init__(self, key: str, kind: int) -> None:
        self.key = key
        self.kind = kind
        self.attr = ""
        self.value: Any = None
        self.complete: Completer = _not_planned
        self.needs_path = False
        self.resolve: Callable[..., Any] = _not_planned
        self.field_def: GraphQLField | None = None
        self.field_name = ""
        self.field_nodes: list[FieldNode] = []
        self.return_type: GraphQLOutputType | None = None
        self.parent_type: GraphQLObjectType | None = None
        self.args: dict[str, Any] | None = None  # static argument values, if any
        # _LEAF: an attribute of scalar or enum type, serialized in line
        self.nonnull = False
        self.serialize: Callable[[Any], Any] = _not_planned
        # A strawberry resolver called directly (no per-call wrapper): the field definition,
        # the resolver, and where it wants the source and the Info.
        self.definition: Any = None
        self.resolver: Callable[..., Any] | None = None
        self.self_param = False
        self.parent_names: tuple[str, ...] = ()
        self.info_name: str | None = None
        # A connection the database may render (see JsonPage): how its value is built.
        self.json: _JsonEdge | None = None


class ObjectPlan:
    __slots__ = ("fields", "type_name")

    def __init__(self, type_name: str, fields: tuple[FieldPlan, ...]) -> None:
        self.type_name = type_name
        self.fields = fields


class OperationPlan:
    __slots__ = ("converted", "fragments", "operation", "root")

    def __init__(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        root: ObjectPlan,
    ) -> None:
        self.operation = operation
        self.fragments = fragments
        self.root = root
        # Resolver arguments converted from variables, across requests: per (field plan,
        # the request's scalar variables); immutable values only (see _Run._kwargs).
        self.converted: dict[tuple[int, Any], dict[str, Any]] = {}


def _is_basic(field_def: GraphQLField) -> str | None:
    """The attribute a strawberry field without resolver reads (config.default_resolver is
    getattr), or None when the field has a resolver of its own."""
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is None or not definition.is_basic_field:
        return None
    if getattr(definition, "default_resolver", getattr) is not getattr:
        return None
    return definition.python_name


def _uses_variables(nodes: Iterable[Any]) -> bool:
    found = False

    class _Find(Visitor):
        def enter_variable(self, *_args: Any) -> Any:
            nonlocal found
            found = True
            return Visitor.BREAK

    for node in nodes:
        visit(node, _Find())
        if found:
            return True
    return False


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Any,
        converter: Any,
    ) -> None:
        self.schema = schema
        self.converter = converter
        self.fragments = fragments
        self.variables = variables

    def _included(self, node: Any) -> bool:
        directives = node.directives
        if not directives:
            return True
        skip = include = None
        for d in directives:
            name = d.name.value
            if name == "skip":
                skip = d
            elif name == "include":
                include = d
            else:
                raise Unsupported(f"directive @{name}")
        if skip is not None:
            values = get_argument_values(GraphQLSkipDirective, skip, self.variables)
            if values["if"]:
                return False
        if include is not None:
            values = get_argument_values(GraphQLIncludeDirective, include, self.variables)
            if not values["if"]:
                return False
        return True

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if self._included(selection):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if not self._included(selection) or not does_fragment_condition_match(
                    self.schema, selection, type_
                ):
                    continue
                self._collect(type_, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    raise Unsupported("fragment arguments")
                if not self._included(selection):
                    continue
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or not does_fragment_condition_match(
                    self.schema, fragment, type_
                ):
                    continue
                if name in visited:
                    continue
                visited.add(name)
                if getattr(fragment, "variable_definitions", None):
                    raise Unsupported("fragment variables")
                self._collect(type_, fragment.selection_set, grouped, visited)
            else:  # pragma: no cover - no other selection kinds
                raise Unsupported(type(selection).__name__)

    def object_plan(
        self, type_: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> ObjectPlan:
        if type_.is_type_of is not None:
            raise Unsupported("is_type_of")
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(type_, selection_set, grouped, visited)
        fields = tuple(self.field_plan(type_, key, nodes) for key, nodes in grouped.items())
        return ObjectPlan(type_.name, fields)

    def field_plan(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            plan = FieldPlan(key, _TYPENAME)
            plan.value = parent.name
            return plan
        if name.startswith("__"):
            raise Unsupported("introspection")
        field_def = parent.fields.get(name)
        if field_def is None:
            raise Unsupported(f"unknown field {name}")
        attr = _is_basic(field_def)
        leaf_type = field_def.type
        nonnull = isinstance(leaf_type, GraphQLNonNull)
        if nonnull:
            leaf_type = leaf_type.of_type
        if (
            attr is not None
            and not field_def.args
            and isinstance(leaf_type, (GraphQLScalarType, GraphQLEnumType))
        ):
            plan = FieldPlan(key, _LEAF)
            plan.attr = attr
            plan.nonnull = nonnull
            plan.serialize = _serializer(leaf_type)
        elif attr is not None and not field_def.args:
            plan = FieldPlan(key, _ATTR)
            plan.attr = attr
        else:
            if field_def.resolve is None:
                raise Unsupported("field without resolver")
            plan = FieldPlan(key, _RESOLVE)
            plan.resolve = field_def.resolve
            self._direct(plan, field_def)
            if not _uses_variables(nodes[0].arguments or ()):
                args = get_argument_values(field_def, nodes[0], None)
                # Shared by every run: only when no resolver could change a value in place.
                if all(isinstance(v, _IMMUTABLE) for v in args.values()):
                    plan.args = args
        plan.field_def = field_def
        plan.field_name = name
        plan.field_nodes = nodes
        plan.return_type = field_def.type
        plan.parent_type = parent
        sub_sets = [n.selection_set for n in nodes if n.selection_set is not None]
        plan.complete, plan.needs_path = self.completer(field_def.type, sub_sets)
        if plan.kind == _RESOLVE and plan.definition is not None:
            page = plan.definition.metadata.get(JSON_PAGE)
            if page is not None:
                plan.json = self.json_edge(page, field_def.type, sub_sets)
        return plan

    def json_edge(
        self, page: JsonPage, type_: GraphQLOutputType, sub_sets: list[SelectionSetNode]
    ) -> _JsonEdge | None:
        """The database rendering of a connection whose selection is `nodes` (with
        `totalCount` and `__typename`s) over fields that are plain columns of `page.model`
        or connections the database renders too; None for anything else (edges, cursors,
        pageInfo, other nested objects, datetimes, JSON)."""
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if page.single:
            if not isinstance(type_, GraphQLObjectType) or type_.is_type_of is not None:
                return None
            found = self._json_members(page, type_, sub_sets)
            return None if found is None else _JsonEdge(page, None, *found)
        if not isinstance(type_, GraphQLObjectType) or "nodes" not in type_.fields:
            return None
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in sub_sets:
            self._collect(type_, selection_set, grouped, set())
        parts: list[tuple[str, Any]] = []
        members: tuple[JsonMember, ...] | None = None
        nested: tuple[tuple[int, FieldPlan], ...] = ()
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                parts.append((key, type_.name))
            elif name == "totalCount" and not nodes[0].arguments:
                parts.append((key, TOTAL))
            elif name == "nodes" and members is None:
                node_type = type_.fields["nodes"].type
                for wrapper in (GraphQLNonNull, GraphQLList, GraphQLNonNull):  # [T!]!
                    if not isinstance(node_type, wrapper):
                        return None
                    node_type = node_type.of_type
                if not isinstance(node_type, GraphQLObjectType) or node_type.is_type_of:
                    return None
                sub_sets = [n.selection_set for n in nodes if n.selection_set is not None]
                if len(sub_sets) != len(nodes):
                    return None
                found = self._json_members(page, node_type, sub_sets)
                if found is None:
                    return None
                members, nested = found
                parts.append((key, None))
            else:
                return None
        if members is None:
            return None
        return _JsonEdge(page, tuple(parts), members, nested)

    def _json_members(
        self, page: JsonPage, type_: GraphQLObjectType, sub_sets: list[SelectionSetNode]
    ) -> tuple[tuple[JsonMember, ...], tuple[tuple[int, FieldPlan], ...]] | None:
        """The members of each object of `type_`, from its compiled plan: plain column
        leaves, `__typename`, and connection fields the database can render in turn (their
        place and plan: what they render depends on each request's arguments)."""
        plan = self.object_plan(type_, sub_sets)
        mapper: Mapper[Any] = sa_inspect(page.model)
        columns = mapper.column_attrs
        members: list[JsonMember] = []
        nested: list[tuple[int, FieldPlan]] = []
        for f in plan.fields:
            if f.kind == _TYPENAME:
                members.append(JsonMember(f.key, const=f.value))
            elif f.kind == _RESOLVE and f.json is not None:
                nested.append((len(members), f))
                members.append(JsonMember(f.key))  # replaced per request
            elif f.kind == _LEAF and f.attr in columns:
                member = _json_leaf(f, columns[f.attr].expression)
                if member is None:
                    return None
                members.append(member)
            else:
                return None
        return tuple(members), tuple(nested)

    def _direct(self, plan: FieldPlan, field_def: GraphQLField) -> None:
        """Call a plain strawberry resolver without its per-call wrapper (which rebuilds the
        converted arguments on every call): only when the wrapper would add nothing else —
        no field extensions, no exception handlers."""
        definition = (field_def.extensions or {}).get("strawberry-definition")
        if (
            definition is None
            or definition.base_resolver is None
            or definition.extensions
            or (handlers := field_exception_handlers(self.converter, definition)) is None
            or handlers
        ):
            return
        resolver = definition.base_resolver
        plan.definition = definition
        plan.resolver = resolver
        plan.self_param = resolver.self_parameter is not None
        plan.parent_names = tuple(
            p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
        )
        plan.info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def completer(
        self, type_: GraphQLOutputType, sub_sets: list[SelectionSetNode]
    ) -> tuple[Completer, bool]:
        """(completer, whether it needs the value's path)."""
        if isinstance(type_, GraphQLNonNull):
            inner, needs_path = self.completer(type_.of_type, sub_sets)
            return _non_null(inner), needs_path
        if isinstance(type_, GraphQLList):
            item, needs_path = self.completer(type_.of_type, sub_sets)
            return _list(item, needs_path), needs_path
        if isinstance(type_, GraphQLObjectType):
            return _object(self.object_plan(type_, sub_sets)), True
        if isinstance(type_, GraphQLEnumType):
            return _enum(type_), False
        if isinstance(type_, GraphQLScalarType):
            return _scalar(type_), False
        raise Unsupported(f"abstract type {type_}")


def _non_null(inner: Completer) -> Completer:
    def complete(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
        if value is None:
            raise Unsupported("null in a non-null position")
        return inner(run, value, path, aws)

    return complete


def _list(item: Completer, needs_path: bool) -> Completer:
    if needs_path:

        def complete(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
            if value is None:
                return None
            if type(value) is not list and (
                not isinstance(value, Iterable) or isinstance(value, _NOT_ITERABLE)
            ):
                raise Unsupported("not iterable")
            return [item(run, v, Path(path, i, None), aws) for i, v in enumerate(value)]

        return complete

    def complete_leaves(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
        if value is None:
            return None
        if type(value) is not list and (
            not isinstance(value, Iterable) or isinstance(value, _NOT_ITERABLE)
        ):
            raise Unsupported("not iterable")
        return [item(run, v, None, aws) for v in value]

    return complete_leaves


def _object(plan: ObjectPlan) -> Completer:
    def complete(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
        if value is None:
            return None
        return _execute_object(run, plan, value, path, aws)

    return complete


def _scalar(type_: GraphQLScalarType) -> Completer:
    serialize = type_.serialize

    if type_ is GraphQLString:

        def complete_string(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
            if value is None or type(value) is str:
                return value
            result = serialize(value)
            if result is None or result is Undefined:
                raise Unsupported("serialize")
            return result

        return complete_string

    def complete(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
        if value is None:
            return None
        result = serialize(value)
        if result is None or result is Undefined:
            raise Unsupported("serialize")
        return result

    return complete


def _checked(serialize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def general(value: Any) -> Any:
        result = serialize(value)
        if result is None or result is Undefined:
            raise Unsupported("serialize")
        return result

    return general


def _serializer(type_: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """A non-null value's serialized form: the type's own serializer, with the common
    cases (which that serializer returns unchanged or as str()) answered in line."""
    general = _checked(type_.serialize)
    if isinstance(type_, GraphQLEnumType):
        return _enum_names(type_)
    if type_ is GraphQLString:

        def string(value: Any) -> Any:
            return value if type(value) is str else general(value)

        return string
    if type_ is GraphQLID:

        def id_(value: Any) -> Any:
            t = type(value)
            if t is str:
                return value
            if t is UUID or isinstance(value, UUID):  # asyncpg's UUID is a subclass
                return str(value)
            return general(value)

        return id_
    if type_ is GraphQLInt:

        def int_(value: Any) -> Any:
            if type(value) is int and _INT_MIN <= value <= _INT_MAX:
                return value
            return general(value)

        return int_
    if type_ is GraphQLFloat:

        def float_(value: Any) -> Any:
            if type(value) is float and isfinite(value):
                return value
            return general(value)

        return float_
    if type_ is GraphQLBoolean:

        def bool_(value: Any) -> Any:
            return value if value is True or value is False else general(value)

        return bool_
    return general


def _enum_names(type_: GraphQLEnumType) -> Callable[[Any], Any]:
    general = _checked(type_.serialize)
    # The enum's own serializer, memoised per (type, value): enums are few, values hashable.
    names: dict[tuple[type, Any], Any] = {}

    def enum(value: Any) -> Any:
        key = (type(value), value)
        try:
            return names[key]
        except KeyError:
            pass
        except TypeError:  # unhashable: no memo
            return general(value)
        result = general(value)
        if isinstance(value, (str, int, Enum)) and len(names) < 1024:
            names[key] = result
        return result

    return enum


def _enum(type_: GraphQLEnumType) -> Completer:
    # Typed as answering str, but a subclass's serializer (strawberry's) may answer anything.
    serialize: Callable[[Any], Any] = type_.serialize
    # The enum's own serializer, memoised per (type, value): enums are few, values hashable.
    names: dict[tuple[type, Any], Any] = {}

    def complete(run: Any, value: Any, path: Any, aws: list[Any]) -> Any:
        if value is None:
            return None
        key = (type(value), value)
        try:
            return names[key]
        except KeyError:
            pass
        except TypeError:  # unhashable: no memo
            return serialize(value)
        result = serialize(value)
        if result is None or result is Undefined:
            raise Unsupported("serialize")
        if isinstance(value, (str, int, Enum)) and len(names) < 1024:
            names[key] = result
        return result

    return complete


def _execute_object(run: _Run, plan: ObjectPlan, source: Any, path: Any, aws: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for f in plan.fields:
        kind = f.kind
        if kind == _LEAF:
            value = getattr(source, f.attr)
            if value is None:
                if f.nonnull:
                    raise Unsupported("null in a non-null position")
                out[f.key] = None
            else:
                out[f.key] = f.serialize(value)
        elif kind == _ATTR:
            value = getattr(source, f.attr)
            out[f.key] = f.complete(
                run, value, Path(path, f.key, plan.type_name) if f.needs_path else None, aws
            )
        elif kind == _RESOLVE:
            fpath = Path(path, f.key, plan.type_name)
            if f.json is not None:
                out[f.key] = None
                run.join(f, source, fpath, out, aws)
            else:
                _resolve(run, f, source, fpath, out, aws)
        else:
            out[f.key] = f.value
    return out


def _resolve(run: _Run, f: FieldPlan, source: Any, path: Any, out: dict, aws: list[Any]) -> None:
    """Call a resolver field's resolver; an awaitable result is settled later (see _drain)."""
    if (resolver := f.resolver) is not None:
        value = run.call(f, resolver, source, path)
    else:
        args = f.args if f.args is not None else run.arguments(f)
        value = f.resolve(source, run.info(f, path), **args)
    if run.is_awaitable(value):
        out[f.key] = None
        aws.append((f, value, path, out))
    else:
        out[f.key] = f.complete(run, value, path, aws)


def _discard(aws: list[Any]) -> None:
    """Close awaitables that will never run (their resolver coroutines did not start)."""
    for entry in aws:
        if type(entry) is _JsonBatch:
            continue
        close = getattr(entry[1], "close", None)
        if close is not None:
            close()
    aws.clear()


async def _settle(run: _Run, entry: Any) -> None:
    if type(entry) is _JsonBatch:
        await entry.run(run)
        return
    f, awaitable, path, out = entry
    value = await awaitable
    aws: list[Any] = []
    try:
        out[f.key] = f.complete(run, value, path, aws)
    except BaseException:
        _discard(aws)
        raise
    if aws:
        await _drain(run, aws)


async def _drain(run: _Run, aws: list[Any]) -> None:
    """Await sibling resolver results together (one DataLoader batch per edge and level).
    Every sibling runs to its end before an error propagates: nothing keeps running in the
    background when the request falls back to the standard executor."""
    if len(aws) == 1:
        await _settle(run, aws[0])
        return
    results = await asyncio.gather(*(_settle(run, a) for a in aws), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


class _Run:
    """One execution of a plan: the request's context, variables and argument values."""

    __slots__ = (
        "_args",
        "_batches",
        "_converted",
        "context",
        "helpers",
        "is_awaitable",
        "operation_extensions",
        "plan",
        "root_value",
        "scalars",
        "schema",
        "strawberry",
        "variables",
    )

    def __init__(
        self,
        schema: GraphQLSchema,
        plan: OperationPlan,
        variables: Any,
        root_value: Any,
        context: Any,
        is_awaitable: Callable[[Any], bool],
        operation_extensions: Any,
        strawberry: Any,
        scalars: Any = None,
    ) -> None:
        self.schema = schema
        self.plan = plan
        self.scalars = scalars  # the request's variables as a hashable key, or None
        self.variables = variables
        self.root_value = root_value
        self.context = context
        self.is_awaitable = is_awaitable
        self.operation_extensions = operation_extensions
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather_all, track=_track)
        self.strawberry = strawberry
        self._args: dict[int, dict[str, Any]] = {}
        self._converted: dict[int, dict[str, Any] | None] = {}
        self._batches: dict[int, _JsonBatch] = {}

    def join(self, f: FieldPlan, source: Any, path: Path, out: dict, aws: list[Any]) -> None:
        """Add a parent to the open batch of a database-rendered connection field (one per
        field occurrence and level; a batch already running starts a new one)."""
        batch = self._batches.get(id(f))
        if batch is None or batch.closed:
            batch = self._batches[id(f)] = _JsonBatch(f)
            aws.append(batch)
        batch.parents.append((source, path, out))

    def call(self, f: FieldPlan, resolver: Callable[..., Any], source: Any, path: Path) -> Any:
        """What strawberry's resolver wrapper does, with the arguments converted once per
        field per request when they are immutable values (ints, strings, enums …)."""
        info = self.strawberry.config.info_class(_raw_info=self.info(f, path), _field=f.definition)
        kwargs = self._kwargs(f, info)
        for name in f.parent_names:
            kwargs[name] = source
        if f.info_name is not None:
            kwargs[f.info_name] = info
        if f.self_param:
            return resolver(source, **kwargs)
        return resolver(**kwargs)

    def kwargs(self, f: FieldPlan, path: Path) -> dict[str, Any]:
        """The resolver's converted arguments (without source and Info)."""
        info = self.strawberry.config.info_class(_raw_info=self.info(f, path), _field=f.definition)
        return self._kwargs(f, info)

    def _kwargs(self, f: FieldPlan, info: Any) -> dict[str, Any]:
        key = id(f)
        if key in self._converted and (shared := self._converted[key]) is not None:
            return dict(shared)
        # Converted once across requests: a field's literal arguments once, arguments with
        # variables once per distinct scalar variables (they are a function of the two).
        across = (
            (key, None)
            if f.args is not None
            else None
            if self.scalars is None
            else (key, self.scalars)
        )
        if across is not None and (shared := self.plan.converted.get(across)) is not None:
            self._converted[key] = shared
            return dict(shared)
        args = f.args if f.args is not None else self.arguments(f)
        kwargs = convert_arguments(
            args,
            f.definition.arguments,
            scalar_registry=self.strawberry.schema_converter.scalar_registry,
            config=self.strawberry.config,
            info=info,
        )
        immutable = all(isinstance(v, _IMMUTABLE) for v in kwargs.values())
        self._converted[key] = dict(kwargs) if immutable else None
        if immutable and across is not None:
            if len(self.plan.converted) >= MAX_CONVERTED:
                self.plan.converted.clear()
            self.plan.converted[across] = dict(kwargs)
        return kwargs

    def arguments(self, f: FieldPlan) -> dict[str, Any]:
        args = self._args.get(id(f))
        if args is None:
            args = self._args[id(f)] = get_argument_values(
                f.field_def,  # type: ignore[arg-type]  # set on every field's plan
                f.field_nodes[0],
                self.variables,
            )
        return args

    def info(self, f: FieldPlan, path: Path) -> Any:
        plan = self.plan
        return ResolveInfo(
            f.field_name,
            f.field_nodes,
            f.return_type,  # type: ignore[arg-type]  # set on every field's plan
            f.parent_type,  # type: ignore[arg-type]  # set on every field's plan
            path,
            self.schema,
            plan.fragments,
            self.root_value,
            plan.operation,
            self.variables.coerced,
            self.context,
            self.is_awaitable,
            None,
            self.helpers,
            self.operation_extensions,
        )


async def _gather_all(values: Any) -> list[Any]:
    return list(await asyncio.gather(*values))


_BACKGROUND: set[Any] = set()


def _track(values: Any) -> None:  # pragma: no cover - no resolver tracks background work
    for v in values:
        task = asyncio.ensure_future(v)
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


# --- documents ---------------------------------------------------------------------------
class _Document:
    """What the plans of one parsed document share: its operations and fragments, and the
    variables that decide @skip/@include (their values are part of a plan's key)."""

    __slots__ = ("condition_variables", "document", "fragments", "operations", "plans", "variables")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.operations: dict[str | None, OperationDefinitionNode] = {}
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        ops: list[OperationDefinitionNode] = []
        for d in document.definitions:
            if isinstance(d, OperationDefinitionNode):
                ops.append(d)
                self.operations[d.name.value if d.name else None] = d
            elif isinstance(d, FragmentDefinitionNode):
                self.fragments[d.name.value] = d
        if len(ops) == 1:
            self.operations[None] = ops[0]
        elif None in self.operations:  # several operations and no name: a request error
            del self.operations[None]
        names: list[str] = []

        class _Conditions(Visitor):
            def enter_directive(self, node: Any, *_args: Any) -> Any:
                if node.name.value in ("skip", "include"):
                    for arg in node.arguments or ():
                        if isinstance(arg.value, VariableNode):
                            names.append(arg.value.name.value)

        visit(document, _Conditions())
        self.condition_variables = tuple(dict.fromkeys(names))
        self.plans: dict[tuple[Any, ...], OperationPlan | None] = {}
        # Coerced variables per (operation, scalar variables): see _scalar_key.
        self.variables: dict[tuple[Any, ...], Any] = {}


def _scalar_key(operation_name: str | None, variables: dict[str, Any] | None) -> Any:
    """The request's variables as a hashable key when they are all JSON scalars (strings,
    numbers, booleans, null; a client's ids and page sizes), else None. The same key means
    the same coerced variables and the same converted arguments: both are cached with it.
    Types are part of the key (1, 1.0 and True are equal in Python, not in GraphQL)."""
    if not variables:
        return (operation_name,)
    items: list[Any] = [operation_name]
    for name, value in variables.items():
        if not isinstance(value, _SCALARS) or (isinstance(value, str) and len(value) > 256):
            return None
        items.append((name, type(value), value))
    return tuple(items)


def fallback_reason(exc: Exception) -> str:
    """Why a compiled plan that ran handed its request to graphql-core: `unsupported` (a
    value only graphql-core writes: a null in a non-null position, a scalar it serializes),
    `error` (a resolver's GraphQL or application error, which graphql-core reports),
    `database` or `unexpected` (a failing statement or a bug: the answer is still right,
    only slower; logged once per exception type and counted, app/ops/metrics.py)."""
    if isinstance(exc, Unsupported):
        return "unsupported"
    if isinstance(exc, AppError | GraphQLError):
        return "error"
    if isinstance(exc, SQLAlchemyError | asyncpg.PostgresError | asyncpg.InterfaceError):
        return "database"
    return "unexpected"


class FastPath:
    """Per schema: the plan cache and the execute function strawberry calls."""

    def __init__(self, strawberry_schema: Any) -> None:
        self.strawberry = strawberry_schema
        self.schema: GraphQLSchema = graphql_core_schema(strawberry_schema)
        self._documents: OrderedDict[int, _Document] = OrderedDict()
        self.hits = 0
        self.fallbacks = 0
        # Told each request's outcome: "served", or why graphql-core answered it instead
        # ("not_applicable": no plan for it, or one of fallback_reason's). Metrics hook.
        self.on_outcome: Callable[[str], None] | None = None
        self._logged: set[str] = set()

    def _told(self, outcome: str) -> None:
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _document(self, document: DocumentNode) -> _Document:
        key = id(document)
        entry = self._documents.get(key)
        if entry is not None and entry.document is document:
            self._documents.move_to_end(key)
            return entry
        entry = self._documents[key] = _Document(document)
        if len(self._documents) > MAX_DOCUMENTS:
            self._documents.popitem(last=False)
        return entry

    def plan(
        self, doc: _Document, operation_name: str | None, variables: Any
    ) -> OperationPlan | None:
        """The plan for this operation and these @skip/@include values; None: not for us."""
        operation = doc.operations[operation_name]
        coerced = variables.coerced
        key = (operation_name, *(coerced.get(n, Undefined) for n in doc.condition_variables))
        try:
            return doc.plans[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable condition value: not worth caching
            return None
        try:
            if operation.directives:
                raise Unsupported("operation directives")
            root = self.schema.query_type
            assert root is not None
            converter = self.strawberry.schema_converter
            compiler = _Compiler(self.schema, doc.fragments, variables, converter)
            plan: OperationPlan | None = OperationPlan(
                operation, doc.fragments, compiler.object_plan(root, [operation.selection_set])
            )
        except Exception as exc:
            log.debug("graphql fast path: not compiled (%s)", type(exc).__name__)
            plan = None
        if len(doc.plans) < MAX_PLANS_PER_DOCUMENT:
            doc.plans[key] = plan
        return plan

    async def execute(
        self,
        standard: Callable[..., Any],
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        middleware: Any = None,
        is_awaitable: Callable[[Any], bool] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Strawberry's execute function: the compiled plan when it applies and runs without
        any error, graphql-core's `execute` (`standard`) otherwise."""

        async def fallback(reason: str = "not_applicable") -> Any:
            self.fallbacks += 1
            self._told(reason)
            result = standard(
                schema,
                document,
                root_value=root_value,
                context_value=context_value,
                variable_values=variable_values,
                operation_name=operation_name,
                middleware=middleware,
                is_awaitable=is_awaitable,
                **kwargs,
            )
            if isinstance(result, Awaitable):
                result = await result
            return result

        if schema is not self.schema or getattr(middleware, "middlewares", None):
            return await fallback()
        doc = self._document(document)
        operation = doc.operations.get(operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return await fallback()
        scalars = _scalar_key(operation_name, variable_values)
        variables = doc.variables.get(scalars) if scalars is not None else None
        if variables is None:
            variables = get_variable_values(
                schema, operation.variable_definitions or (), variable_values or {}, max_errors=50
            )
            if isinstance(variables, list):  # coercion errors: graphql-core reports them
                return await fallback()
            if scalars is not None and all(
                isinstance(v, _IMMUTABLE) for v in variables.coerced.values()
            ):
                if len(doc.variables) >= MAX_VARIABLES:
                    doc.variables.clear()
                doc.variables[scalars] = variables
        plan = self.plan(doc, operation_name, variables)
        if plan is None:
            return await fallback()
        checkpoint = getattr(context_value, "checkpoint", None)
        saved = checkpoint() if checkpoint is not None else None
        run = _Run(
            schema,
            plan,
            variables,
            root_value,
            context_value,
            is_awaitable or asyncio.iscoroutine,
            kwargs.get("operation_extensions"),
            self.strawberry,
            scalars,
        )
        aws: list[Any] = []
        try:
            try:
                data = _execute_object(run, plan.root, root_value, None, aws)
            except BaseException:
                _discard(aws)
                raise
            if aws:
                await _drain(run, aws)
        except Exception as exc:
            reason = fallback_reason(exc)
            kind = type(exc).__name__
            if reason in ("database", "unexpected") and kind not in self._logged:
                self._logged.add(kind)  # (once per type: the type only, never the message)
                log.warning("graphql fast path: a compiled plan failed (%s)", kind)
            else:
                log.debug("graphql fast path: fell back (%s)", kind)
            if saved is not None:
                context_value.rollback(saved)
            return await fallback(reason)
        self.hits += 1
        self._told("served")
        return ExecutionResult(data=data, errors=None)

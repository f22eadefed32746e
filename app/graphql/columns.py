"""Which model attributes a nested connection's document asks for.

A nested page (a product's roadmap items, an item's stories) selects only the columns its
selection needs instead of every column of every row (the JSON columns of 200 stories the
roadmap page never shows cost more than the rest of its SQL). The answer is a superset:
@skip/@include are ignored, fragments are taken whatever their type condition, and anything
not understood (an unknown resolver field, an unknown connection field) means "all columns"
(None). The repository adds what it needs itself (id, sort column, the parent key).

Computed once per field occurrence: the FieldNodes come from the cached parsed document, so
the same occurrence has the same node objects on every request (both executors)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)

# Resolver fields of node types and the attributes their resolvers read (by python name).
# A resolver field missing here makes its connection select every column.
RESOLVER_NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "RoadmapItem": {
        "product": ("product_id",),
        "stories": ("id",),
        "insights": ("id",),
        "comments": ("id",),
    },
    "Story": {
        "acceptance_criteria": ("acceptance_criteria",),
        "clinical_review": ("clinical_review",),
        "jira_sync": ("jira_sync",),
        "product": ("product_id",),
        "roadmap_item": ("roadmap_item_id",),
        "insights": ("id",),
        "comments": ("id",),
    },
}
# Connection fields that read nothing of the nodes beyond id and the sort column.
_CONNECTION_PLAIN = frozenset({"pageInfo", "totalCount", "__typename"})
_EDGE_PLAIN = frozenset({"cursor", "__typename"})

_MAX_ENTRIES = 1024
_cache: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], frozenset[str] | None]] = {}


class _AllColumns(Exception):
    pass


def requested_columns(info: Any) -> frozenset[str] | None:
    """The attributes the nodes of this connection field need; None: all of them. `info` is
    strawberry's Info (or graphql-core's ResolveInfo)."""
    info = getattr(info, "_raw_info", info)
    nodes = info.field_nodes
    key = tuple(map(id, nodes))
    hit = _cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], nodes, strict=True)):
        return hit[1]
    try:
        found: frozenset[str] | None = frozenset(_connection(info, nodes))
    except _AllColumns:
        found = None
    if len(_cache) >= _MAX_ENTRIES:
        _cache.clear()
    _cache[key] = (tuple(nodes), found)
    return found


def _fields(sets: Sequence[SelectionSetNode | None], fragments: dict[str, Any]) -> Iterator[Any]:
    """The fields of these selection sets, fragments flattened (type conditions ignored)."""
    seen: set[str] = set()
    stack = [s for s in sets if s is not None]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None:
                    raise _AllColumns
                if name not in seen:
                    seen.add(name)
                    stack.append(fragment.selection_set)
            else:  # pragma: no cover - no other selection kinds
                raise _AllColumns


def _object_type(type_: Any) -> GraphQLObjectType:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise _AllColumns
    return named


def _connection(info: Any, nodes: Sequence[FieldNode]) -> set[str]:
    fragments = info.fragments
    conn = _object_type(info.return_type)
    out: set[str] = set()
    for field in _fields([n.selection_set for n in nodes], fragments):
        name = field.name.value
        if name == "nodes":
            _node(_object_type(conn.fields["nodes"].type), field, fragments, out)
        elif name == "edges":
            edge = _object_type(conn.fields["edges"].type)
            for sub in _fields([field.selection_set], fragments):
                if sub.name.value == "node":
                    _node(_object_type(edge.fields["node"].type), sub, fragments, out)
                elif sub.name.value not in _EDGE_PLAIN:
                    raise _AllColumns
        elif name not in _CONNECTION_PLAIN:
            raise _AllColumns
    return out


def _node(type_: GraphQLObjectType, field: FieldNode, fragments: dict, out: set[str]) -> None:
    needs = RESOLVER_NEEDS.get(type_.name, {})
    for sub in _fields([field.selection_set], fragments):
        name = sub.name.value
        if name == "__typename":
            continue
        field_def = type_.fields.get(name)
        if field_def is None:
            raise _AllColumns
        definition = (field_def.extensions or {}).get("strawberry-definition")
        if definition is None:
            raise _AllColumns
        if definition.base_resolver is None:
            out.add(definition.python_name)
        elif (attrs := needs.get(definition.python_name)) is not None:
            out.update(attrs)
        else:
            raise _AllColumns

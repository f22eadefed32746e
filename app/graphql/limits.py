"""Query cost: an estimate of the objects an operation can return, refused above
GRAPHQL_MAX_COST before anything executes. `CachedValidation` (app/graphql/schema.py, the
strawberry extension that also applies the depth, alias and token limits) checks it right
after validation, with the request's variables.

The estimate counts the objects a document can return: a field that returns an object (or
a list of them) costs one per object of its parent, and a field with a page argument
multiplies the count of everything below it by its page size: its `first` (or `last`) — the
literal or the variable's value given, the argument's default (50) when absent, and the
largest page (MAX_LIMIT) for a variable without a usable value. Other lists add no factor.
Aliases and root fields are summed; each mutation root field costs MUTATION_COST more
(writes scan PHI, audit and commit; aliased mutations count each). Scalars are free.

    stories(first: 200) { nodes { product { stories(first: 200) { nodes { id } } } } }
    = 1 connection + 200 nodes + 200 products + 200 connections + 200·200 nodes = 40,601
"""

from __future__ import annotations

import weakref
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from graphql.type import is_interface_type, is_object_type

from app.core.pagination import MAX_LIMIT

PAGE_ARGUMENTS = ("first", "last")
MUTATION_COST = 100


def _page_size(field: FieldNode, definition: Any, variables: dict[str, Any]) -> int:
    for name in PAGE_ARGUMENTS:
        if name not in definition.args:
            continue
        given = next((a for a in field.arguments or () if a.name.value == name), None)
        if given is None:
            default = definition.args[name].default_value
            return default if isinstance(default, int) and default > 0 else 1
        value: Any = given.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 1)
        if isinstance(value, VariableNode):
            v = variables.get(value.name.value)
            if isinstance(v, int) and not isinstance(v, bool):
                return max(v, 1)  # out of range: the resolver refuses it (1..MAX_LIMIT)
        return MAX_LIMIT  # a variable without a usable value, or a wrong literal
    return 1


class _Estimator:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def cost(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        count: int,
        fragments: frozenset[str] = frozenset(),
    ) -> int:
        if selections is None or parent is None:
            return 0
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                total += self._field(node, parent, count, fragments)
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition
                target = self.schema.get_type(cond.name.value) if cond else parent
                total += self.cost(node.selection_set, target, count, fragments)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in fragments:  # unknown or cyclic: validation's
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, target, count, fragments | {name})
        return total

    def _field(self, node: FieldNode, parent: Any, count: int, fragments: frozenset[str]) -> int:
        if not (is_object_type(parent) or is_interface_type(parent)):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0  # unknown field (or __typename): validation reports it
        target = get_named_type(definition.type)
        if not is_composite_type(target):
            return 0
        # One object per parent (a connection); its page multiplies what is below it.
        page = _page_size(node, definition, self.variables)
        return count + self.cost(node.selection_set, target, count * page, fragments)


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """The estimated cost of the operation `operation_name` picks (the only one, if None)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 0  # no such operation: graphql-core refuses the request
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    estimator = _Estimator(schema, document, variables or {})
    cost = estimator.cost(operation.selection_set, root, 1)
    if operation.operation == OperationType.MUTATION:
        cost += MUTATION_COST * len(operation.selection_set.selections)
    return cost


def cost_error(cost: int, max_cost: int, operation: Any = None) -> GraphQLError:
    return GraphQLError(
        f"The query's estimated cost {cost} exceeds the limit of {max_cost}: each object "
        "counts, page sizes (first) multiply along the path; ask for smaller pages or fewer "
        "nested lists.",
        operation,
        extensions={"code": "BAD_USER_INPUT"},
    )


# Cost per document object (the parse cache hands out the same object for the same text; AST
# nodes hash by content, which costs as much as the estimate) and per integer variables.
_COSTS: dict[int, tuple[weakref.ref[DocumentNode], dict[Any, int]]] = {}
_MAX_DOCUMENTS = 512
_MAX_VARIANTS = 64


V = TypeVar("V")


def per_document(
    store: dict[int, tuple[weakref.ref[Any], dict[Any, V]]], document: Any, most: int
) -> dict[Any, V]:
    """`document`'s own cache in `store`, keyed by the parsed document's identity (a weak
    reference tells a reused id from the same object): AST nodes are frozen dataclasses whose
    hash walks the whole tree, as costly as the work cached. At most `most` documents; the
    store is emptied when full."""
    entry = store.get(id(document))
    if entry is None or entry[0]() is not document:
        if len(store) >= most:
            store.clear()
        entry = store[id(document)] = (weakref.ref(document), {})
    return entry[1]


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    max_cost: int,
) -> list[GraphQLError]:
    """[the error] when the operation is estimated above `max_cost`, else []. Cached per
    document and integer variables (only integers are page sizes)."""
    ints = tuple(
        sorted(
            (k, v)
            for k, v in (variables or {}).items()
            if isinstance(v, int) and not isinstance(v, bool)
        )
    )
    variants = per_document(_COSTS, document, _MAX_DOCUMENTS)
    key = (id(schema), operation_name, ints)
    cost = variants.get(key)
    if cost is None:
        cost = estimate_cost(schema, document, operation_name, dict(ints))
        if len(variants) >= _MAX_VARIANTS:
            variants.clear()
        variants[key] = cost
    return [cost_error(cost, max_cost)] if cost > max_cost else []

"""Every use of graphql-core's and strawberry's non-public names, in one place.

The GraphQL code otherwise uses the libraries' public API. What is here is what the fast
path (app/graphql/fastpath.py) and the schema (app/graphql/schema.py) could not do without;
each item has a test in tests/graphql/test_internals.py that fails loudly, naming the item,
when an upgrade moves or changes it:

1. `does_fragment_condition_match` (graphql-core, not exported): whether a fragment applies
   to an object type, exactly as graphql-core's field collection decides it.
2. `ResolveInfo` (strawberry's `_OperationContextAwareGraphQLResolveInfo`): the Info object
   strawberry's execution context builds (graphql-core's fields plus
   `operation_extensions`); the fast path builds the same one for the resolvers it calls.
3. `graphql_core_schema(schema)`: strawberry keeps graphql-core's schema as `_schema`.
4. `field_exception_handlers(converter, definition)`: strawberry's
   `_get_field_exception_handlers`, to know whether a resolver may be called without
   strawberry's per-call wrapper.
5. `Schema._get_execute_function` (overridden by RoundsSchema in schema.py): where
   strawberry picks graphql-core's execute; the fast path is put in front of it there.
6. `convert_arguments` (strawberry.types.arguments, not in strawberry's documented API):
   GraphQL argument values to the resolver's Python arguments, as strawberry's wrapper does.
7. `patch_sibling_gather(fn)`: graphql-core's executor awaits sibling fields and list items
   with its module-level `gather_with_cancel`, which cancels the siblings of a field whose
   error nulls their parent; replaced by a gather that lets them finish (see
   `_gather_settled` in schema.py for why).

(app/graphql/scalars.py reads strawberry's `DEFAULT_SCALAR_REGISTRY` for the documented
`scalar_map` setting; tests/graphql/test_scalars.py guards it.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphql.execution.executor as _executor
from graphql import GraphQLSchema
from graphql.execution.collect_fields import does_fragment_condition_match
from strawberry.schema.schema import (
    _OperationContextAwareGraphQLResolveInfo as ResolveInfo,
)
from strawberry.types.arguments import convert_arguments

__all__ = [
    "SIBLING_GATHER",
    "ResolveInfo",
    "convert_arguments",
    "does_fragment_condition_match",
    "field_exception_handlers",
    "graphql_core_schema",
    "patch_sibling_gather",
]

# The name graphql-core's executor calls for sibling fields and list items.
SIBLING_GATHER = "gather_with_cancel"


def graphql_core_schema(schema: Any) -> GraphQLSchema:
    """graphql-core's schema of a strawberry schema."""
    return schema._schema


def field_exception_handlers(converter: Any, definition: Any) -> Any:
    """The exception handlers strawberry wraps a field's resolver with (empty: none);
    None when this strawberry version has no such notion (then always use the wrapper)."""
    handlers = getattr(converter, "_get_field_exception_handlers", None)
    return None if handlers is None else handlers(definition)


def patch_sibling_gather(gather: Callable[..., Any]) -> None:
    """Make graphql-core's executor await siblings with `gather`."""
    if not hasattr(_executor, SIBLING_GATHER):  # pragma: no cover - tested for
        raise RuntimeError(f"graphql-core no longer has {SIBLING_GATHER}: review the patch")
    setattr(_executor, SIBLING_GATHER, gather)

"""Every use of graphql-core's and strawberry's non-public names, in one place.

The GraphQL code otherwise uses the libraries' public API. What is here is what the
database-rendered fields (app/graphql/rendered.py) and the schema (app/graphql/schema.py)
could not do without; each item has a test in tests/graphql/test_internals.py that fails
loudly, naming the item, when an upgrade moves or changes it:

1. `does_fragment_condition_match` (graphql-core, not exported): whether a fragment applies
   to an object type, exactly as graphql-core's field collection decides it.
2. `graphql_core_schema(schema)`: strawberry keeps graphql-core's schema as `_schema`.
3. `convert_arguments` (strawberry.types.arguments, not in strawberry's documented API):
   GraphQL argument values to the resolver's Python arguments, as strawberry's wrapper does.
4. `patch_sibling_gather(fn)`: graphql-core's executor awaits sibling fields and list items
   with its module-level `gather_with_cancel`, which cancels the siblings of a field whose
   error nulls their parent; replaced by a gather that lets them finish (see
   `_gather_settled` in schema.py for why).
5. `EXECUTE_FIELD`: the executor method RenderingExecutor overrides. graphql-core's
   `Executor` is public and strawberry hands it over as the documented
   `execution_context_class`, but its methods' docstrings say ":meta private:"; the test
   checks the signature and that graphql-core executes every field through it.

(app/graphql/scalars.py reads strawberry's `DEFAULT_SCALAR_REGISTRY` for the documented
`scalar_map` setting; tests/graphql/test_scalars.py guards it.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphql.execution.executor as _executor
from graphql import GraphQLSchema
from graphql.execution.collect_fields import does_fragment_condition_match
from strawberry.types.arguments import convert_arguments

__all__ = [
    "EXECUTE_FIELD",
    "SIBLING_GATHER",
    "convert_arguments",
    "does_fragment_condition_match",
    "graphql_core_schema",
    "patch_sibling_gather",
]

# The name graphql-core's executor calls for sibling fields and list items.
SIBLING_GATHER = "gather_with_cancel"
# The executor method called once per field (parent_type, source, field_details_list, path,
# position_context), overridden by app/graphql/rendered.py's RenderingExecutor.
EXECUTE_FIELD = "execute_field"


def graphql_core_schema(schema: Any) -> GraphQLSchema:
    """graphql-core's schema of a strawberry schema."""
    return schema._schema


def patch_sibling_gather(gather: Callable[..., Any]) -> None:
    """Make graphql-core's executor await siblings with `gather`."""
    if not hasattr(_executor, SIBLING_GATHER):  # pragma: no cover - tested for
        raise RuntimeError(f"graphql-core no longer has {SIBLING_GATHER}: review the patch")
    setattr(_executor, SIBLING_GATHER, gather)

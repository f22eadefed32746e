"""Each non-public name of graphql-core and strawberry that app/graphql/internals.py uses,
checked so that an upgrade that moves or changes one fails here, naming it, instead of
silently changing answers (the fast path) or bringing back a fixed bug (the gather)."""

from __future__ import annotations

import asyncio
from typing import Any

import graphql.execution.executor as executor_module
import pytest
import strawberry
from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    graphql,
    parse,
)
from graphql.pyutils import gather_with_cancel as graphql_core_gather

from app.graphql import internals
from app.graphql.schema import _gather_settled, build_schema


def test_1_does_fragment_condition_match_decides_as_graphql_core():
    schema = build_schema().graphql_schema
    doc = parse("fragment F on Story { id } query { __typename }")
    fragment = doc.definitions[0]
    story, product = schema.get_type("Story"), schema.get_type("Product")
    assert internals.does_fragment_condition_match(schema, fragment, story) is True
    assert internals.does_fragment_condition_match(schema, fragment, product) is False


# The fast path builds the Info positionally, in this order (app/graphql/fastpath.py, _Run.info).
RESOLVE_INFO_FIELDS = (
    "field_name",
    "field_nodes",
    "return_type",
    "parent_type",
    "path",
    "schema",
    "fragments",
    "root_value",
    "operation",
    "variable_values",
    "context",
    "is_awaitable",
    "abort_signal",
    "async_helpers",
    "operation_extensions",
)


async def test_2_resolve_info_is_what_strawberry_builds_in_the_fast_paths_order():
    assert internals.ResolveInfo._fields == RESOLVE_INFO_FIELDS
    seen: list[Any] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self, info: strawberry.Info) -> str:
            seen.append(info._raw_info)
            return "hi"

    result = await strawberry.Schema(query=Query).execute("{ hello }")
    assert result.errors is None
    assert type(seen[0]) is internals.ResolveInfo


def test_3_graphql_core_schema_of_a_strawberry_schema():
    schema = build_schema()
    core = internals.graphql_core_schema(schema)
    assert isinstance(core, GraphQLSchema) and core.query_type.name == "Query"


def test_4_field_exception_handlers_are_known_and_empty_for_plain_fields():
    schema = build_schema()
    field = internals.graphql_core_schema(schema).query_type.fields["stories"]
    definition = field.extensions["strawberry-definition"]
    handlers = internals.field_exception_handlers(schema.schema_converter, definition)
    # None would make every resolver go through strawberry's wrapper (slower, still right):
    # fail loudly so that an upgrade that drops the method is noticed.
    assert handlers is not None and not handlers


async def test_5_strawberry_executes_through_get_execute_function(app, client, auth):
    """The fast path is put in front of graphql-core's execute by overriding strawberry's
    `_get_execute_function`: a query the fast path compiles must be answered by it."""
    assert hasattr(strawberry.Schema, "_get_execute_function")
    fastpath = app.state.graphql_schema.fastpath
    hits = fastpath.hits
    r = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=auth("engineer", "internals")
    )
    assert r.json() == {"data": {"__typename": "Query"}}
    assert fastpath.hits == hits + 1


def test_6_convert_arguments_keeps_its_signature():
    import inspect

    params = inspect.signature(internals.convert_arguments).parameters
    assert list(params)[:2] == ["value", "arguments"]
    assert {"scalar_registry", "config", "info"} <= set(params)


# --- 7: the sibling gather ----------------------------------------------------------------
def _parent_with_a_failing_and_a_slow_child(log: list[str]) -> GraphQLSchema:
    """`parent { bad slow }`: `bad` is non-null and fails at once, which nulls `parent`;
    `slow` is still awaiting when that happens."""

    async def bad(*_: Any) -> str:
        raise ValueError("bad")

    async def slow(*_: Any) -> str:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        log.append("finished")
        return "slow"

    parent = GraphQLObjectType(
        "Parent",
        {
            "bad": GraphQLField(GraphQLNonNull(GraphQLString), resolve=bad),
            "slow": GraphQLField(GraphQLString, resolve=slow),
        },
    )
    query = GraphQLObjectType("Query", {"parent": GraphQLField(parent, resolve=lambda *_: {})})
    return GraphQLSchema(query)


async def test_7_graphql_core_calls_the_patched_gather_for_siblings(monkeypatch):
    build_schema()  # the patch is applied when the schema module is imported
    assert getattr(executor_module, internals.SIBLING_GATHER) is _gather_settled
    calls: list[int] = []

    async def counting(*awaitables: Any) -> list[Any]:
        calls.append(len(awaitables))
        return await _gather_settled(*awaitables)

    monkeypatch.setattr(executor_module, internals.SIBLING_GATHER, counting)
    log: list[str] = []
    result = await graphql(_parent_with_a_failing_and_a_slow_child(log), "{ parent { bad slow } }")
    assert calls == [2], "graphql-core no longer awaits siblings through the patched name"
    assert result.data == {"parent": None} and [e.message for e in result.errors] == ["bad"]


@pytest.mark.parametrize(
    ("gather", "expected"),
    [(_gather_settled, ["finished"]), (graphql_core_gather, ["cancelled"])],
    ids=["patched", "graphql-core"],
)
async def test_7_a_sibling_of_a_field_that_nulls_their_parent_runs_to_its_end(
    monkeypatch, gather, expected
):
    """The scenario the patch exists for: with it, `slow` finishes before the answer; with
    graphql-core's own gather it is cancelled mid-await (in the app: mid-statement, which
    broke the request's session). If graphql-core stops cancelling, the second case fails:
    then the patch can go."""
    monkeypatch.setattr(executor_module, internals.SIBLING_GATHER, gather)
    log: list[str] = []
    result = await graphql(_parent_with_a_failing_and_a_slow_child(log), "{ parent { bad slow } }")
    await asyncio.sleep(0.1)  # anything left running would finish (or be cancelled) now
    assert result.data == {"parent": None}
    assert log == expected

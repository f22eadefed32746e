"""Each non-public name of graphql-core and strawberry that app/graphql/internals.py uses,
checked so that an upgrade that moves or changes one fails here, naming it, instead of
silently changing answers (the rendered fields) or bringing back a fixed bug (the gather)."""

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
from graphql.execution import Executor
from graphql.pyutils import gather_with_cancel as graphql_core_gather

from app.graphql import internals
from app.graphql.rendered import RenderingExecutor
from app.graphql.schema import _gather_settled, build_schema


def test_1_does_fragment_condition_match_decides_as_graphql_core():
    schema = build_schema().graphql_schema
    doc = parse("fragment F on Story { id } query { __typename }")
    fragment = doc.definitions[0]
    story, product = schema.get_type("Story"), schema.get_type("Product")
    assert internals.does_fragment_condition_match(schema, fragment, story) is True
    assert internals.does_fragment_condition_match(schema, fragment, product) is False


def test_2_graphql_core_schema_of_a_strawberry_schema():
    schema = build_schema()
    core = internals.graphql_core_schema(schema)
    assert isinstance(core, GraphQLSchema) and core.query_type.name == "Query"


def test_3_convert_arguments_keeps_its_signature():
    import inspect

    params = inspect.signature(internals.convert_arguments).parameters
    assert list(params)[:2] == ["value", "arguments"]
    assert {"scalar_registry", "config", "info"} <= set(params)


# --- 4: the sibling gather ----------------------------------------------------------------
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


async def test_4_graphql_core_calls_the_patched_gather_for_siblings(monkeypatch):
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
async def test_4_a_sibling_of_a_field_that_nulls_their_parent_runs_to_its_end(
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


# --- 5: the executor method the rendered fields hook into ---------------------------------
def test_5_execute_field_keeps_its_signature():
    import inspect

    params = list(inspect.signature(getattr(Executor, internals.EXECUTE_FIELD)).parameters)
    assert params == [
        "self",
        "parent_type",
        "source",
        "field_details_list",
        "path",
        "position_context",
    ]
    assert getattr(RenderingExecutor, internals.EXECUTE_FIELD) is not getattr(
        Executor, internals.EXECUTE_FIELD
    )


@strawberry.type
class _Inner:
    name: str


@strawberry.type
class _Query:
    @strawberry.field
    def inner(self) -> _Inner:
        return _Inner(name="x")


async def test_5_strawberry_executes_every_field_through_the_override(monkeypatch):
    """strawberry hands graphql-core the schema's `execution_context_class`, and graphql-core
    executes each field (root and nested) through `execute_field`: if either stops, no
    field is rendered by the database any more, silently; this fails instead."""
    seen: list[str] = []
    original = getattr(RenderingExecutor, internals.EXECUTE_FIELD)

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        seen.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *rest)

    monkeypatch.setattr(RenderingExecutor, internals.EXECUTE_FIELD, spy)
    schema = strawberry.Schema(query=_Query, execution_context_class=RenderingExecutor)
    result = await schema.execute("{ inner { name } }")
    assert result.errors is None and result.data == {"inner": {"name": "x"}}
    assert seen == ["Query.inner", "Inner.name"]

"""The committed SDL (openapi/schema.graphql) must match the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from app.graphql.sdl import schema_sdl

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "schema.graphql"


def test_committed_sdl_matches_the_code():
    assert COMMITTED.is_file(), "run `make contracts` to write openapi/schema.graphql"
    assert COMMITTED.read_text() == schema_sdl(), (
        "openapi/schema.graphql is stale; regenerate it with `make contracts` "
        "(python -c 'from app.graphql.sdl import schema_sdl; print(schema_sdl(), end=\"\")')"
    )


def test_sdl_names_the_contract():
    sdl = schema_sdl()
    for needle in (
        "type Query",
        "type Mutation",
        "roadmapItems(",
        "story(id: ID = null, key: String = null)",
        "auditEvents(",
        "type PageInfo",
        "totalCount: Int!",
        "createStory(input: StoryCreateInput!): Story!",
        "updateStory(id: ID!, input: StoryUpdateInput!, ifMatch: String = null): Story!",
        "IN_PROGRESS",
    ):
        assert needle in sdl, needle

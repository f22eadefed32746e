"""One id type (SPEC §3) and specified scalars: every identifier is `ID`, so an id read by one
operation is passed to any other without a cast; DateTime/Date/JSON name their specification."""

from __future__ import annotations

import re
import uuid

from graphql import GraphQLID

from app.graphql.scalars import SCALAR_MAP
from app.graphql.schema import build_schema
from tests.api.factories import make_world
from tests.graphql.helpers import codes, gql


def test_sdl_has_no_uuid_scalar_and_specifies_custom_scalars():
    sdl = build_schema().as_str()
    assert not re.search(r"\bUUID\b", sdl)
    for name in ("DateTime", "Date", "JSON"):
        assert re.search(rf"^scalar {name} @specifiedBy\(url: \"https://", sdl, re.M), name
    # The map hands strawberry its own ID definition (a second one named ID would clash).
    assert SCALAR_MAP[uuid.UUID].implementation is GraphQLID
    assert "enum StoryCreateStatus {\n  BACKLOG\n  READY\n}" in sdl


async def test_an_id_from_a_query_feeds_a_mutation(client, auth):
    w = await make_world(client, auth)
    status, body = await gql(
        client,
        """query($p: ID!) { product(id: $p) { id } }""",
        {"p": w.pid},
        headers=w.pm,
    )
    assert status == 200 and body["data"]["product"]["id"] == w.pid
    status, body = await gql(
        client,
        """mutation($p: ID!) {
          createStory(input: {productId: $p, title: "From an ID"}) { id productId status }
        }""",
        {"p": body["data"]["product"]["id"]},
        headers=w.pm,
    )
    assert status == 200, body
    story = body["data"]["createStory"]
    assert story["productId"] == w.pid and story["status"] == "BACKLOG"
    uuid.UUID(story["id"])


async def test_a_malformed_id_in_an_input_is_bad_user_input(client, auth):
    w = await make_world(client, auth)
    _, body = await gql(
        client,
        """mutation { createStory(input: {productId: "not-an-id", title: "x"}) { id } }""",
        headers=w.pm,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "not-an-id" not in str(body)


async def test_create_input_offers_only_the_create_statuses(client, auth):
    w = await make_world(client, auth)
    _, body = await gql(
        client,
        """mutation($p: ID!) {
          createStory(input: {productId: $p, title: "x", status: DONE}) { id } }""",
        {"p": w.pid},
        headers=w.pm,
    )
    assert codes(body) == ["BAD_USER_INPUT"]

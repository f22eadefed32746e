"""Ids a caller asked for and was refused (not found, or not readable) are audited (issue 19
item 17): a GraphQL request that succeeds in part records them as `access_denied`/`denied`
events beside its read; a REST 404 names the id in its event. Only validated ids are
stored — never a key, query text or any other value the client sent."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api.factories import make_world, new_sub
from tests.graphql.helpers import codes, gql
from tests.phi import rawdb
from tests.phi.samples import phi_interview

pytestmark = pytest.mark.asyncio


def _ids(value) -> list:
    return value if isinstance(value, list) else json.loads(value)


async def _events(settings, rid: str) -> list[dict]:
    return await rawdb.fetch(
        settings, "SELECT * FROM audit_event WHERE client_request_id = :r", r=rid
    )


async def test_graphql_partial_refusal_is_audited_as_denied(client, auth, settings):
    w = await make_world(client, auth)
    hidden = await phi_interview(w)  # an engineer who is not a member cannot read it
    missing = str(uuid.uuid4())
    sub = new_sub("engineer")
    rid = uuid.uuid4().hex
    query = """query($a: ID!, $b: ID!) {
      me { sub }
      x: interview(id: $a) { id transcript }
      y: story(id: $b) { id }
      z: story(key: "ZEBULON QUACKENBUSH") { id }
    }"""
    status, body = await gql(
        client,
        query,
        {"a": hidden["id"], "b": missing},
        headers={**auth("engineer", sub), "X-Request-Id": rid},
    )
    assert status == 200, body
    assert body["data"]["me"]["sub"] == sub
    assert body["data"]["x"] is None and body["data"]["y"] is None
    assert codes(body) == ["NOT_FOUND"] * 3

    events = await _events(settings, rid)
    by_type = {e["resource_type"]: e for e in events}
    assert len(events) == 3, events
    read = by_type["principal"]
    assert read["action"] == "read" and read["outcome"] == "success"
    assert _ids(read["resource_ids"]) == [sub]
    for resource_type, refused in (("interview", hidden["id"]), ("story", missing)):
        e = by_type[resource_type]
        assert e["action"] == "access_denied" and e["outcome"] == "denied", e
        assert _ids(e["resource_ids"]) == [refused]
        assert e["phi_accessed"] in (False, 0) and _ids(e["changed_fields"]) == []
        assert e["actor_sub"] == sub and e["status_code"] == 200
    everything = " ".join(str(v) for e in events for v in e.values())
    assert "ZEBULON" not in everything.upper()  # a key is client text: never recorded


async def test_rest_404_names_the_refused_id(client, auth, settings):
    w = await make_world(client, auth)
    hidden = await phi_interview(w)
    rid = uuid.uuid4().hex
    r = await client.get(
        f"/api/v1/interviews/{hidden['id']}",
        headers={**auth("engineer", new_sub("engineer")), "X-Request-Id": rid},
    )
    assert r.status_code == 404
    (event,) = await _events(settings, rid)
    assert event["outcome"] == "denied" and event["resource_type"] == "interview"
    assert _ids(event["resource_ids"]) == [hidden["id"]]


async def test_a_fully_successful_request_has_one_event(client, auth, settings):
    w = await make_world(client, auth)
    rid = uuid.uuid4().hex
    status, body = await gql(
        client,
        "query($id: ID!) { me { sub } product(id: $id) { id } }",
        {"id": w.pid},
        headers={**w.pm, "X-Request-Id": rid},
    )
    assert status == 200 and "errors" not in body
    (event,) = await _events(settings, rid)
    assert event["outcome"] == "success"


async def test_nested_edge_refused_is_audited(client, auth, settings):
    """An exec reads insights (any product) but never interviews: the nested edge answers
    null and its id is recorded as refused."""
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], title="Late alerts")
    rid = uuid.uuid4().hex
    status, body = await gql(
        client,
        "query($id: ID!) { insight(id: $id) { title interview { id } } }",
        {"id": insight["id"]},
        headers={**auth("exec", new_sub("exec")), "X-Request-Id": rid},
    )
    assert status == 200, body
    assert body["data"]["insight"] == {"title": "Late alerts", "interview": None}
    by_type = {e["resource_type"]: e for e in await _events(settings, rid)}
    assert by_type["insight"]["outcome"] == "success"
    denied = by_type["interview"]
    assert denied["action"] == "access_denied" and denied["outcome"] == "denied"
    assert _ids(denied["resource_ids"]) == [interview["id"]]

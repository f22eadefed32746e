"""productEvents over graphql-transport-ws at /graphql (httpx-ws over the ASGI app): a story
created through REST reaches a subscriber of its product; events a subscriber may not read
(interviews for a non-member) never do; authentication by header or connection_init; the
connection and each delivered event are audited."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.api.factories import make_world, new_sub

pytestmark = pytest.mark.asyncio

SUBSCRIBE = """subscription($p: ID!) {
  productEvents(productId: $p) {
    id type resourceType resourceId productId version changedFields actorSub
  }
}"""
MUTATION = 'mutation($id: ID!) { updateProduct(id: $id, input: {name: "X"}) { id } }'


@contextlib.asynccontextmanager
async def ws_client(app):
    async with ASGIWebSocketTransport(app=app) as transport:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@contextlib.asynccontextmanager
async def subscribed(app, c, product_id, *, token=None, header=None, op_id="1"):
    headers = {"Authorization": header} if header else {}
    async with aconnect_ws(
        "http://testserver/graphql", c, subprotocols=["graphql-transport-ws"], headers=headers
    ) as ws:
        payload = {"Authorization": token} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"p": product_id}},
            }
        )
        hub = app.state.feed_hub
        before = len(hub.subscribers.get(uuid.UUID(product_id), ()))
        loop = asyncio.get_running_loop()
        end = loop.time() + 5
        while len(hub.subscribers.get(uuid.UUID(product_id), ())) <= before:
            assert loop.time() < end, "subscription did not start"
            await asyncio.sleep(0.01)
        yield ws


async def next_event(ws, wait=5.0):
    msg = await ws.receive_json(timeout=wait)
    assert msg["type"] == "next", msg
    return msg["payload"]["data"]["productEvents"]


async def test_story_reaches_member_and_interview_only_members(app, client, auth, token):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    eng_sub = new_sub("eng")  # not a member: may read stories, not interviews
    async with ws_client(app) as c:
        async with (
            subscribed(
                app, c, w.pid, token=f"Bearer {token(w.pm_sub, 'product_manager')}"
            ) as pm_ws,
            subscribed(app, c, w.pid, header=f"Bearer {token(eng_sub, 'engineer')}") as eng_ws,
            subscribed(
                app, c, other.pid, token=f"Bearer {token(other.pm_sub, 'product_manager')}"
            ) as other_ws,
        ):
            story = await w.story()
            got = await next_event(pm_ws)
            assert got["type"] == "story.created" and got["resourceId"] == story["id"]
            assert got["productId"] == w.pid and got["version"] == 1 and got["actorSub"] == w.pm_sub
            assert (await next_event(eng_ws))["resourceId"] == story["id"]

            interview = await w.interview(participant_name="Ottoline Brackenridge-Vasquez")
            second = await w.story(title="After the interview")
            got = await next_event(pm_ws)
            assert got["type"] == "interview.created" and got["resourceId"] == interview["id"]
            assert "Ottoline" not in str(got)
            assert (await next_event(pm_ws))["resourceId"] == second["id"]
            # the non-member's next event is the story: the interview was never sent to it
            assert (await next_event(eng_ws))["resourceId"] == second["id"]
            with pytest.raises(TimeoutError):  # nothing for a subscriber of another product
                await other_ws.receive_json(timeout=0.5)

    async with app.state.sessionmaker() as s:
        rows = list(await s.scalars(select(AuditEvent).where(AuditEvent.actor_sub == eng_sub)))
    ops = [(e.action, e.resource_type, e.graphql_operation) for e in rows]
    assert ("login", "graphql_subscription", "subscription connection_init") in ops
    assert ("read", "product", "subscription productEvents") in ops
    delivered = [e for e in rows if e.action == "read" and e.resource_type == "story"]
    assert {e.resource_ids[0] for e in delivered} == {story["id"], second["id"]}
    assert all(e.product_id == w.pid and e.outcome == "success" for e in delivered)


async def test_unauthenticated_socket_is_refused_and_audited(app, client, auth):
    async with ws_client(app) as c:
        async with aconnect_ws(
            "http://testserver/graphql",
            c,
            subprotocols=["graphql-transport-ws"],
            headers={"User-Agent": "ws-probe-no-token"},
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {}})
            with pytest.raises(WebSocketDisconnect) as exc:
                await ws.receive_json(timeout=5)
            assert exc.value.code == 4403
        async with aconnect_ws(
            "http://testserver/graphql",
            c,
            subprotocols=["graphql-transport-ws"],
        ) as ws:
            await ws.send_json(
                {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-jwt"}}
            )
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive_json(timeout=5)
            assert closed.value.code == 4403
    async with app.state.sessionmaker() as s:
        rows = list(
            await s.scalars(select(AuditEvent).where(AuditEvent.user_agent == "ws-probe-no-token"))
        )
    assert [(e.action, e.outcome, e.status_code) for e in rows] == [("auth_failed", "denied", 401)]


async def test_unreadable_product_and_non_subscription_operations(app, client, auth, token):
    w = await make_world(client, auth)
    async with ws_client(app) as c:
        async with aconnect_ws(
            "http://testserver/graphql", c, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {token(w.pm_sub, 'product_manager')}"},
                }
            )
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json(
                {
                    "id": "a",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"p": str(uuid.uuid4())}},
                }
            )
            msg = await ws.receive_json(timeout=5)
            errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "NOT_FOUND", msg
            # a mutation over the socket would bypass the request's transaction: refused
            await ws.send_json(
                {
                    "id": "b",
                    "type": "subscribe",
                    "payload": {
                        "query": MUTATION,
                        "variables": {"id": w.pid},
                    },
                }
            )
            msg = await ws.receive_json(timeout=5)
            while msg["id"] != "b":  # op a's "complete"
                msg = await ws.receive_json(timeout=5)
            errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", msg
    r = await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)
    assert r.json()["name"] != "X"
    # and a subscription over HTTP is an error, not a 500
    r = await client.post(
        "/graphql", json={"query": SUBSCRIBE, "variables": {"p": w.pid}}, headers=w.pm
    )
    assert r.status_code == 400, r.text
    assert "errors" in r.json()


async def test_stream_ends_when_the_token_expires(app, client, auth, token):
    """A socket does not outlive its credentials: at the token's exp the subscription ends
    with UNAUTHENTICATED (reconnect with a fresh token)."""
    w = await make_world(client, auth)
    short = token(w.pm_sub, "product_manager", ttl=2)
    async with ws_client(app) as c, subscribed(app, c, w.pid, token=f"Bearer {short}") as ws:
        msg = await ws.receive_json(timeout=10)
        # The world's own events (its product, its member) may still be on their way when the
        # subscription starts; they come first, as data. Then the expiry ends the stream.
        while msg["type"] == "next" and "errors" not in msg["payload"]:
            assert msg["payload"]["data"]["productEvents"]["productId"] == w.pid, msg
            msg = await ws.receive_json(timeout=10)
        errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED", msg

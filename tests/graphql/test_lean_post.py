"""POST /graphql's lean route (app/graphql/router.py, `RoundsGraphQLRouter.lean_post`): the
common request skips FastAPI's dependency solving and strawberry's generic request handling,
every other request goes through strawberry's view. Both answer exactly like the app with
GRAPHQL_FASTPATH off, which serves POST through strawberry's own FastAPI route (the
differential tests compare many more documents the same way)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.conftest import unique_key


def _router(app: Any) -> Any:
    return next(r for r in app.router.routes if getattr(r, "path", None) == "/graphql").endpoint


async def _both(client, standard, content: bytes, headers: dict[str, str]) -> tuple[Any, Any]:
    a = await client.post("/graphql", content=content, headers=headers)
    b = await standard.post("/graphql", content=content, headers=headers)
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.content == b.content, (a.text, b.text)
    assert a.headers.get("content-type") == b.headers.get("content-type")
    assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate")
    return a, b


def test_the_lean_route_is_first_and_only_with_the_fast_path(app):
    first = app.router.routes[0]
    assert first.path == "/graphql" and first.methods == {"POST"}
    assert first.endpoint.__name__ == "lean_post"


async def test_common_request_takes_the_lean_route(app, client, standard, auth):
    owner = _router(app).__self__
    before = owner.lean_posts
    body = json.dumps({"query": "{ me { sub role } }"}).encode()
    a, _ = await _both(
        client, standard, body, {**auth("engineer", "lean-1"), "content-type": "application/json"}
    )
    assert a.json()["data"]["me"] == {"sub": "lean-1", "role": "engineer"}
    assert owner.lean_posts == before + 1


async def test_the_lean_route_is_audited_like_strawberrys(app, client, auth):
    rid = "lean-audit-" + unique_key()
    r = await client.post(
        "/graphql",
        json={"query": "query Who { me { sub } }", "operationName": "Who"},
        headers={**auth("engineer", "lean-2"), "X-Request-ID": rid},
    )
    assert r.status_code == 200
    async with app.state.sessionmaker() as s:
        ev = await s.scalar(select(AuditEvent).where(AuditEvent.client_request_id == rid))
    assert ev is not None
    assert (ev.path, ev.graphql_operation, ev.actor_sub) == ("/graphql", "query Who", "lean-2")


@pytest.mark.parametrize(
    ("content", "media"),
    [
        (b'{"query": "{ me { role } }"}', "application/json"),
        (b'{"query": "{ me { role } }", "variables": null, "extensions": {}}', "application/json"),
        (b'{"query": "{ me { role } }"}', "application/json; charset=utf-8"),
        (b'{"query": "{ me { role } }"}', "text/plain"),  # 415
        (b'{"query": "{ me { role } ', "application/json"),  # bad JSON
        (b'{"query": NaN}', "application/json"),  # json.loads accepts, orjson not
        (b'{"query": 12}', "application/json"),
        (b'{"query": "{ me { role } }", "variables": [1]}', "application/json"),
        (b'{"query": "{ me { role } }", "operationName": 3}', "application/json"),
        (b'{"query": "{ me { role } }", "extensions": "x"}', "application/json"),
        (b'[{"query": "{ me { role } }"}]', "application/json"),  # a batch
        (b'"{ me { role } }"', "application/json"),
        (b"{}", "application/json"),  # no query
        (b"[" * 300 + b"]" * 300, "application/json"),  # nested too deeply
        (b'{"query": "{ nope }"}', "application/json"),
        (b'{"query": "query A { me { role } } query B { me { role } }"}', "application/json"),
        (b'{"query": "mutation { removeMember(productId: \\"x\\", subject: \\"y\\") }"}', None),
        (b'{"query": "subscription { productEvents(productId: \\"x\\") { id } }"}', None),
    ],
)
async def test_every_request_answers_like_strawberrys_route(client, standard, auth, content, media):
    headers = {**auth("product_manager", "lean-3"), "content-type": media or "application/json"}
    await _both(client, standard, content, headers)


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
async def test_unauthenticated_answers_like_strawberrys_route(client, standard, authorization):
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization
    a, _ = await _both(client, standard, b'{"query": "{ me { role } }"}', headers)
    assert a.status_code == 401


async def test_graphql_response_media_type(client, standard, auth):
    headers = {
        **auth("exec", "lean-4"),
        "content-type": "application/json",
        "accept": "application/graphql-response+json",
    }
    a, _ = await _both(client, standard, b'{"query": "{ interviews { totalCount } }"}', headers)
    assert a.status_code == 403
    assert a.headers["content-type"] == "application/graphql-response+json"


@pytest.mark.parametrize(
    "accept",
    [
        "multipart/mixed;subscriptionSpec=1.0, application/json",
        "text/event-stream",
        "application/graphql-response+json, application/json",
        "*/*",
    ],
)
async def test_streaming_accept_headers_answer_like_strawberrys_route(
    client, standard, auth, accept
):
    """Streamed transports (multipart subscriptions, SSE) are off (websockets only): a POST
    asking for them is answered as strawberry's route answers it."""
    headers = {**auth("engineer", "lean-5"), "content-type": "application/json", "accept": accept}
    for query in (b'{"query": "{ me { role } }"}', b'{"query": "subscription { x }"}'):
        await _both(client, standard, query, headers)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "PUT", "PATCH", "DELETE", "GET"])
async def test_other_methods_answer_like_without_the_lean_route(client, standard, auth, method):
    """The lean route serves POST only; with it first among the routes, the other methods
    still reach the routes that answered them before (and a 405 is the same 405)."""
    headers = auth("engineer", "lean-6")
    a = await client.request(method, "/graphql", headers=headers)
    b = await standard.request(method, "/graphql", headers=headers)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.headers.get("allow") == b.headers.get("allow")
    assert a.headers.get("content-type") == b.headers.get("content-type")

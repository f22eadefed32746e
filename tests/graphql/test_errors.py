"""GraphQL errors never repeat what the client sent (issue 19 items 3, 4, 7, 12): literal and
variable coercion, enums, custom scalars, unknown input fields, in the test environment and in
production; each message names where and what type was expected. Transport errors are GraphQL
JSON errors; deep JSON is refused before parsing; GET queries are off outside development."""

# ruff: noqa: E501 (GraphQL documents read best on one line)
from __future__ import annotations

import base64
import logging
import os
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.limits import MAX_JSON_DEPTH
from app.graphql.schema import build_schema
from app.main import create_app
from tests.api.factories import make_world
from tests.graphql.helpers import codes
from tests.graphql.helpers import gql_strict as gql

PHI = "Maria Gonzalez 555-0142"
# Whole pieces only: short digit runs turn up in UUIDs and hashes by chance.
PIECES = ("Maria", "MARIA", "Gonzalez", "GONZALEZ", "555-0142", "5550142")
UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"
CREATE_INTERVIEW = "mutation I($i: InterviewCreateInput!) { createInterview(input: $i) { id } }"


def server_log(caplog) -> str:
    """What the service logged (the test client's own request lines and the SQLite
    driver's debug lines, which carry the test's data, left out)."""
    return "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "aiosqlite"))
    )


def assert_no_echo(text: str) -> None:
    leaked = [p for p in PIECES if p in text]
    assert not leaked, (leaked, text)


async def _client_for(settings):
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    return app, client


@pytest.fixture(scope="module")
async def prod(settings):
    """Production behaviour on this leg's database (model_copy: the start-up check refuses a
    SQLite URL in production, tests/test_settings.py covers it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    prod_settings = settings.model_copy(
        update={
            "environment": "production",
            "auth_signing_key": pem,
            "phi_keys": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        }
    )
    app, client = await _client_for(prod_settings)
    yield client, prod_settings
    await client.aclose()
    await app.state.engine.dispose()


@pytest.fixture(scope="module")
async def development(settings):
    app, client = await _client_for(settings.model_copy(update={"environment": "development"}))
    yield client
    await client.aclose()
    await app.state.engine.dispose()


def _cases(product_id: str) -> list[tuple[str, str, dict | None, list[str]]]:
    """(name, document, variables, words the message must contain)."""
    base = {
        "productId": product_id,
        "title": "t",
        "conductedOn": "2025-01-02",
        "participantPersona": "NURSE",
    }
    literal_input = (
        f'productId: "{product_id}", title: "t", conductedOn: "{PHI}", participantPersona: NURSE'
    )
    return [
        (
            "Date literal in an input object",
            f"mutation {{ createInterview(input: {{{literal_input}}}) {{ id }} }}",
            None,
            ["input", "conductedOn", "Date"],
        ),
        (
            "Date variable",
            'mutation I($d: Date!) { createInterview(input: {productId: "PID", title: "t", conductedOn: $d, participantPersona: NURSE}) { id } }'.replace(
                "PID", product_id
            ),
            {"d": PHI},
            ["$d", "Date"],
        ),
        (
            "Date inside a variable object",
            CREATE_INTERVIEW,
            {"i": {**base, "conductedOn": PHI}},
            ["$i", "conductedOn", "Date"],
        ),
        (
            "enum inside a variable object",
            CREATE_INTERVIEW,
            {"i": {**base, "participantPersona": PHI}},
            ["$i", "participantPersona", "NURSE"],
        ),
        (
            "unknown field in a variable object",
            CREATE_INTERVIEW,
            {"i": {**base, PHI: "x"}},
            ["$i", "unknown field", "InterviewCreateInput"],
        ),
        (
            "missing required field in a variable object",
            CREATE_INTERVIEW,
            {"i": {"productId": product_id, "title": PHI, "conductedOn": "2025-01-02"}},
            ["$i", "participantPersona"],
        ),
        (
            "enum literal",
            "{ stories(status: MARIA_GONZALEZ_5550142) { totalCount } }",
            None,
            ["status", "StoryStatus", "BACKLOG"],
        ),
        (
            "enum variable",
            "query S($s: StoryStatus) { stories(status: $s) { totalCount } }",
            {"s": PHI},
            ["$s", "StoryStatus"],
        ),
        (
            "string for an Int",
            f'{{ stories(first: "{PHI}") {{ totalCount }} }}',
            None,
            ["first", "Int"],
        ),
        (
            "string for a Boolean variable",
            "query S($a: Boolean!) { stories(includeArchived: $a) { totalCount } }",
            {"a": PHI},
            ["$a", "Boolean"],
        ),
        (
            "DateTime literal",
            f'{{ auditEvents(since: "{PHI}") {{ nodes {{ id }} }} }}',
            None,
            ["since", "DateTime"],
        ),
        (
            "unknown field in a literal object",
            f'mutation {{ createProduct(input: {{key: "AB", name: "n", mariaGonzalez5550142: "{PHI}"}}) {{ id }} }}',
            None,
            ["input", "unknown field", "ProductCreateInput"],
        ),
        (
            "sort by a made-up field",
            "query S($s: StorySort) { stories(sort: $s) { totalCount } }",
            {"s": PHI},
            ["$s", "StorySort"],
        ),
        (
            "an id that is no UUID",
            f'{{ interview(id: "{PHI}") {{ id }} }}',
            None,
            ["id", "UUID"],
        ),
    ]


async def _check_cases(client, headers, product_id: str) -> None:
    for name, query, variables, words in _cases(product_id):
        r = await client.post(
            "/graphql",
            json={"query": query, **({"variables": variables} if variables else {})},
            headers={**headers, "Accept": "application/graphql-response+json"},
        )
        assert r.status_code in (400, 422), (name, r.text)
        assert_no_echo(r.text)
        body = r.json()
        assert not any((body["data"] or {}).values()), (name, body)
        assert codes(body)[0] == "BAD_USER_INPUT", (name, body)
        message = body["errors"][0]["message"] + str(body["errors"][0]["extensions"])
        missing = [w for w in words if w not in message]
        assert not missing, (name, missing, message)


async def test_coercion_errors_name_the_place_and_the_type_never_the_value(
    client, auth, app, caplog
):
    w = await make_world(client, auth)
    since = datetime.now(UTC)
    with caplog.at_level(logging.DEBUG):
        await _check_cases(client, w.pm, w.pid)
    assert_no_echo(server_log(caplog))
    # ... nor in the audit trail of those requests
    async with app.state.sessionmaker() as s:
        rows = (await s.scalars(select(AuditEvent).where(AuditEvent.occurred_at >= since))).all()
    assert rows
    for ev in rows:
        assert_no_echo(str({c.key: getattr(ev, c.key) for c in AuditEvent.__table__.columns}))


def _bearer(settings, sub: str, role: str) -> dict[str, str]:
    from app.auth.tokens import mint_token

    return {"Authorization": "Bearer " + mint_token(settings, sub=sub, role=role)}


async def test_production_errors_do_not_echo_either(prod, client, auth):
    prod_client, prod_settings = prod
    w = await make_world(client, auth)
    await _check_cases(prod_client, _bearer(prod_settings, w.pm_sub, "product_manager"), w.pid)


def test_the_schema_accessor_still_reaches_graphql_core():
    """RoundsSchema.graphql_schema reads strawberry's `_schema` (no public accessor): fail here,
    loudly, when an upgrade moves it."""
    schema = build_schema()
    assert schema.graphql_schema.get_type("Story") is not None


# --- transport (item 12) ---------------------------------------------------------------
def _request_error(r: httpx.Response, status: int, code: str = "BAD_USER_INPUT") -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["errors"] and body.get("data") is None, body
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert "Traceback" not in r.text
    return body["errors"][0]["message"]


async def test_transport_errors_are_graphql_json_errors(client, auth):
    h = auth("exec", "gq-ex")
    q = {"query": "{ me { sub } }"}
    assert "Batching" in _request_error(await client.post("/graphql", json=[q, q], headers=h), 400)
    r = await client.post(
        "/graphql", content=b"{ me { sub } }", headers={**h, "content-type": "text/plain"}
    )
    assert "application/json" in _request_error(r, 415)
    r = await client.post(
        "/graphql", content=b"query", headers={**h, "content-type": "application/graphql"}
    )
    _request_error(r, 415)
    r = await client.post(
        "/graphql", content=b'{"query": ', headers={**h, "content-type": "application/json"}
    )
    assert "JSON" in _request_error(r, 400)
    _request_error(await client.post("/graphql", json={}, headers=h), 400)
    _request_error(await client.post("/graphql", json={"query": 5}, headers=h), 400)
    _request_error(await client.post("/graphql", json={**q, "variables": [1]}, headers=h), 400)
    for method in ("PUT", "PATCH", "DELETE"):
        r = await client.request(method, "/graphql", json=q, headers=h)
        _request_error(r, 405)
        assert "POST" in r.headers["allow"]


# --- deep JSON (item 4) ----------------------------------------------------------------
def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_deep_json_is_refused_before_parsing(client, auth):
    h = {**auth("exec", "gq-ex"), "content-type": "application/json"}
    for depth in (MAX_JSON_DEPTH + 1, 5_000, 200_000):
        body = '{"query": "{ me { sub } }", "variables": {"x": ' + _nested(depth) + "}}"
        r = await client.post("/graphql", content=body.encode(), headers=h)
        assert "nested" in _request_error(r, 400, "BAD_USER_INPUT")
    # at the limit, and brackets inside strings, are fine
    body = (
        '{"query": "{ me { sub } }", "variables": {"x": '
        + _nested(MAX_JSON_DEPTH - 2)
        + ', "s": "'
        + "[" * 500
        + '"}}'
    )
    r = await client.post("/graphql", content=body.encode(), headers=h)
    assert r.status_code == 200 and r.json()["data"]["me"]["sub"] == "gq-ex", r.text


async def test_deep_json_in_get_variables_is_refused(development, auth):
    params = {"query": "{ me { sub } }", "variables": '{"x": ' + _nested(3_000) + "}"}
    r = await development.get("/graphql", params=params, headers=auth("exec", "gq-ex"))
    _request_error(r, 400, "BAD_USER_INPUT")


async def test_deep_json_in_a_rest_body_stays_400(client, auth):
    h = {**auth("product_manager", "gq-pm"), "content-type": "application/json"}
    for depth in (MAX_JSON_DEPTH + 1, 5_000, 200_000):
        body = '{"key": "DEEP", "name": "n", "performance_metrics": ' + _nested(depth) + "}"
        r = await client.post("/api/v1/products", content=body.encode(), headers=h)
        assert r.status_code in (400, 422), (depth, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"


# --- GET (item 7) ----------------------------------------------------------------------
PHI_QUERY = "{ interviews { nodes { participantName transcript } } }"


async def test_get_queries_are_refused_outside_development(client, prod, development, auth):
    w = await make_world(client, auth)
    await w.interview(participant_name=PHI)
    prod_client, prod_settings = prod
    for c, pm in (
        (client, w.pm),
        (prod_client, _bearer(prod_settings, w.pm_sub, "product_manager")),
    ):
        r = await c.get("/graphql", params={"query": PHI_QUERY}, headers=pm)
        assert "POST" in _request_error(r, 405)
        assert r.headers["allow"] == "POST"
        assert_no_echo(r.text)
    # the same query over POST answers (the caller may see the PHI)
    r = await client.post("/graphql", json={"query": PHI_QUERY}, headers=w.pm)
    assert r.status_code == 200 and PHI in r.text
    # development keeps GET for the explorer's convenience
    r = await development.get("/graphql", params={"query": "{ me { sub } }"}, headers=w.pm)
    assert r.status_code == 200 and r.json()["data"]["me"]["sub"] == w.pm_sub


async def test_production_explorer_page_is_a_json_404(prod):
    r = await prod[0].get("/graphql", headers={"Accept": "text/html"})
    _request_error(r, 404, "NOT_FOUND")


async def test_a_variable_in_a_failed_query_is_not_logged(client, auth, caplog):
    with caplog.at_level(logging.DEBUG):
        st, _ = await gql(
            client,
            "query S($s: StoryStatus) { stories(status: $s) { totalCount } }",
            {"s": PHI},
            auth("exec", "gq-ex"),
        )
    assert st == 400
    assert_no_echo(server_log(caplog))


async def test_a_flood_of_unknown_keys_in_a_variable_gets_one_short_answer(client, auth):
    """Each bad key is one graphql-core error; the answer says it once per variable."""
    variables = {"i": {"key": "AB", "name": "n"} | {f"k{i:05d}": i for i in range(50_000)}}
    st, body = await gql(
        client,
        "mutation C($i: ProductCreateInput!) { createProduct(input: $i) { id } }",
        variables,
        auth("product_manager", "gq-pm"),
    )
    assert st == 400 and codes(body)[0] == "BAD_USER_INPUT"
    messages = [e["message"] for e in body["errors"]]
    assert (
        messages[0]
        == "Variable '$i' has an invalid value: an unknown field for ProductCreateInput."
    )
    assert len(messages) <= 2 and len(str(body)) < 1_000, messages


@pytest.mark.parametrize(
    "document",
    [
        'mutation { updateRoadmapItem(id: "SEPS", input: {title: "x"}) { id } }',
        'mutation { approveRoadmapItem(id: "SEPS") { id } }',
        'mutation { updateInterview(id: "SEPS", input: {title: "x"}) { id } }',
        'mutation { updateInsight(id: "SEPS", input: {title: "x"}) { id } }',
    ],
)
async def test_an_id_that_is_not_a_uuid_is_a_bad_id_not_a_product_key(client, auth, document):
    """Roadmap items, interviews and insights have no key: a non-UUID id names the id, it is
    not looked up as a product key ("Product not found")."""
    status, body = await gql(client, document, headers=auth("admin"))
    assert status == 422, body  # as REST answers an invalid id
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "id must be a UUID" in body["errors"][0]["message"]
    assert "roduct" not in body["errors"][0]["message"]

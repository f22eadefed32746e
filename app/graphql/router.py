"""POST /graphql (and GET for queries), the explorer page at GET /graphql in development.

HTTP status, per the GraphQL-over-HTTP specification: a client that accepts
`application/json` (or anything, or says nothing) gets 200 with `errors` for every executed
operation; one that asks for `application/graphql-response+json` gets that media type and, when
the operation failed as a whole, the status REST would give (403, 404, 409, 412, 422 …).
Either way a mutation that raised any error is answered with `data: null` and nothing of it
persists: its REST status goes to the audit record (`outcome_status`), so the audit middleware
rolls the request back and records the denial or error as such. A query whose every root
field failed counts as failed too; partial query results are a success. A missing or invalid
token stays 401 with `WWW-Authenticate` (the transport's authentication, before any GraphQL).

Transport errors (not JSON, bad JSON, nested too deeply, a batch, no query, a method other
than POST, GET in production) are GraphQL request errors: `{"errors": [{"message",
"extensions": {"code"}}]}` with a 4xx status (nothing was executed), never strawberry's plain
text; their code is BAD_USER_INPUT (NOT_FOUND for the explorer page where it is off)."""

from __future__ import annotations

import json
from typing import Any, cast

import orjson
from cross_web import HTTPException
from fastapi import BackgroundTasks
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.config import Settings
from app.core.limits import MAX_JSON_DEPTH, json_too_deep
from app.graphql.context import GraphQLContext, http_context
from app.graphql.errors import format_error, http_status
from app.graphql.explorer import explorer_html
from app.graphql.live import TextWebSocketAdapter, on_ws_connect, websocket_context
from app.graphql.schema import build_schema

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _in_document_order(error: GraphQLError) -> tuple[Any, ...]:
    """Sort key of a field error: its place in the document, then its path. Sibling fields
    run concurrently and graphql-core lists their errors as they happen, so without this the
    order of the errors — and the status and audit outcome taken from the first one —
    changed from one run of the same request to the next (found by
    tests/graphql/test_differential.py). Errors before execution keep their order."""
    where = (error.locations[0].line, error.locations[0].column) if error.locations else (0, 0)
    path = tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.path or ())
    return (*where, path)


def _status(result: ExecutionResult, operation_type: str | None) -> int:
    errors = result.errors
    if not errors:
        return 200
    first = http_status(errors[0])
    if operation_type == "mutation" or result.data is None:
        return first
    if all(v is None for v in result.data.values()):
        return first
    return 200


class RequestRefused(HTTPException):
    """A transport error whose GraphQL code is not the status' default."""

    def __init__(self, status: int, reason: str, code: str) -> None:
        super().__init__(status, reason)
        self.code = code


def request_error(status: int, message: str, code: str | None = None, **headers: str) -> Response:
    """A GraphQL request error (no `data`: nothing was executed) as JSON."""
    code = code or ("NOT_FOUND" if status == 404 else "BAD_USER_INPUT")
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _wants_graphql_response(request: Request) -> bool:
    """The client named application/graphql-response+json before application/json."""
    accept = request.headers.get("accept", "").lower()
    at = accept.find(GRAPHQL_RESPONSE)
    if at < 0:
        return False
    json_at = accept.find("application/json")
    return json_at < 0 or at < json_at


def _sub_response() -> Response:
    """What FastAPI hands an endpoint as its `response: Response` parameter: no status, no
    headers (strawberry's view sets status and headers on it, `create_response` copies them)."""
    response = Response()
    del response.headers["content-length"]
    response.status_code = None  # type: ignore[assignment]
    return response


def _plain_request(request: Request, body: bytes) -> GraphQLRequestData | None:
    """The request data of the common request, a POST of one JSON object with a string
    `query` (or None: anything else takes strawberry's view, which answers it as before)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" or json_too_deep(body):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # also what json.loads accepts and orjson not (NaN, …)
        return None
    if not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    if (
        not isinstance(query, str)
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=name,
        extensions=extensions,
        protocol="http",
    )


# Where `lean_post` leaves the sub-response for strawberry's view (`get_sub_response`).
_SUB_RESPONSE = "rounds.graphql.sub_response"


class RoundsGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    get_queries: bool = True
    # Served by `lean_post` (a plain Starlette route in front of strawberry's FastAPI routes).
    lean_posts: int = 0

    async def lean_post(self, request: Request) -> Response:
        """POST /graphql without FastAPI's dependency solving and strawberry's generic request
        handling: the context is built directly (`http_context`, as `get_context` does), and
        the common request — one JSON object with a string `query` — goes to `execute_single`
        (strawberry's public `schema.execute`), `process_result` and `create_response`.
        Everything else (another media type, bad or deep JSON, batches, a non-string query)
        goes to strawberry's `run`, as through its own route. Tests: the app with
        GRAPHQL_FASTPATH off serves POST through strawberry's route, and
        tests/graphql/test_differential.py compares both byte for byte."""
        sub_response = _sub_response()
        tasks = BackgroundTasks()
        context = await http_context(request)
        context.request, context.response, context.background_tasks = request, sub_response, tasks
        request_data = _plain_request(request, await request.body())
        if request_data is None:
            request.scope[_SUB_RESPONSE] = sub_response
            response = await self.run(request, context=context, root_value=None)
        else:
            self.lean_posts += 1
            adapter = self.request_adapter_class(request)
            result = await self.execute_single(
                request, adapter, sub_response, context, None, request_data
            )
            response = self.create_response(
                await self.process_result(request, result), sub_response
            )
        if response.background is None:
            response.background = tasks
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, Request):
            if (refused := self._refuse(request)) is not None:
                return refused
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:
            return request_error(exc.status_code, exc.reason, getattr(exc, "code", None))

    def _refuse(self, request: Request) -> Response | None:
        if request.method == "GET":
            if "query" in request.query_params and not self.get_queries:
                # Queries in URLs end up in proxy and access logs (PHI); development only.
                return request_error(
                    405, "Send GraphQL queries with POST (GET is off here).", Allow="POST"
                )
        elif request.method == "POST":
            media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return request_error(415, "Send GraphQL requests as application/json.")
        return None

    def decode_json(self, data: str | bytes) -> object:
        # Measured before parsing: a recursive parser overflows on deep input (a 500).
        if json_too_deep(data):
            raise RequestRefused(
                400, f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.", "BAD_USER_INPUT"
            )
        return super().decode_json(data)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: GraphQLContext,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        if _wants_graphql_response(request):
            sub_response.media_type = GRAPHQL_RESPONSE
        if context.auth_error is not None and context._ctx is None:
            error = context.auth_error
            sub_response.status_code = error.status
            for k, v in error.headers.items():
                sub_response.headers[k] = v
            return ExecutionResult(
                data=None,
                errors=[GraphQLError(error.detail, extensions={"code": error.code})],
            )
        try:
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as exc:
            # Unknown operationName, a mutation via GET, …: a GraphQL error body, not text.
            sub_response.status_code = exc.status_code
            return ExecutionResult(
                data=None,
                errors=[GraphQLError(exc.reason, extensions={"code": "BAD_USER_INPUT"})],
            )
        if result.errors:
            # Errors raised before the operation ran (a document that does not parse) bypass
            # the ErrorFormatter extension: give them their code here.
            result.errors = [
                e if (e.extensions or {}).get("code") else format_error(e, hide_suggestions=True)
                for e in result.errors
            ]
        if result.errors and len(result.errors) > 1 and all(e.path for e in result.errors):
            result.errors = sorted(result.errors, key=_in_document_order)
        status = _status(result, context.operation_type)
        if status != 200:
            request.state.audit.outcome_status = status
            if _wants_graphql_response(request):
                sub_response.status_code = status
            if context.operation_type == "mutation":
                # Nothing of a failed mutation operation persists (the middleware rolls the
                # request back on >= 400), so no partial result may claim otherwise.
                result.data = None
        return result

    async def get_sub_response(self, request: Request) -> Response:
        """The response whose status and headers the view sets: `lean_post`'s own for the
        requests it hands to `run`, FastAPI's `response` parameter otherwise."""
        lean = request.scope.get(_SUB_RESPONSE)
        return lean if lean is not None else await super().get_sub_response(request)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = GRAPHQL_RESPONSE
        return response

    def encode_json(self, data: object) -> bytes:
        try:
            return orjson.dumps(data)
        except TypeError:  # what orjson refuses (e.g. non-string keys in a JSON scalar)
            return json.dumps(data, separators=(",", ":")).encode()

    websocket_adapter_class = TextWebSocketAdapter

    async def on_ws_connect(self, context: GraphQLContext) -> Any:
        """Websocket connection_init: authenticate and audit (app/graphql/live.py)."""
        return await on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(explorer_html(str(request.url.path)))


class _LeanRoute(Route):
    """A Starlette route that names itself in the scope like FastAPI's routes do (the access
    log, metrics and the audit trail's `path` read the matched route's template from it)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def lean_post_route(router: RoundsGraphQLRouter) -> Route:
    """POST /graphql through `RoundsGraphQLRouter.lean_post`, to be matched before any other
    route (the app's routes are tried in order: placed first, a GraphQL request does not test
    every REST route's pattern before its own)."""
    return _LeanRoute("/graphql", router.lean_post, methods=["POST"], include_in_schema=False)


async def get_context(connection: HTTPConnection) -> GraphQLContext:
    """The context of an HTTP request, or of a websocket (subscriptions, app/graphql/live.py)."""
    if connection.scope["type"] == "websocket":
        return await websocket_context(connection)
    return await http_context(cast(Request, connection))


def graphql_router(settings: Settings) -> RoundsGraphQLRouter:
    """The /graphql routes for these settings."""
    router = RoundsGraphQLRouter(
        build_schema(settings),
        path="/graphql",
        graphql_ide="graphiql" if settings.explorer_enabled else None,
        allow_queries_via_get=settings.graphql_get_enabled,
        context_getter=get_context,
        include_in_schema=False,
        # SPEC §10: subscriptions over graphql-transport-ws only (the legacy protocol has no
        # connection_init authentication hook).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=20,
    )
    router.get_queries = settings.graphql_get_enabled

    @router.api_route("/graphql", methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def graphql_other_methods() -> Response:
        return request_error(405, "GraphQL is served over POST.", Allow="GET, POST")

    return router

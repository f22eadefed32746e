"""POST /graphql (and GET for queries), the explorer page at GET /graphql in development.

HTTP status: 200 unless the operation failed as a whole. A mutation that raised any error
is answered with `data: null` and the status REST would give (403, 404, 409, 412, 422 …), so
the audit middleware rolls the whole request back and records the denial or error; a query
whose every root field failed does the same. Partial query results stay 200."""

from __future__ import annotations

import json
from typing import Any

import orjson

try:  # strawberry >= 0.33x moved its HTTP layer into the cross-web package
    from cross_web import HTTPException
except ImportError:  # pragma: no cover - older strawberry
    from strawberry.http.exceptions import HTTPException  # type: ignore[no-redef]
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.config import Settings
from app.feed.live import TextWebSocketAdapter, on_ws_connect
from app.graphql.context import GraphQLContext, get_context
from app.graphql.errors import http_status
from app.graphql.explorer import explorer_html
from app.graphql.schema import build_schema


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


class RoundsGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: GraphQLContext,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
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
                errors=[GraphQLError(exc.reason, extensions={"code": "BAD_REQUEST"})],
            )
        status = _status(result, context.operation_type)
        if status != 200:
            sub_response.status_code = status
            if context.operation_type == "mutation":
                # Nothing of a failed mutation operation persists (the middleware rolls the
                # request back on >= 400), so no partial result may claim otherwise.
                result.data = None
        return result

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        try:
            return orjson.dumps(data)
        except TypeError:  # what orjson refuses (e.g. non-string keys in a JSON scalar)
            return json.dumps(data, separators=(",", ":")).encode()

    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    async def on_ws_connect(self, context: GraphQLContext) -> Any:  # type: ignore[override]
        """Websocket connection_init: authenticate and audit (app/feed/live.py)."""
        return await on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse(explorer_html(str(request.url.path)))


def graphql_router(settings: Settings) -> RoundsGraphQLRouter:
    """The /graphql routes for these settings."""
    return RoundsGraphQLRouter(
        build_schema(settings),
        path="/graphql",
        graphql_ide="graphiql" if settings.explorer_enabled else None,
        allow_queries_via_get=True,
        context_getter=get_context,
        include_in_schema=False,
        # SPEC §10: subscriptions over graphql-transport-ws only (the legacy protocol has no
        # connection_init authentication hook).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=20,
    )

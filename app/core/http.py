"""REST rendering of errors as RFC 9457 problem+json; no stack trace ever leaves."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.core.errors import AppError, error_problem, problem

log = logging.getLogger("rounds")

PROBLEM_JSON = "application/problem+json"


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers
    )


_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


def simple_problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    title = _TITLES.get(status, "Error")
    return problem_response(
        problem(status, title, detail, slug=title.lower().replace(" ", "-")), headers
    )


MAX_VALIDATION_ERRORS = 20  # then one entry that counts the rest (a 1 MB body can hold 50k)
# Error types whose pydantic message quotes part of the input; said from the type instead.
_QUOTING = {
    "uuid_parsing": "Input should be a valid UUID.",
    "union_tag_invalid": "Input does not name one of the expected kinds.",
}
# Keys that are not field names (made-up keys, mapping keys) are shown only when they look
# like identifiers; anything else (spaces, digits first, punctuation) could be PHI.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _echoes(msg: str, value: Any) -> bool:
    """Whether a message repeats the scalar the client sent (containers: the messages of
    their error types are fixed texts)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    text = str(value)
    return len(text) >= 3 and text in msg


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input (it may be PHI): messages that quote it
    are replaced, non-identifier keys are masked, and the list is capped."""
    out = []
    for n, e in enumerate(errors):
        if n == MAX_VALIDATION_ERRORS:
            more = len(errors) - n
            out.append({"loc": [], "msg": f"… and {more} more errors", "type": "too_many_errors"})
            break
        kind = e.get("type")
        msg = _QUOTING.get(kind) or e.get("msg", "invalid")
        if kind == "extra_forbidden":
            msg = "Unknown or read-only field; it cannot be set."
        elif _echoes(msg, e.get("input")):
            msg = f"Invalid value ({kind})."
        loc = [p if isinstance(p, int) or _NAME.fullmatch(p) else "<key>" for p in e.get("loc", ())]
        out.append({"loc": [str(p) for p in loc], "msg": msg, "type": kind})
    return out


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's own 405 names only the first
    route that matched the path, and each of GET/PATCH/DELETE here is a route of its own; so
    ask every top-level route (BaseRoute.matches, public API) once per method."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _not_json(request: Request) -> bool:
    """A body was sent with a media type other than JSON (FastAPI would not parse it)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    kind, _, sub = media.partition("/")
    return bool(media) and not (kind == "application" and (sub == "json" or sub.endswith("+json")))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> Response:
        return problem_response(error_problem(exc), exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return simple_problem(400, "The request body is not valid JSON.")
        if _not_json(request) and any(e.get("loc", ())[:1] == ("body",) for e in errors):
            return simple_problem(415, "Send the request body as application/json.")
        return problem_response(
            problem(
                422,
                "Validation failed",
                "The request has invalid or unknown fields.",
                slug="validation",
                errors=validation_errors(errors),
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        given: object = exc.detail  # FastAPI's subclass allows any JSON value
        detail = given if isinstance(given, str) else _TITLES.get(exc.status_code, "")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return simple_problem(exc.status_code, detail, headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        # Type only: exception messages can carry row values (PHI) from the database.
        log.error("unhandled error: %s", type(exc).__name__)
        return simple_problem(500, "An unexpected error occurred.")

"""AppError → GraphQL error with `extensions.code`; everything else masked. No input value,
stack trace or PHI ever leaves in an error (graphql-core's coercion messages echo values, so
they are rewritten)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.core.errors import AppError

log = logging.getLogger("rounds.graphql")

# graphql-core 3.2 "got invalid value <value> at 'path';", 3.3 "has invalid value at .path: …"
_VARIABLE = re.compile(
    r"^Variable '\$([A-Za-z0-9_]+)' (?:got|has) invalid value"
    r"(?: at (?:'([^']*)'|\.?([A-Za-z0-9_.\[\]]+)))?"
)
_VALUE = re.compile(r"^(Expected value of type '[^']+'), found .*$", re.S)
_SCALAR = re.compile(
    r"^(Enum '[^']+'|String|Int|Float|Boolean|ID|UUID|Date|DateTime|JSON) cannot represent .*$",
    re.S,
)
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.S)


def _safe_message(message: str, *, hide_suggestions: bool) -> tuple[str, bool]:
    """A request error's message without echoed input values; True when it is about input."""
    if m := _VARIABLE.match(message):
        path = m.group(2) or m.group(3)
        where = f" at '{path}'" if path else ""
        return f"Variable '${m.group(1)}' has an invalid value{where}.", True
    if m := _VALUE.match(message):
        return m.group(1) + ".", True
    if _SCALAR.match(message):
        return "A value has the wrong type.", True
    if message.startswith(("Variable '$", "Argument '")):
        # Any other message about a value: keep its first clause only (no value after it).
        return re.split(r"[:;]", message, maxsplit=1)[0].rstrip(".") + ".", True
    if hide_suggestions:
        message = _SUGGESTION.sub("", message)
    return message, False


def format_error(error: GraphQLError, *, hide_suggestions: bool) -> GraphQLError:
    """The client-facing rendition of one error (the original stays attached, unsent)."""
    original = error.original_error
    if isinstance(original, AppError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.errors:
            extensions["errors"] = [
                {"loc": e.get("loc", []), "msg": e.get("msg", "invalid")} for e in original.errors
            ]
        # A refused move names the allowed ones (and, at a gate, why) as in the REST problem.
        for key in ("allowed", "approval_required", "reason"):
            if key in original.extra:
                extensions[key] = original.extra[key]
        message = original.detail
    elif original is None or isinstance(original, GraphQLError):
        message, _ = _safe_message(error.message, hide_suggestions=hide_suggestions)
        # SPEC §8's codes only: a document that does not parse or validate, or a value that
        # does not coerce, is the client's input (no GRAPHQL_PARSE/VALIDATION_FAILED).
        extensions = {"code": "BAD_USER_INPUT"}
    else:
        # Type only: messages of database errors carry parameters, which may be PHI.
        log.error("unexpected error in GraphQL resolver: %s", type(original).__name__)
        message = "Unexpected error."
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


def http_status(error: GraphQLError) -> int:
    """The REST status the error corresponds to."""
    original = error.original_error
    if isinstance(original, AppError):
        return original.status
    if original is None or isinstance(original, GraphQLError):
        return 400
    return 500


class ErrorFormatter(SchemaExtension):
    """Maps AppError to `extensions.code`, masks unexpected errors (like strawberry's
    MaskErrors, but keeping the service layer's codes and validation details)."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [
                format_error(e, hide_suggestions=self.hide_suggestions) for e in result.errors
            ]

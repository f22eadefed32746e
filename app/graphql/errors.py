"""AppError → GraphQL error with `extensions.code`; everything else masked. No input value,
stack trace or PHI ever leaves in an error: graphql-core's coercion messages echo values, so
literal errors come from `SafeValuesOfCorrectTypeRule` and variable errors are re-described
from the schema (`describe_variable_error`); both name where and what type was expected,
built only from names the schema defines."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    ValidationRule,
    VariableDefinitionNode,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_input_type,
    is_list_type,
    is_non_null_type,
)
from graphql.language import SKIP, ValueNode, VisitorAction
from graphql.utilities import type_from_ast, validate_input_literal, validate_input_value
from strawberry.extensions import SchemaExtension

from app.core.errors import AppError
from app.graphql.internals import graphql_core_schema

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


# --- where a bad value sits and what was expected, from schema names only ------------------
_ENUM_LISTED = 12  # enums up to this size list their values in the message


def _describe(type_: GraphQLInputType) -> str:
    named = get_named_type(type_)
    if is_enum_type(named) and len(named.values) <= _ENUM_LISTED:
        return f"{type_} (one of {', '.join(named.values)})"
    return str(type_)


def _walk(type_: GraphQLInputType, path: list[str | int]) -> tuple[GraphQLInputType, str]:
    """The type at `path` and the printable part of the path: only field names the input
    type defines and list indices (a key the client made up never reaches a message)."""
    shown = ""
    for part in path:
        inner: Any = type_.of_type if is_non_null_type(type_) else type_
        if isinstance(part, int) and is_list_type(inner):
            type_, shown = inner.of_type, f"{shown}[{part}]"
        elif isinstance(part, str) and is_input_object_type(inner) and part in inner.fields:
            type_, shown = inner.fields[part].type, f"{shown}.{part}" if shown else part
        else:
            break
    return type_, shown


_REQUIRED = re.compile(r"to include required field '([A-Za-z0-9_]+)'")


def _reason(type_: GraphQLInputType, message: str) -> str:
    """What was expected, picked from fixed phrasings by the kind of graphql-core error."""
    inner: Any = get_named_type(type_)
    if "not to include unknown field" in message or "is not defined by type" in message:
        return f"an unknown field for {inner}"
    required = _REQUIRED.search(message)
    if required and is_input_object_type(inner) and required.group(1) in inner.fields:
        return f"missing required field '{required.group(1)}' of {inner}"
    return "expected " + _describe(type_)


def _value_message(where: str, type_: GraphQLInputType, error: GraphQLError, path: list) -> str:
    at_type, shown = _walk(type_, list(path))
    at = f" at '{shown}'" if shown else ""
    return f"{where} has an invalid value{at}: {_reason(at_type, error.message)}."


class SafeValuesOfCorrectTypeRule(ValidationRule):
    """graphql-core's ValuesOfCorrectTypeRule (it replaces it in validation) with messages
    that name the argument and the expected type instead of repeating the literal."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.where: list[str] = []

    def enter_argument(self, node: Any, *_args: Any) -> None:
        self.where.append(f"Argument '{node.name.value}'")

    def leave_argument(self, *_args: Any) -> None:
        self.where.pop()

    def enter_variable_definition(self, node: Any, *_args: Any) -> None:
        self.where.append(f"The default of '${node.variable.name.value}'")

    def leave_variable_definition(self, *_args: Any) -> None:
        self.where.pop()

    def _check(self, node: ValueNode, type_: GraphQLInputType | None) -> VisitorAction:
        if type_ is not None:
            where = self.where[-1] if self.where else "A value"
            reported: list[str] = []

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                message = _value_message(where, type_, error, path)
                if message not in reported:  # one line per distinct problem
                    reported.append(message)
                    self.report_error(
                        GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"})
                    )

            validate_input_literal(node, type_, on_error, None, None, True)
        return SKIP  # the whole literal was checked above

    def enter_null_value(self, node: ValueNode, *_args: Any) -> VisitorAction:
        return self._check(node, self.context.get_input_type())

    def enter_list_value(self, node: ValueNode, *_args: Any) -> VisitorAction:
        # TypeInfo has already entered the item type: the list's own type is the parent.
        return self._check(node, self.context.get_parent_input_type())

    enter_object_value = enter_enum_value = enter_int_value = enter_null_value
    enter_float_value = enter_string_value = enter_boolean_value = enter_null_value


class _Found(Exception):
    """Stops validate_input_value at its first error."""


_VARIABLE_NAME = re.compile(r"^Variable '\$([A-Za-z0-9_]+)' (?:got|has) invalid value")


def describe_variable_error(
    error: GraphQLError,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    seen: dict[str, str] | None = None,
) -> GraphQLError | None:
    """A variable coercion error re-described from the schema: which variable, where in it,
    and what type was expected (graphql-core's own message repeats the value). `seen`
    remembers each variable's message across the errors of one request."""
    match = _VARIABLE_NAME.match(error.message)
    node = error.nodes[0] if error.nodes else None
    if match is None or not isinstance(node, VariableDefinitionNode):
        return None
    name = match.group(1)
    seen = {} if seen is None else seen
    if name not in seen:
        if (message := _variable_message(name, node, schema, variables)) is None:
            return None
        seen[name] = message
    return GraphQLError(
        seen[name],
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "BAD_USER_INPUT"},
    )


def _variable_message(
    name: str, node: VariableDefinitionNode, schema: GraphQLSchema, variables: Any
) -> str | None:
    type_ = type_from_ast(schema, node.type)
    if not is_input_type(type_):  # unknown or not an input type: never coerced (validation)
        return None
    found: list[tuple[GraphQLError, list[str | int]]] = []

    def first(e: GraphQLError, p: list[str | int]) -> None:
        found.append((e, p))
        raise _Found  # one is enough: a value with 50,000 bad keys must not cost 50,000

    try:
        validate_input_value((variables or {}).get(name), type_, first, True)
    except _Found:
        pass
    except Exception:  # a custom scalar's parser failing oddly: the generic message below
        found.clear()
    if found:
        return _value_message(f"Variable '${name}'", type_, *found[0])
    return f"Variable '${name}' has an invalid value: expected {_describe(type_)}."


def format_error(error: GraphQLError, *, hide_suggestions: bool) -> GraphQLError:
    """The client-facing rendition of one error (the original stays attached, unsent)."""
    original = error.original_error
    if original is None and (error.extensions or {}).get("code"):
        return error  # written by Rounds (validation rules above): safe as it stands
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
        ec = self.execution_context
        result = ec.result
        if result is not None and result.errors:
            schema = graphql_core_schema(ec.schema)
            out: dict[tuple[str, tuple[Any, ...], tuple[Any, ...]], GraphQLError] = {}
            seen: dict[str, str] = {}
            for e in result.errors:
                formatted = format_error(
                    describe_variable_error(e, schema, ec.variables, seen) or e,
                    hide_suggestions=self.hide_suggestions,
                )
                # Re-described errors can coincide (every bad key of one variable): once each.
                key = (
                    formatted.message,
                    tuple(formatted.locations or ()),
                    tuple(formatted.path or ()),
                )
                out.setdefault(key, formatted)
            result.errors = list(out.values())

"""Sparse fieldsets on REST reads: `?fields=id,title,status` on the lists and single reads of
a resource answers only those fields (docs/api-guide.md, "Sparse fieldsets").

The selection is applied to the caller's view as the service built it (PHI already redacted
or left out for callers who may not see it), so it can only leave fields out, never add one.
Fields come back in the resource's own order whatever order the parameter names them. An
unknown or empty name is a 400 problem that names the allowed fields, never the value given.
In the OpenAPI document the parameter is an array of the resource's field names (`style:
form`, `explode: false`: one comma-separated value), written by `document_fields`."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from fastapi import Query
from pydantic import BaseModel, Field

from app.core.errors import MalformedRequest

PARAM = "fields"
# A sparse answer is another representation of the resource: it is sent as this media type,
# whose published schema has the same properties, none of them required (document_fields),
# so the application/json schema keeps saying "every field" to the clients that rely on it.
SPARSE_JSON = "application/vnd.rounds.fields+json"
# Marks the parameter for document_fields; its value is the enum of field names.
_MARK = "x-rounds-fields"

Fields = tuple[str, ...] | None


def parse_fields(raw: str | None, names: tuple[str, ...]) -> Fields:
    """The selected names in the resource's order; None (every field) when not given."""
    if raw is None:
        return None
    wanted = {part.strip() for part in raw.split(",")}
    if not wanted.issubset(names):  # also refuses "" (fields=, a stray comma)
        raise MalformedRequest(
            "`fields` must name fields of this resource.",
            errors=[
                {
                    "loc": ["query", PARAM],
                    "msg": "comma-separated names among: " + ", ".join(names),
                    "type": "unknown_field",
                }
            ],
        )
    return tuple(n for n in names if n in wanted)


_DESCRIPTION = (
    "Answer only these fields (comma-separated; default: all). "
    "Fields the caller may not see stay redacted or absent as without it."
)


def fields_field(names: tuple[str, ...]) -> Any:
    """The `fields` member of a query parameter model (app.api.responses.ListParams)."""
    return Field(
        None,
        max_length=50 * len(names),
        description=_DESCRIPTION,
        json_schema_extra={_MARK: list(names)},
    )


@lru_cache(maxsize=64)
def fields_query(out: type[BaseModel]) -> Callable[..., Awaitable[Fields]]:
    """The `fields` dependency of the reads answering `out` (or pages of it)."""
    names = tuple(out.model_fields)

    async def fields_param(  # async: a sync dependency costs a threadpool hop per request
        fields: str | None = Query(
            None,
            alias=PARAM,
            max_length=50 * len(names),
            description=_DESCRIPTION,
            json_schema_extra={_MARK: list(names)},
        ),
    ) -> Fields:
        return parse_fields(fields, names)

    return fields_param


def _partial(schemas: dict[str, Any], name: str) -> str:
    """The component `<name>Fields`: `name`'s properties, none required; for a page
    (`data` + `next_cursor`) the page itself stays whole and its items are partial."""
    partial = name + "Fields"
    if partial not in schemas:
        schema = copy.deepcopy(schemas[name])
        props = schema.get("properties", {})
        if {"data", "next_cursor"} <= props.keys():
            item = props["data"]["items"]["$ref"].rsplit("/", 1)[-1]
            props["data"]["items"] = {"$ref": "#/components/schemas/" + _partial(schemas, item)}
        else:
            schema.pop("required", None)
            schema["minProperties"] = 1
        schema["title"] = partial
        schema["description"] = f"{name} answered with `fields`: only the fields asked for."
        schemas[partial] = schema
    return partial


def document_fields(doc: dict[str, Any]) -> None:
    """OpenAPI: each `fields` parameter as an array of the resource's field names, given as
    one comma-separated value; the operation's 200 answer gains the SPARSE_JSON
    representation."""
    schemas = doc.get("components", {}).get("schemas", {})
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                if param.get("in") != "query" or _MARK not in schema:
                    continue
                content = op["responses"]["200"]["content"]
                name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                ref = "#/components/schemas/" + _partial(schemas, name)
                content[SPARSE_JSON] = {"schema": {"$ref": ref}}
                names = schema[_MARK]
                param["style"] = "form"
                param["explode"] = False
                param["schema"] = {
                    "type": "array",
                    "items": {"type": "string", "enum": names},
                    "minItems": 1,
                    "title": "Fields",
                }

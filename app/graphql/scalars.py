"""GraphQL scalars: every identifier is `ID`, and each custom scalar names its specification.

SPEC §3: ids, foreign keys, arguments and input fields alike are `ID`, so a `$p: ID!` from one
query can be passed to any mutation. The Python side keeps `uuid.UUID` annotations (the
services' types); this map makes strawberry publish them as the built-in `ID` (serialized as
the UUID's canonical string, parsed as a string that the pydantic model or `parse_id` turns
into a UUID, with BAD_USER_INPUT when it is not one). It is the one place that decides; a
field added with a `uuid.UUID` annotation anywhere becomes `ID` without further work.

Strawberry's documented extension point is `StrawberryConfig.scalar_map`; it needs the very
`ScalarDefinition` strawberry uses for `ID` (a second definition named ID is a conflict), which
lives in `DEFAULT_SCALAR_REGISTRY`. tests/graphql/test_scalars.py fails loudly if that moves.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import strawberry
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition

RFC3339 = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"  # date-time, full-date


def _specified(python_type: type, url: str, description: str) -> ScalarDefinition:
    return dataclasses.replace(
        DEFAULT_SCALAR_REGISTRY[python_type], specified_by_url=url, description=description
    )


SCALAR_MAP: dict[object, ScalarDefinition] = {
    uuid.UUID: DEFAULT_SCALAR_REGISTRY[strawberry.ID],
    datetime.datetime: _specified(
        datetime.datetime,
        RFC3339,
        "A date and time with offset, RFC 3339 `date-time` (Rounds answers in UTC, e.g. "
        "2026-12-04T15:30:00.123456+00:00).",
    ),
    datetime.date: _specified(
        datetime.date, RFC3339, "A calendar date, RFC 3339 `full-date` (2026-12-04)."
    ),
}

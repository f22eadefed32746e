"""Reusable annotated field types for request bodies.

Each type validates and publishes the same constraint: the OpenAPI document is generated
from these types, so a generated client cannot build a request the server refuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic_core import PydanticCustomError


def _integral(value: Any) -> Any:
    # JSON Schema's `integer` is any number with a zero fraction (4.0 included), and that is
    # what the OpenAPI document promises; strings and booleans stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_int(**constraints: Any) -> Any:
    """An integer as JSON Schema defines it: 4 and 4.0 pass; 4.5, "4" and true do not.
    Constraints (ge, le, ...) go inside, where they reach the published schema."""
    return Annotated[StrictInt, Field(**constraints), BeforeValidator(_integral)]


JsonInt = json_int()


@dataclass(frozen=True, slots=True)
class _Enum:
    values: tuple[Any, ...]

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["enum"] = list(self.values)
        return schema


def one_of(base: Any, values: Sequence[Any]) -> Any:
    """`base` restricted to `values`, published as a JSON Schema `enum` and refused with
    "Input should be 0, 1 or 2" (the allowed values, never the input)."""
    allowed = tuple(values)
    expected = ", ".join(map(str, allowed[:-1])) + " or " + str(allowed[-1])

    def check(value: Any) -> Any:
        if value not in allowed:
            raise PydanticCustomError("enum", "Input should be {expected}", {"expected": expected})
        return value

    return Annotated[base, AfterValidator(check), _Enum(allowed)]


# Some character that is not whitespace, whitespace being exactly what str.strip() removes:
# spelled out because `\S` differs between ECMA-262 (the JSON Schema dialect: no U+0085, but
# U+FEFF), Rust's regex (pydantic's) and Python. JSON Schema patterns search, so no anchors.
NOT_BLANK = r"[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Title = Annotated[StrictStr, Field(min_length=1, max_length=300, pattern=NOT_BLANK)]
ShortText = Annotated[StrictStr, Field(max_length=200)]
LongText = Annotated[StrictStr, Field(max_length=20_000)]
PhiLongText = Annotated[StrictStr, Field(max_length=200_000)]
Tag = Annotated[StrictStr, Field(min_length=1, max_length=50, pattern=NOT_BLANK)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Quarter = Annotated[StrictStr, Field(pattern=r"^[0-9]{4}-Q[1-4]$", description="YYYY-Qn")]


# A subject as the identity provider issues it: 1-255 characters, no leading or trailing
# whitespace. Checked as sent (not after stripping), so the published maxLength is the real one.
Subject = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=1, max_length=255, pattern=r"^\S(?:.*\S)?$"
    ),
]

"""Pydantic bases: inputs reject unknown fields; outputs serialize from ORM attributes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class InputModel(BaseModel):
    """A request body: unknown or read-only fields are a 422 naming the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        if _has_nul(v):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return v


class PatchModel(InputModel):
    """A partial update. Fields default to None without validation, so omitting a field
    leaves it alone while an explicit null is validated (and refused where not nullable)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=False)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

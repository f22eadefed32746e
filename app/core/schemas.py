"""Pydantic bases: inputs reject unknown fields; outputs serialize from ORM attributes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body: unknown or read-only fields are a 422 naming the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchModel(InputModel):
    """A partial update. Fields default to None without validation, so omitting a field
    leaves it alone while an explicit null is validated (and refused where not nullable)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=False)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

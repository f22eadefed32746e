"""Pydantic bases: inputs reject unknown fields; outputs serialize from ORM attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, field_validator

if TYPE_CHECKING:
    # A PatchModel field reads None when the client omitted it, so to the type checker it is
    # Optional; at run time it is the bare type, so pydantic refuses an explicit null and the
    # published schema stays non-nullable. `name: Omittable[Name] = None`.
    from typing import Optional as Omittable
else:

    class Omittable:
        def __class_getitem__(cls, item: Any) -> Any:
            return item


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _defaults_in_words(schema: dict[str, Any], _: type) -> None:
    """A request field the client may omit is published without a JSON Schema `default`
    (the default is said in its description instead): openapi-typescript's default
    `--default-non-nullable` turns every defaulted property into a required one, so with a
    `default` there `{product_id, title}` would not type-check as a StoryCreate."""
    for prop in schema.get("properties", {}).values():
        if "default" not in prop:
            continue
        default = prop.pop("default")
        if default is None or default == [] or default == {}:
            continue
        said = f"Default: {orjson.dumps(default).decode()}."
        prop["description"] = f"{prop['description']} ({said})" if "description" in prop else said


def _strip(value: Any) -> Any:
    if type(value) is str:  # not a StrEnum member
        return value.strip()
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class InputModel(BaseModel):
    """A request body: unknown or read-only fields are a 422 naming the field.

    Text is checked as sent (lengths and patterns are the published ones, surrounding
    whitespace counts) and stored without surrounding whitespace; a field that must not be
    blank says so with the pattern `\\S` (some character that is not whitespace)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_defaults_in_words)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        if _has_nul(v):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return _strip(v)


class PatchModel(InputModel):
    """A partial update. Fields default to None without validation, so omitting a field
    leaves it alone while an explicit null is validated (and refused where not nullable)."""

    model_config = ConfigDict(
        extra="forbid", validate_default=False, json_schema_extra=_defaults_in_words
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

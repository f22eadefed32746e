"""Webhook subscription and delivery shapes (SPEC §10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from app.feed.events import EVENT_TYPES

# The feed's event types, published as an enum (the same list the hub emits).
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]

# What check_url can parse: an absolute http(s) URL with a host name or IPv4 address (IDNs
# in their xn-- form), an optional port 0-65535, no credentials, no fragment, no whitespace.
# Whether the host resolves to a public address is checked when saving (422 on `url`).
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_QUOTE = '"'  # unescaped: an escaped quote is not valid in an ECMA-262 unicode-mode pattern
URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.?"
    rf"(:{_PORT})?([/?][!{_QUOTE}$-~]*)?$"
)
WebhookUrl = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=2048,
        pattern=URL_PATTERN,
        description="http(s) URL that receives POSTs; its host must resolve to public addresses",
    ),
]


def _check_types(v: list[str] | None) -> list[str] | None:
    """Each type once, in the feed's order."""
    if v is None:
        return v
    return sorted(set(v), key=EVENT_TYPES.index)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    event_types: list[EventType] = Field(
        default_factory=list,
        max_length=len(EVENT_TYPES),
        description="Event types to deliver; empty means every type",
    )
    product_id: uuid.UUID | None = Field(None, description="null: every product (admins only)")
    active: bool = True

    _types = field_validator("event_types")(_check_types)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: list[EventType] | None = Field(None, max_length=len(EVENT_TYPES))
    active: bool | None = None

    _types = field_validator("event_types")(_check_types)

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if getattr(self, k) is not None}


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[EventType]
    product_id: uuid.UUID | None
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_… signing secret; shown only in this response")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    outcome: str
    trigger: str


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    resource_type: str
    resource_id: str
    state: str = Field(description="pending | succeeded | failed")
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    attempts: list[AttemptOut]

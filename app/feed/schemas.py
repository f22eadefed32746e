"""Webhook subscription and delivery shapes (SPEC §10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.feed.events import EVENT_TYPES

EventTypes = list[str]


def _check_types(v: list[str] | None) -> list[str] | None:
    if v is None:
        return v
    unknown = sorted(set(v) - set(EVENT_TYPES))
    if unknown:
        raise ValueError("unknown event type; allowed: " + ", ".join(EVENT_TYPES))
    return sorted(set(v), key=EVENT_TYPES.index)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="http(s) URL that receives POSTs")
    event_types: list[str] = Field(
        default_factory=list,
        max_length=len(EVENT_TYPES),
        description="Event types to deliver; empty means every type",
    )
    product_id: uuid.UUID | None = Field(None, description="null: every product (admins only)")
    active: bool = True

    _types = field_validator("event_types")(_check_types)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2048)
    event_types: list[str] | None = Field(None, max_length=len(EVENT_TYPES))
    active: bool | None = None

    _types = field_validator("event_types")(_check_types)

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if getattr(self, k) is not None}


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[str]
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

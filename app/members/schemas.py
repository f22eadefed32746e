from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.fields import Subject
from app.core.schemas import InputModel, OutputModel


class MemberAdd(InputModel):
    subject: Subject


class MemberOut(OutputModel):
    product_id: uuid.UUID
    subject: str
    created_at: datetime
    added_by: str | None


class MeOut(OutputModel):
    sub: str
    type: str
    role: str | None
    name: str | None
    client_id: str | None
    scopes: list[str]
    product_ids: list[uuid.UUID] = Field(description="Products the principal is a member of")

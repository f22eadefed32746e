from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import InputModel, OutputModel

# A subject as the identity provider issues it: 1-255 characters, no leading or trailing
# whitespace. Checked as sent (not after stripping), so the published maxLength is the real one.
Subject = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=1, max_length=255, pattern=r"^\S(?:.*\S)?$"
    ),
]


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

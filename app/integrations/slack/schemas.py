from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from app.auth.principal import Role
from app.core.schemas import InputModel, OutputModel

SlackId = Annotated[
    StrictStr, Field(pattern=r"^[A-Z0-9]{2,32}$", description="e.g. T0001, U2147483697")
]


class SlackLinkCreate(InputModel):
    """Link a Slack user to a Rounds principal (admins)."""

    team_id: SlackId
    user_id: SlackId
    subject: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    role: Role


class SlackLinkConfirm(InputModel):
    """The one-time code `/rounds link` replied with."""

    code: Annotated[
        StrictStr,
        Field(pattern=r"^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$", description="e.g. K7QF-2M9X"),
    ]


class SlackLinkOut(OutputModel):
    team_id: str
    user_id: str
    subject: str
    role: Role
    created_at: datetime
    created_by: str

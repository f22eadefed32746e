"""Header and path parameters shared by routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="ETag from a GET; 412 if it is stale")
]

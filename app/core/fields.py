"""Reusable annotated field types for request bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

Title = Annotated[StrictStr, Field(min_length=1, max_length=300)]
ShortText = Annotated[StrictStr, Field(max_length=200)]
LongText = Annotated[StrictStr, Field(max_length=20_000)]
PhiLongText = Annotated[StrictStr, Field(max_length=200_000)]
Tag = Annotated[StrictStr, Field(min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Quarter = Annotated[StrictStr, Field(pattern=r"^[0-9]{4}-Q[1-4]$", description="YYYY-Qn")]

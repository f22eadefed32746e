from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.core.schemas import OutputModel

SearchType = Literal["story", "roadmap_item", "insight", "interview"]


class SearchHitOut(OutputModel):
    type: SearchType
    id: uuid.UUID
    title: str
    snippet: str = Field(
        description="Where the words matched, matches wrapped in ** (redacted text only)"
    )
    product_id: uuid.UUID
    score: float = Field(description="Relevance; higher is better (title matches weigh more)")

"""Query parameters of story lists added by issue #16 (shared with the export)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

ASSIGNEE_DESCRIPTION = "A subject, or `me` for your own stories"
LABELS_DESCRIPTION = "Comma-separated labels; a story must carry all of them"
Assignee = Annotated[str | None, Query(max_length=255, description=ASSIGNEE_DESCRIPTION)]
Labels = Annotated[str | None, Query(max_length=1000, description=LABELS_DESCRIPTION)]


def split_labels(raw: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x.strip() for x in (raw or "").split(",") if x.strip()))

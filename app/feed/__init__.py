"""Change feed (SPEC §10): outbox events, signed webhooks, Idempotency-Key, live updates.

Events are derived from the audit record's write touches (app/feed/events.py). A service
whose change has no touch of its own that maps to an event type (e.g. a future
`roadmap_item.approval_stale`) calls `emit` to add one to the request's outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.context import Ctx


def emit(
    ctx: Ctx,
    type: str,
    resource_type: str,
    resource_id: uuid.UUID | str,
    *,
    product_id: uuid.UUID | str | None = None,
    changed: Iterable[str] = (),
) -> None:
    """Add an event of `type` (e.g. "story.review_reset") to the request's outbox: written in
    the request's transaction when it commits successfully, never otherwise. Field names
    only, never values."""
    ctx.audit.writes.append(
        (
            f"emit:{type}",
            resource_type,
            (str(resource_id),),
            None if product_id is None else str(product_id),
            tuple(changed),
        )
    )

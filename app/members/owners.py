"""Assignees and owners (issue #16): a person named on a story or roadmap item must be a
member of its product. The name grants nothing: no permission check reads it."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core.context import Ctx
from app.core.errors import Invalid
from app.members.models import Membership


async def require_member(ctx: Ctx, product_id: uuid.UUID, subject: str | None, field: str) -> None:
    """422 unless `subject` (when given) is a member of the product."""
    if subject is None:
        return
    found = await ctx.session.scalar(
        select(Membership.subject).where(
            Membership.product_id == product_id, Membership.subject == subject
        )
    )
    if found is None:
        raise Invalid(
            f"{field} must name a member of the product.",
            errors=[{"loc": ["body", field], "msg": "not a member of this product"}],
        )


def resolve_me(ctx: Ctx, value: str | None) -> str | None:
    """A person filter: `me` is the caller's subject, anything else is taken as a subject."""
    return ctx.principal.sub if value == "me" else value

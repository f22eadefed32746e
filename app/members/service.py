"""Product membership and the /me view of the principal."""

from __future__ import annotations

import uuid

from app.authz import Permission
from app.core.context import Ctx
from app.core.errors import Conflict, NotFound
from app.core.pagination import DEFAULT_LIMIT, Page
from app.members.models import Membership
from app.members.repository import MembershipRepository, UserRepository
from app.members.schemas import MeOut
from app.products.service import get_product


async def me(ctx: Ctx) -> MeOut:
    """The calling principal, with the products it is a member of."""
    p = ctx.principal
    ctx.audit.touch("read", "principal", [p.sub])
    return MeOut(
        sub=p.sub,
        type=p.type,
        role=p.role.value if p.role else None,
        name=p.name,
        client_id=p.client_id,
        scopes=sorted(p.scopes),
        product_ids=sorted(await ctx.memberships()),
    )


async def _managed_product(ctx: Ctx, product_id: uuid.UUID):
    product = await get_product(ctx, product_id, audit=False)
    await ctx.authorize(Permission.members_manage, product_id=product.id)
    return product


async def list_members(
    ctx: Ctx, product_id: uuid.UUID, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Membership]:
    """Members of a product, oldest first (any reader of the product may see who is on it)."""
    product = await get_product(ctx, product_id, audit=False)
    page = await MembershipRepository(ctx.session).page(product.id, limit=limit, cursor=cursor)
    ctx.audit.touch("search", "membership", [m.subject for m in page.items], product_id=product.id)
    return page


async def add_member(ctx: Ctx, product_id: uuid.UUID, subject: str) -> Membership:
    """Add a person to a product; 409 if already a member."""
    product = await _managed_product(ctx, product_id)
    repo = MembershipRepository(ctx.session)
    if await repo.get(product.id, subject) is not None:
        raise Conflict("That subject is already a member of this product.")
    m = await repo.add(product.id, subject, ctx.principal.sub)
    await UserRepository(ctx.session).remember(ctx.principal)
    ctx.forget_memberships()
    ctx.audit.touch("create", "membership", [subject], product_id=product.id, changed=["subject"])
    return m


async def remove_member(ctx: Ctx, product_id: uuid.UUID, subject: str) -> None:
    """Remove a person from a product; 404 if not a member."""
    product = await _managed_product(ctx, product_id)
    repo = MembershipRepository(ctx.session)
    if await repo.get(product.id, subject) is None:
        raise NotFound("That subject is not a member of this product.")
    await repo.remove(product.id, subject)
    ctx.forget_memberships()
    ctx.audit.touch("delete", "membership", [subject], product_id=product.id, changed=["subject"])

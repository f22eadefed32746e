"""authorize(): the one place a permission decision is made."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from app.auth.principal import Principal
from app.authz.permissions import Permission, Reach, reach
from app.core.errors import Forbidden


def can(
    principal: Principal,
    permission: Permission,
    *,
    product_id: uuid.UUID | None = None,
    memberships: Collection[uuid.UUID] = (),
    owner_sub: str | None = None,
) -> bool:
    """Whether the principal holds `permission` on a resource of `product_id`."""
    r = reach(principal, permission)
    if r is None:
        return False
    if r is Reach.any:
        return True
    if r is Reach.member:
        return product_id is not None and product_id in memberships
    return (
        owner_sub is not None
        and owner_sub == principal.sub
        and (product_id is None or product_id in memberships)
    )


def authorize(
    principal: Principal,
    permission: Permission,
    *,
    product_id: uuid.UUID | None = None,
    memberships: Collection[uuid.UUID] = (),
    owner_sub: str | None = None,
) -> None:
    """Raise Forbidden unless `can(...)`; callers fetch first so unreadable things are 404.
    The message names the cause a person can act on: the role, the missing membership, or
    the resource being someone else's."""
    if can(
        principal,
        permission,
        product_id=product_id,
        memberships=memberships,
        owner_sub=owner_sub,
    ):
        return
    r = reach(principal, permission)
    who = principal.role.value if principal.role else "this service account"
    if r is None:
        raise Forbidden(f"The role {who} does not allow {permission.value}.")
    if product_id is not None and product_id not in memberships:
        raise Forbidden(
            f"{permission.value} needs membership of this product; you are not a member. "
            "Ask a member product manager or an admin to add you."
        )
    raise Forbidden(f"{permission.value} is allowed only on your own resources here.")

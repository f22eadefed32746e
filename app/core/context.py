"""What every service call receives: the session, the acting principal and the audit record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.record import AuditRecord
from app.auth.principal import Principal
from app.authz.permissions import Permission, Reach, reach
from app.authz.service import authorize, can
from app.config import Settings
from app.core.errors import Forbidden, NotFound


class InProduct(Protocol):
    """A row of a product's resource (interviews, insights, ...)."""

    @property
    def product_id(self) -> uuid.UUID: ...


R = TypeVar("R", bound=InProduct)


class Memberships(Protocol):
    """Product memberships as Ctx reads and grants them. app.members provides them (its
    package registers them with `use_memberships` when imported), so core imports no domain
    package."""

    async def product_ids(self, session: AsyncSession, subject: str) -> frozenset[uuid.UUID]:
        """Ids of the products `subject` is a member of."""
        ...

    async def add_creator(
        self, session: AsyncSession, product_id: uuid.UUID, principal: Principal
    ) -> None:
        """Make `principal` a member of the product it just created."""
        ...


_memberships: Memberships | None = None


def use_memberships(memberships: Memberships) -> None:
    global _memberships
    _memberships = memberships


def _registered() -> Memberships:
    if _memberships is None:
        raise RuntimeError("no product memberships registered: import app.members first")
    return _memberships


@dataclass(slots=True)
class Ctx:
    session: AsyncSession
    principal: Principal
    audit: AuditRecord
    settings: Settings
    _memberships: frozenset[uuid.UUID] | None = field(default=None)

    async def memberships(self) -> frozenset[uuid.UUID]:
        """Ids of the products the principal is a member of, loaded once per request."""
        if self._memberships is None:
            if self.principal.is_service:
                self._memberships = frozenset()
            else:
                self._memberships = await _registered().product_ids(
                    self.session, self.principal.sub
                )
        return self._memberships

    async def join_created_product(self, product_id: uuid.UUID) -> None:
        """The principal created `product_id`: it becomes a member (SPEC: a product's creator
        is its first member)."""
        await _registered().add_creator(self.session, product_id, self.principal)
        self._memberships = None

    def forget_memberships(self) -> None:
        self._memberships = None

    async def can(
        self,
        permission: Permission,
        *,
        product_id: uuid.UUID | None = None,
        owner_sub: str | None = None,
    ) -> bool:
        """`app.authz.can` for this principal; memberships are loaded only when the grant
        reaches member products (an exec's or a compliance officer's request never asks)."""
        r = reach(self.principal, permission)
        if r is None:
            return False
        memberships = await self.memberships() if r is not Reach.any else frozenset()
        return can(
            self.principal,
            permission,
            product_id=product_id,
            memberships=memberships,
            owner_sub=owner_sub,
        )

    async def readable(
        self,
        row: R | None,
        permission: Permission,
        resource_type: str,
        resource_id: uuid.UUID,
        detail: str,
    ) -> R:
        """`row`, read by id, if it exists and the principal holds `permission` in its
        product; else the 404 of `not_found` (unreadable answers like absent)."""
        if row is None or not await self.can(permission, product_id=row.product_id):
            raise self.not_found(resource_type, resource_id, detail)
        return row

    def not_found(self, resource_type: str, resource_id: uuid.UUID, detail: str) -> NotFound:
        """The 404 for a resource asked for by id, recorded as refused on the audit record
        (an `access_denied` event names it even when the rest of the request succeeds)."""
        self.audit.refuse(resource_type, resource_id)
        return NotFound(detail)

    async def authorize(
        self,
        permission: Permission,
        *,
        product_id: uuid.UUID | None = None,
        owner_sub: str | None = None,
        resource: tuple[str, uuid.UUID] | None = None,
    ) -> None:
        """Raise Forbidden unless `can(...)` (callers fetch first: unreadable is 404).
        `resource` (type, id): recorded as refused on the audit record when denied."""
        r = reach(self.principal, permission)
        memberships = await self.memberships() if r in (Reach.member, Reach.own) else frozenset()
        try:
            authorize(
                self.principal,
                permission,
                product_id=product_id,
                memberships=memberships,
                owner_sub=owner_sub,
            )
        except Forbidden:
            if resource is not None:
                self.audit.refuse(*resource)
            raise

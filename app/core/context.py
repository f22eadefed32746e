"""What every service call receives: the session, the acting principal and the audit record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.record import AuditRecord
from app.auth.principal import Principal
from app.config import Settings


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
            from app.members.models import Membership

            if self.principal.is_service:
                self._memberships = frozenset()
            else:
                rows = await self.session.scalars(
                    select(Membership.product_id).where(Membership.subject == self.principal.sub)
                )
                self._memberships = frozenset(rows)
        return self._memberships

    def forget_memberships(self) -> None:
        self._memberships = None

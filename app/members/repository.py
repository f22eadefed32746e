from __future__ import annotations

import uuid

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.pagination import Page, decode_key_cursor, encode_key_cursor
from app.core.repository import dialect_insert
from app.db.types import utcnow
from app.members.models import Membership, UserAccount


class MembershipRepository:
    def __init__(self, session) -> None:
        self.session = session

    async def page(
        self, product_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> Page[Membership]:
        """Members by (created_at, subject): the subject is unique within a product, so it is
        the tie-breaker the keyset needs."""
        stmt = select(Membership).where(Membership.product_id == product_id)
        if cursor:
            after, subject = decode_key_cursor(cursor)
            stmt = stmt.where(
                or_(
                    Membership.created_at > after,
                    and_(Membership.created_at == after, Membership.subject > subject),
                )
            )
        stmt = stmt.order_by(Membership.created_at, Membership.subject).limit(limit + 1)
        rows = list(await self.session.scalars(stmt))
        if len(rows) <= limit:
            return Page(rows, None)
        last = rows[limit - 1]
        return Page(rows[:limit], encode_key_cursor(last.created_at, last.subject))

    async def get(self, product_id: uuid.UUID, subject: str) -> Membership | None:
        return await self.session.get(Membership, (product_id, subject))

    async def add(self, product_id: uuid.UUID, subject: str, added_by: str | None) -> Membership:
        m = Membership(product_id=product_id, subject=subject, added_by=added_by)
        self.session.add(m)
        await self.session.flush()
        return m

    async def remove(self, product_id: uuid.UUID, subject: str) -> None:
        await self.session.execute(
            delete(Membership).where(
                Membership.product_id == product_id, Membership.subject == subject
            )
        )


class UserRepository:
    def __init__(self, session) -> None:
        self.session = session

    async def remember(self, principal: Principal) -> None:
        """Upsert the acting person (role and name as the token says); service accounts are
        not people. Called from write use cases only, so GET requests stay read-only."""
        if principal.is_service:
            return
        role = principal.role.value if principal.role else None
        name = principal.name
        if name is not None:
            # Token claims are outside our validation; fit them to the column (no NUL, 200).
            name = name.replace("\x00", "")[:200]
        ins = dialect_insert(self.session, UserAccount)
        now = utcnow()
        stmt = ins.values(sub=principal.sub, role=role, name=name, created_at=now, last_seen_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[UserAccount.sub],
            set_={"role": role, "name": name, "last_seen_at": now},
        )
        await self.session.execute(stmt)


class ProductMemberships:
    """`app.core.context.Memberships` over these repositories (registered by the package)."""

    async def product_ids(self, session: AsyncSession, subject: str) -> frozenset[uuid.UUID]:
        rows = await session.scalars(
            select(Membership.product_id).where(Membership.subject == subject)
        )
        return frozenset(rows)

    async def add_creator(
        self, session: AsyncSession, product_id: uuid.UUID, principal: Principal
    ) -> None:
        await MembershipRepository(session).add(product_id, principal.sub, principal.sub)
        # People are remembered where they act on the portfolio, not on reads (GET never writes).
        await UserRepository(session).remember(principal)

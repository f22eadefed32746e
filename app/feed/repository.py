"""All SQL of the change feed: subscriptions, deliveries, attempts, the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.pagination import Page, SortSpec, decode_cursor, encode_cursor
from app.feed.models import FeedEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription

_BY_ID = SortSpec("id", descending=False)
_NEWEST = SortSpec("id", descending=True)


def _page(rows: list[Any], limit: int, sort: SortSpec, key=lambda r: r.id) -> Page[Any]:
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = key(rows[-1])
    return Page(rows, encode_cursor(sort, last, last))


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, sub: WebhookSubscription) -> None:
        self.session.add(sub)
        await self.session.flush()

    async def get(self, sub_id: uuid.UUID) -> WebhookSubscription | None:
        row = await self.session.get(WebhookSubscription, sub_id)
        return None if row is None or row.archived_at is not None else row

    async def page(
        self, *, within: Collection[uuid.UUID] | None, limit: int, cursor: str | None
    ) -> Page[WebhookSubscription]:
        """Live subscriptions, oldest first; `within`: only those of these products."""
        stmt = select(WebhookSubscription).where(WebhookSubscription.archived_at.is_(None))
        if within is not None:
            stmt = stmt.where(WebhookSubscription.product_id.in_(list(within)))
        if cursor:
            _, after = decode_cursor(cursor, _BY_ID)
            stmt = stmt.where(WebhookSubscription.id > after)
        stmt = stmt.order_by(WebhookSubscription.id).limit(limit + 1)
        return _page(list(await self.session.scalars(stmt)), limit, _BY_ID)

    async def active(self) -> list[WebhookSubscription]:
        stmt = select(WebhookSubscription).where(
            WebhookSubscription.archived_at.is_(None), WebhookSubscription.active.is_(True)
        )
        return list(await self.session.scalars(stmt))


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, sub_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        row = await self.session.get(WebhookDelivery, delivery_id)
        return row if row is not None and row.subscription_id == sub_id else None

    async def page(
        self, sub_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> Page[tuple[WebhookDelivery, FeedEvent, list[WebhookAttempt]]]:
        """A subscription's deliveries, newest first, each with its event and attempts."""
        stmt = (
            select(WebhookDelivery, FeedEvent)
            .join(FeedEvent, FeedEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.subscription_id == sub_id)
        )
        if cursor:
            _, before = decode_cursor(cursor, _NEWEST)
            stmt = stmt.where(WebhookDelivery.id < before)
        stmt = stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)
        rows = [(d, e) for d, e in (await self.session.execute(stmt)).all()]
        page = _page(rows, limit, _NEWEST, key=lambda r: r[0].id)
        ids = [d.id for d, _ in page.items]
        attempts: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in ids}
        if ids:
            found = await self.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(ids))
                .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
            )
            for a in found:
                attempts[a.delivery_id].append(a)
        return Page([(d, e, attempts[d.id]) for d, e in page.items], page.next_cursor)

    async def event(self, event_id: uuid.UUID) -> FeedEvent | None:
        return await self.session.scalar(select(FeedEvent).where(FeedEvent.id == event_id))

    async def attempts(self, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
        return list(
            await self.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
            )
        )


class OutboxRepository:
    """The worker's statements."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def pg(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def try_dispatch_lock(self) -> bool:
        """One dispatcher at a time (PostgreSQL advisory lock, released at commit), so
        deliveries are created in event order; SQLite serializes writers anyway."""
        if not self.pg:
            return True
        return bool(await self.session.scalar(select(func.pg_try_advisory_xact_lock(0x52464545))))

    async def undispatched(self, limit: int) -> list[FeedEvent]:
        stmt = (
            select(FeedEvent)
            .where(FeedEvent.dispatched.is_(False))
            .order_by(FeedEvent.seq)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def mark_dispatched(self, seqs: Sequence[int]) -> None:
        await self.session.execute(
            update(FeedEvent).where(FeedEvent.seq.in_(list(seqs))).values(dispatched=True)
        )

    async def events_after(self, seq: int, limit: int = 500) -> list[FeedEvent]:
        stmt = select(FeedEvent).where(FeedEvent.seq > seq).order_by(FeedEvent.seq).limit(limit)
        return list(await self.session.scalars(stmt))

    async def last_seq(self) -> int:
        return await self.session.scalar(select(func.max(FeedEvent.seq))) or 0

    async def events_by_id(self, ids: Collection[uuid.UUID]) -> list[FeedEvent]:
        stmt = select(FeedEvent).where(FeedEvent.id.in_(list(ids))).order_by(FeedEvent.seq)
        return list(await self.session.scalars(stmt))

    async def claim(
        self, now: datetime, lease_until: datetime, token: uuid.UUID, limit: int
    ) -> list[uuid.UUID]:
        """Take up to `limit` due deliveries of active subscriptions, never one whose resource
        has an earlier undelivered event for the same subscription (per-resource order).
        PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows."""
        d = WebhookDelivery
        earlier = aliased(WebhookDelivery)
        stmt = (
            select(d.id)
            .join(WebhookSubscription, WebhookSubscription.id == d.subscription_id)
            .where(
                d.state == "pending",
                d.next_attempt_at <= now,
                WebhookSubscription.active.is_(True),
                WebhookSubscription.archived_at.is_(None),
                ~exists().where(
                    and_(
                        earlier.subscription_id == d.subscription_id,
                        earlier.resource_key == d.resource_key,
                        earlier.state == "pending",
                        earlier.event_seq < d.event_seq,
                    )
                ),
            )
            .order_by(d.next_attempt_at, d.event_seq)
            .limit(limit)
        )
        if self.pg:
            stmt = stmt.with_for_update(of=d, skip_locked=True)
        ids = list(await self.session.scalars(stmt))
        if not ids:
            return []
        # The condition is repeated: on SQLite a concurrent process may have claimed a row
        # between the SELECT and this UPDATE (it then matches nothing).
        result = await self.session.execute(
            update(d)
            .where(d.id.in_(ids), d.state == "pending", d.next_attempt_at <= now)
            .values(next_attempt_at=lease_until, lease_token=token, updated_at=now)
            .returning(d.id)
        )
        return list(result.scalars())

    async def claimed(self, ids: Sequence[uuid.UUID]) -> list[tuple[Any, ...]]:
        stmt = (
            select(WebhookDelivery, FeedEvent, WebhookSubscription)
            .join(FeedEvent, FeedEvent.id == WebhookDelivery.event_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.id.in_(list(ids)))
            .order_by(WebhookDelivery.event_seq)
        )
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]

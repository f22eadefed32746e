"""The delivery worker: turns outbox events into deliveries, claims due deliveries and sends
them. Runs inside the app (lifespan, WEBHOOK_WORKER) and as `python -m app worker`; any
number of workers share the work on PostgreSQL (claims use FOR UPDATE SKIP LOCKED and a
lease, so a worker that dies mid-delivery only delays its claimed rows until the lease ends).

Guarantees: at least once (an event is marked dispatched in the transaction that creates its
deliveries; a delivery leaves `pending` only in the transaction that records a 2xx or its
last failure); per subscription and resource, an event is not attempted before every earlier
event of that resource has succeeded or been given up (docs/change-feed.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.audit.record import AuditRecord
from app.audit.writer import append_event
from app.auth.principal import Principal, Role
from app.authz import Permission, can
from app.config import Settings
from app.db.types import utcnow
from app.feed import delivery
from app.feed.events import READ_PERMISSION, public_of
from app.feed.hub import Hub
from app.feed.models import (
    FeedEvent,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.feed.repository import OutboxRepository, SubscriptionRepository
from app.members.models import Membership

log = logging.getLogger("rounds.feed")

# Delivery outcomes of this process (success, http_error, timeout, …), for /metrics; and
# callbacks called with each outcome (operations can hook a Prometheus counter here).
OUTCOMES: Counter[str] = Counter()
OUTCOME_HOOKS: list[Callable[[str], None]] = []

AUDIT_SUB = "integration:webhooks"
_STATUS_OF = {"timeout": 504, "connect_error": 502, "refused": 403, "error": 502}


def _count(outcome: str) -> None:
    OUTCOMES[outcome] += 1
    for hook in OUTCOME_HOOKS:
        with contextlib.suppress(Exception):
            hook(outcome)


def _owner(sub: WebhookSubscription) -> Principal | None:
    try:
        role = Role(sub.owner_role) if sub.owner_role else None
    except ValueError:
        return None
    return Principal(sub=sub.created_by, type="user", role=role)


class Worker:
    def __init__(
        self, engine: AsyncEngine, settings: Settings, *, hub: Hub | None = None, batch: int = 50
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.maker = async_sessionmaker(engine, expire_on_commit=False)
        self.hub = hub
        self.batch = batch
        self.http = delivery.client(settings)
        self._last_sweep = 0.0

    async def close(self) -> None:
        await self.http.aclose()

    # -- dispatch: events -> deliveries -------------------------------------------------------

    async def dispatch_once(self, limit: int = 500) -> int:
        """Create the deliveries of undispatched events (one dispatcher at a time)."""
        async with self.maker() as session, session.begin():
            repo = OutboxRepository(session)
            if not await repo.try_dispatch_lock():
                return 0
            events = await repo.undispatched(limit)
            if not events:
                return 0
            subs = await SubscriptionRepository(session).active()
            owners: dict[str, frozenset[uuid.UUID]] = {}
            for sub in subs:
                if sub.created_by not in owners:
                    products = await session.scalars(
                        select(Membership.product_id).where(Membership.subject == sub.created_by)
                    )
                    owners[sub.created_by] = frozenset(products)
            rows: list[dict[str, Any]] = []
            now = utcnow()
            for ev in events:
                for sub in subs:
                    if self._wants(sub, ev, owners[sub.created_by]):
                        rows.append(
                            {
                                "id": uuid.uuid4(),
                                "subscription_id": sub.id,
                                "event_id": ev.id,
                                "event_seq": ev.seq,
                                "resource_key": f"{ev.resource_type}:{ev.resource_id}"[:300],
                                "state": "pending",
                                "attempts": 0,
                                "next_attempt_at": now,
                                "created_at": now,
                                "updated_at": now,
                            }
                        )
            if rows:
                await session.execute(insert(WebhookDelivery), rows)
            await repo.mark_dispatched([e.seq for e in events])
            return len(rows)

    @staticmethod
    def _wants(sub: WebhookSubscription, ev: FeedEvent, memberships: frozenset[uuid.UUID]) -> bool:
        if sub.product_id is not None and sub.product_id != ev.product_id:
            return False
        if sub.event_types and ev.type not in sub.event_types:
            return False
        if ev.occurred_at < sub.created_at:
            return False
        owner = _owner(sub)
        if owner is None:
            return False
        # Never tell a subscription's owner about what the owner could not read.
        return can(
            owner,
            Permission(READ_PERMISSION.get(ev.resource_type, "product:read")),
            product_id=ev.product_id,
            memberships=memberships,
        )

    # -- delivery -----------------------------------------------------------------------------

    async def deliver_once(self) -> int:
        """Claim due deliveries, send them concurrently, record the outcomes. Returns how many
        were attempted."""
        now = utcnow()
        token = uuid.uuid4()
        lease = now + timedelta(seconds=self.settings.webhook_lease_seconds)
        async with self.maker() as session, session.begin():
            repo = OutboxRepository(session)
            ids = await repo.claim(now, lease, token, self.batch)
            claimed = await repo.claimed(ids) if ids else []
        if not claimed:
            return 0
        # One resource's deliveries in one claim go one after the other, in event order.
        chains: dict[tuple[uuid.UUID, str], list[tuple[Any, ...]]] = {}
        for row in claimed:
            chains.setdefault((row[0].subscription_id, row[0].resource_key), []).append(row)

        async def run_chain(chain: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            out = []
            for d, ev, sub in chain:
                result = await delivery.attempt(
                    self.http,
                    self.settings,
                    url=sub.url,
                    secret=sub.secret,
                    event=public_of(ev),
                    at=utcnow(),
                )
                out.append((d, ev, sub, result))
                if not result.ok:
                    break  # later events of this resource wait for this one
            return out

        done = [
            r for chain in await asyncio.gather(*map(run_chain, chains.values())) for r in chain
        ]
        tried = {d.id for d, _, _, _ in done}
        await self._record(done, token, [r for r in claimed if r[0].id not in tried])
        return len(done)

    async def _record(
        self, done: list[tuple[Any, ...]], token: uuid.UUID, untried: list[tuple[Any, ...]]
    ) -> None:
        schedule = self.settings.webhook_backoff
        disable_after = timedelta(seconds=self.settings.webhook_disable_after_seconds)
        now = utcnow()
        async with self.maker() as session, session.begin():
            for d, _ev, _sub in untried:  # released: due again right away, in order
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == d.id, WebhookDelivery.lease_token == token)
                    .values(next_attempt_at=now, lease_token=None)
                )
            for d, ev, sub, result in done:
                _count(result.outcome)
                await session.execute(
                    insert(WebhookAttempt).values(
                        delivery_id=d.id,
                        attempted_at=now,
                        status_code=result.status_code,
                        duration_ms=result.duration_ms,
                        outcome=result.outcome,
                        trigger="redeliver" if d.attempts == 0 and d.last_outcome else "scheduled",
                    )
                )
                attempts = d.attempts + 1
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "last_status_code": result.status_code,
                    "last_outcome": result.outcome,
                    "lease_token": None,
                    "updated_at": now,
                }
                if result.ok:
                    values["state"] = "succeeded"
                elif attempts > len(schedule):
                    values["state"] = "failed"
                else:
                    values["next_attempt_at"] = now + timedelta(seconds=schedule[attempts - 1])
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == d.id, WebhookDelivery.lease_token == token)
                    .values(**values)
                )
                await self._subscription_health(session, sub.id, result.ok, now, disable_after)
                await append_event(session, _audit_record(sub, ev, d), _audit_status(result))

    @staticmethod
    async def _subscription_health(session, sub_id, ok, now, disable_after) -> None:
        sub = await session.get(WebhookSubscription, sub_id, with_for_update=False)
        if sub is None:
            return
        if ok:
            if sub.failing_since is not None:
                sub.failing_since = None
            return
        if sub.failing_since is None:
            sub.failing_since = now
        elif now - sub.failing_since >= disable_after and sub.active:
            sub.active = False
            sub.disabled_at = now
            sub.disabled_reason = "failing"
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.subscription_id == sub.id, WebhookDelivery.state == "pending"
                )
                .values(state="failed", updated_at=now)
            )
        await session.flush()

    # -- housekeeping -------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Forget Idempotency-Key responses past their 24 h."""
        async with self.maker() as session, session.begin():
            await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.expires_at < utcnow())
            )

    async def run_once(self) -> int:
        await self.dispatch_once()
        return await self.deliver_once()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: dispatch and deliver, then wait for a notification or the poll
        interval. Errors are logged (type only) and retried on the next round."""
        loop = asyncio.get_running_loop()
        if self.hub is not None:
            self.hub.want_other_processes()  # wake on other processes' commits too
        while not stop.is_set():
            busy = 0
            try:
                busy = await self.run_once()
                if loop.time() - self._last_sweep > 60:
                    self._last_sweep = loop.time()
                    await self.sweep()
            except Exception as exc:
                log.error("webhook worker round failed: %s", type(exc).__name__)
            if busy:
                continue
            wake = self.hub.wake if self.hub is not None else asyncio.Event()
            wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.webhook_poll_seconds):
                    waiter = asyncio.ensure_future(wake.wait())
                    stopper = asyncio.ensure_future(stop.wait())
                    try:
                        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        waiter.cancel()
                        stopper.cancel()


def _audit_record(sub: WebhookSubscription, ev: FeedEvent, d: WebhookDelivery) -> AuditRecord:
    """A delivery attempt as the integration principal: which event went to which
    subscription, never the URL's query or the body."""
    record = AuditRecord(
        request_id=uuid.uuid4().hex,
        http_method="POST",
        path=f"webhook:{sub.id}",
        actor_sub=AUDIT_SUB,
        actor_type="service",
    )
    record.touch(
        "export", ev.resource_type, [ev.resource_id, ev.id, d.id], product_id=ev.product_id
    )
    return record


def _audit_status(result: delivery.Result) -> int:
    if result.status_code is not None:
        return result.status_code
    return _STATUS_OF.get(result.outcome, 502)


async def run_standalone(settings: Settings) -> None:
    """`python -m app worker`: deliver until SIGINT/SIGTERM."""
    import signal

    from app.db.session import create_engine

    engine = create_engine(settings)
    hub = Hub(engine)
    worker = Worker(engine, settings, hub=hub)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await hub.start()
    try:
        await worker.run(stop)
    finally:
        await hub.stop()
        await worker.close()
        await engine.dispose()

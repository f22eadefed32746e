"""All SQL of the integrations' own tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.repository import dialect_insert
from app.db.session import rowcount
from app.integrations.models import JiraDelivery, SlackLink, SlackLinkCode


def _insert_ignoring_duplicates(session: AsyncSession, model: type, values: dict):
    return dialect_insert(session, model).values(**values).on_conflict_do_nothing()


class JiraDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, delivery_id: str, issue_key: str | None, at: datetime) -> bool:
        """Record a delivery id; False when it was already recorded (a duplicate). A
        concurrent delivery of the same id waits for the first one's commit (PostgreSQL
        unique index) and then finds it recorded."""
        stmt = _insert_ignoring_duplicates(
            self.session,
            JiraDelivery,
            {
                "delivery_id": delivery_id,
                "received_at": at,
                "outcome": "processing",
                "issue_key": issue_key,
            },
        )
        result = await self.session.execute(stmt)
        return rowcount(result) == 1

    async def finish(self, delivery_id: str, outcome: str) -> None:
        await self.session.execute(
            update(JiraDelivery)
            .where(JiraDelivery.delivery_id == delivery_id)
            .values(outcome=outcome)
        )

    async def prune(self, before: datetime) -> None:
        await self.session.execute(delete(JiraDelivery).where(JiraDelivery.received_at < before))


class SlackLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, user_id: str) -> SlackLink | None:
        return await self.session.get(SlackLink, (team_id, user_id))

    async def put(self, link: SlackLink) -> SlackLink:
        """Create or replace the link of (team_id, user_id), in one statement (concurrent
        links of the same Slack user cannot collide)."""
        values = {
            "team_id": link.team_id,
            "user_id": link.user_id,
            "subject": link.subject,
            "role": link.role,
            "created_at": link.created_at,
            "created_by": link.created_by,
        }
        stmt = dialect_insert(self.session, SlackLink).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={k: stmt.excluded[k] for k in ("subject", "role", "created_at", "created_by")},
        )
        await self.session.execute(stmt)
        stored = await self.session.get(
            SlackLink, (link.team_id, link.user_id), populate_existing=True
        )
        assert stored is not None
        return stored

    async def add_code(self, code: SlackLinkCode) -> None:
        # One pending code per Slack user: asking again replaces the previous one.
        await self.session.execute(
            delete(SlackLinkCode).where(
                SlackLinkCode.team_id == code.team_id, SlackLinkCode.user_id == code.user_id
            )
        )
        self.session.add(code)
        await self.session.flush()

    async def take_code(self, code_hash: str, now: datetime) -> SlackLinkCode | None:
        """The unexpired code with this hash, deleted (one use); expired codes are pruned."""
        await self.session.execute(delete(SlackLinkCode).where(SlackLinkCode.expires_at < now))
        row = await self.session.scalar(
            select(SlackLinkCode).where(SlackLinkCode.code_hash == code_hash)
        )
        if row is None:
            return None
        await self.session.delete(row)
        await self.session.flush()
        return row

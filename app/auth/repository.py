"""All SQL about service accounts (OAuth clients)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import OAuthClient
from app.db.session import rowcount


class OAuthClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, client: OAuthClient) -> OAuthClient:
        self.session.add(client)
        await self.session.flush()
        return client

    async def active(self, client_ids: Collection[str]) -> list[OAuthClient]:
        """The not-revoked clients among `client_ids`."""
        ids = [c for c in client_ids if c]
        if not ids:
            return []
        rows = await self.session.scalars(
            select(OAuthClient).where(
                OAuthClient.client_id.in_(ids), OAuthClient.revoked_at.is_(None)
            )
        )
        return list(rows)

    async def is_active(self, client_id: str | None) -> bool:
        """Whether `client_id` names a client that exists and is not revoked."""
        found = await self.session.scalar(
            select(OAuthClient.id).where(
                OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None)
            )
        )
        return found is not None

    async def get(self, client_id: str) -> OAuthClient | None:
        return await self.session.scalar(
            select(OAuthClient).where(OAuthClient.client_id == client_id)
        )

    async def list(self) -> list[OAuthClient]:
        rows = await self.session.scalars(
            select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.id)
        )
        return list(rows)

    async def revoke(self, client_id: str, at: datetime) -> bool:
        """Mark the client revoked; False when it does not exist or already was."""
        result = await self.session.execute(
            update(OAuthClient)
            .where(OAuthClient.client_id == client_id, OAuthClient.revoked_at.is_(None))
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(rowcount(result))

"""Shared helpers of the change-feed tests: read the outbox, a real HTTP receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.feed.models import FeedEvent


async def events_for(app, resource_id: str) -> list[dict[str, Any]]:
    """The outbox rows of one resource, oldest first, as a dict of their columns."""
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(FeedEvent)
            .where(FeedEvent.resource_id == str(resource_id))
            .order_by(FeedEvent.seq)
        )
        return [{c.name: getattr(r, c.name) for c in FeedEvent.__table__.columns} for r in rows]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A real HTTP/1.1 server on 127.0.0.1 (asyncio streams): records each request and
    answers with the next planned status (default 204); "hang" never answers."""

    plan: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/rounds"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(headers, body, loop.time()))
            self.arrived.set()
            action = self.plan.pop(0) if self.plan else 204
            if action == "hang":
                await asyncio.sleep(3600)
                return
            extra = "location: http://127.0.0.1:1/elsewhere\r\n" if 300 <= action < 400 else ""
            writer.write(
                f"HTTP/1.1 {action} X\r\n{extra}content-length: 2\r\n"
                "connection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.received]


@contextlib.asynccontextmanager
async def receiver(plan: list[Any] | None = None) -> AsyncIterator[Receiver]:
    rec = Receiver(plan=list(plan or []))
    server = await asyncio.start_server(rec._handle, "127.0.0.1", 0)
    rec.port = server.sockets[0].getsockname()[1]
    try:
        yield rec
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)

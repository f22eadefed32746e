"""The hub on PostgreSQL: a process hears other processes' commits only once it has someone to
tell (a live subscriber or a worker), hands its own events to its subscribers without the
NOTIFY round trip, and never twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.feed.hub import Hub
from tests.api.factories import make_world
from tests.conftest import IS_PG

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not IS_PG, reason="LISTEN/NOTIFY: PostgreSQL"),
]


async def _drain(queue: asyncio.Queue, wait: float = 0.5) -> list[dict]:
    """Everything that arrives on `queue` within `wait` seconds of the last event."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), wait))
        except TimeoutError:
            return got


async def test_other_process_hears_commits_only_after_it_wants_to(app, client, auth):
    w = await make_world(client, auth)
    pid = uuid.UUID(w.pid)
    own = app.state.feed_hub
    await own.ensure_started()
    engine = create_async_engine(app.state.engine.url)
    other = Hub(engine)  # another process's hub: its own engine and connection
    await other.start()
    try:
        await asyncio.sleep(0.2)
        assert not own.hears_others and not other.hears_others  # nobody to tell: no LISTEN
        queue = other.subscribe(pid)
        await other.listening()
        assert other.hears_others and not own.hears_others
        story = await w.story()
        events = await _drain(queue)
        assert [(e["type"], e["resource_id"]) for e in events] == [("story.created", story["id"])]
    finally:
        await other.stop()
        await engine.dispose()


async def test_own_events_reach_own_subscribers_once(app, client, auth):
    w = await make_world(client, auth)
    pid = uuid.UUID(w.pid)
    hub = app.state.feed_hub
    await hub.ensure_started()
    queue = hub.subscribe(pid)
    try:
        await hub.listening()
        assert hub.hears_others
        story = await w.story()
        events = await _drain(queue)
        # handed out after the commit, and the NOTIFY coming back is ignored
        assert [(e["type"], e["resource_id"]) for e in events] == [("story.created", story["id"])]
    finally:
        hub.unsubscribe(pid, queue)

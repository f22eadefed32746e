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


async def test_notifications_are_coalesced_under_a_stream_of_writes(app, client, auth):
    """The first event goes out at once; what is committed within `notify_every` after a
    NOTIFY rides on the next one (one NOTIFY a write cost the writes; bench/README.md)."""
    w = await make_world(client, auth)
    pid = uuid.UUID(w.pid)
    own = app.state.feed_hub
    await own.ensure_started()
    engine = create_async_engine(app.state.engine.url)
    other = Hub(engine)
    await other.start()
    heard: list[str] = []
    hear = other._on_notify
    other._on_notify = lambda conn, pid_, channel, payload: (  # type: ignore[method-assign]
        heard.append(payload),
        hear(conn, pid_, channel, payload),
    )
    before, own.notify_every = own.notify_every, 1.0
    try:
        queue = other.subscribe(pid)
        await other.listening()
        await asyncio.sleep(1.1)  # the world's own events have gone out
        stories = [await w.story() for _ in range(4)]
        events = await _drain(queue, wait=1.5)
        assert [e["resource_id"] for e in events] == [s["id"] for s in stories]
        assert 2 <= len(heard) < len(stories), heard
    finally:
        own.notify_every = before
        await other.stop()
        await engine.dispose()

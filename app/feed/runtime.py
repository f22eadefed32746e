"""The change feed inside the app process: the hub (live fan-out, worker wake-ups) and the
in-process delivery worker (WEBHOOK_WORKER, on for `make run`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.config import Settings
from app.feed.hub import Hub
from app.feed.worker import Worker


@contextlib.asynccontextmanager
async def running_feed(app: Any, settings: Settings) -> AsyncIterator[None]:
    """Lifespan part: start the hub and (when WEBHOOK_WORKER) a delivery worker task."""
    hub: Hub = app.state.feed_hub
    await hub.ensure_started()
    stop = asyncio.Event()
    task = None
    worker = None
    if settings.webhook_worker:
        worker = Worker(app.state.engine, settings, hub=hub)
        task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=settings.webhook_timeout_seconds + 5)
        if worker is not None:
            await worker.close()
        await hub.stop()

"""Several `python -m app worker` processes on PostgreSQL share the deliveries (FOR UPDATE
SKIP LOCKED): N events reach a real receiver exactly once; a worker SIGKILLed mid-delivery
loses nothing (its claimed delivery is retried after the lease). Events committed while no
worker ran are delivered when one starts (the outbox survives a crash before delivery)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tests.api.factories import make_world
from tests.conftest import IS_PG
from tests.feed.helpers import receiver

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not IS_PG, reason="several worker processes: PostgreSQL"),
]

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def workers(settings, n: int, log: Path, **env_over: str):
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "WEBHOOK_LEASE_SECONDS": "30",
        "WEBHOOK_POLL_SECONDS": "0.1",
        "GC_TUNING": "false",
        **env_over,
    }
    out = log.open("ab")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        for _ in range(n)
    ]
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        out.close()


async def until(predicate, limit: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)


async def test_two_workers_deliver_each_event_once(feed_client, settings, auth, tmp_path):
    w = await make_world(feed_client, auth)
    n = 40
    async with receiver([200] * n) as rec:
        r = await feed_client.post(
            "/api/v1/webhooks",
            json={"url": rec.url, "product_id": w.pid, "event_types": ["story.created"]},
            headers=w.pm,
        )
        secret = r.json()["secret"]
        # committed before any worker runs: the outbox keeps them
        stories = await asyncio.gather(*[w.story(title=f"Story {i}") for i in range(n)])
        with workers(settings, 2, tmp_path / "workers.log") as procs:
            await until(lambda: len(rec.received) >= n)
            await asyncio.sleep(1.0)  # a duplicate would arrive now
            assert all(p.poll() is None for p in procs), (tmp_path / "workers.log").read_text()
        ids = Counter(r.headers["webhook-id"] for r in rec.received)
        assert len(rec.received) == n and set(ids.values()) == {1}, ids.most_common(3)
        got = {Webhook(secret).verify(r.body, r.headers)["resource_id"] for r in rec.received}
        assert got == {s["id"] for s in stories}


async def test_sigkill_mid_delivery_loses_nothing(feed_client, settings, auth, tmp_path):
    w = await make_world(feed_client, auth)
    async with receiver(["hang"]) as rec:
        r = await feed_client.post(
            "/api/v1/webhooks",
            json={"url": rec.url, "product_id": w.pid, "event_types": ["story.created"]},
            headers=w.pm,
        )
        assert r.status_code == 201
        story = await w.story()
        log = tmp_path / "worker.log"
        with workers(settings, 1, log, WEBHOOK_LEASE_SECONDS="1.5") as (proc,):
            await until(lambda: len(rec.received) >= 1)
            proc.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
            proc.wait(10)
        assert len(rec.received) == 1
        with workers(settings, 1, log, WEBHOOK_LEASE_SECONDS="1.5"):
            await until(lambda: len(rec.received) >= 2)
        first, second = rec.received[:2]
        assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same message
        assert second.at - first.at >= 1.0  # after the dead worker's lease
        assert rec.events()[1]["resource_id"] == story["id"]
    deliveries = (
        await feed_client.get(f"/api/v1/webhooks/{r.json()['id']}/deliveries", headers=w.pm)
    ).json()["data"]
    assert [d["state"] for d in deliveries] == ["succeeded"]

"""Webhook subscriptions and delivery against a real HTTP receiver on 127.0.0.1: Standard
Webhooks signatures verified with the `standardwebhooks` package, retries with backoff on 500
and timeouts, no redirects, per-resource order, give-up and deactivation, redelivery, audit."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from app.audit.models import AuditEvent
from app.feed.worker import Worker
from tests.api.factories import assert_problem, make_world, new_sub
from tests.feed.helpers import receiver

pytestmark = pytest.mark.asyncio


async def subscribe(client, headers, url, **body):
    r = await client.post("/api/v1/webhooks", json={"url": url, **body}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


@contextlib.asynccontextmanager
async def running_worker(app, settings):
    worker = Worker(app.state.engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await worker.close()


async def wait_for(predicate, limit=8.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_subscription_api_permissions_and_secret_once(feed_client, auth):
    c = feed_client
    w = await make_world(c, auth)
    created = await subscribe(
        c, w.pm, "http://127.0.0.1:9/x", product_id=w.pid, event_types=["story.created"]
    )
    assert created["secret"].startswith("whsec_")
    assert created["active"] is True and created["product_id"] == w.pid
    r = await c.get(f"/api/v1/webhooks/{created['id']}", headers=w.pm)
    assert r.status_code == 200 and "secret" not in r.json()
    assert r.headers["etag"] == '"1"'
    listed = (await c.get("/api/v1/webhooks?limit=200", headers=w.pm)).json()["data"]
    assert created["id"] in [s["id"] for s in listed]
    assert all("secret" not in s for s in listed)

    other_pm = auth("product_manager", new_sub("pm"))
    r = await c.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "product_id": w.pid},
        headers=other_pm,
    )
    assert_problem(r, 403)
    assert_problem(await c.get(f"/api/v1/webhooks/{created['id']}", headers=other_pm), 404)
    engineer = await w.member("engineer")
    r = await c.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "product_id": w.pid},
        headers=engineer,
    )
    assert_problem(r, 403)
    assert_problem(await c.get("/api/v1/webhooks", headers=engineer), 403)
    # every product: admins only
    r = await c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=w.pm)
    assert_problem(r, 403)
    admin = auth("admin", new_sub("admin"))
    everything = await subscribe(c, admin, "http://127.0.0.1:9/all")
    assert everything["product_id"] is None
    assert_problem(await c.get(f"/api/v1/webhooks/{everything['id']}", headers=w.pm), 404)
    assert (await c.get(f"/api/v1/webhooks/{created['id']}", headers=admin)).status_code == 200

    r = await c.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "product_id": w.pid, "event_types": ["story.exploded"]},
        headers=w.pm,
    )
    assert_problem(r, 422)
    r = await c.patch(f"/api/v1/webhooks/{created['id']}", json={"active": False}, headers=w.pm)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["version"] == 2
    r = await c.delete(f"/api/v1/webhooks/{created['id']}", headers=w.pm)
    assert r.status_code == 200
    assert_problem(await c.get(f"/api/v1/webhooks/{created['id']}", headers=w.pm), 404)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://192.168.0.10/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://example.org/hook",
        "http://user:pw@example.org/hook",
        "not a url",
    ],
)
async def test_ssrf_guard_refuses_private_targets(client, auth, url):
    """The default settings (no WEBHOOK_ALLOW_PRIVATE): 422 at subscription time."""
    w = await make_world(client, auth)
    r = await client.post("/api/v1/webhooks", json={"url": url, "product_id": w.pid}, headers=w.pm)
    body = assert_problem(r, 422)
    assert url not in r.text  # the value is not echoed
    assert body["errors"][0]["loc"] == ["body", "url"]


async def test_delivery_is_signed_and_verifiable(feed_app, feed_client, feed_settings, auth):
    w = await make_world(feed_client, auth)
    async with receiver() as rec:
        sub = await subscribe(feed_client, w.pm, rec.url, product_id=w.pid)
        story = await w.story()
        async with running_worker(feed_app, feed_settings):
            await wait_for(lambda: len(rec.received) >= 1)
        got = rec.received[0]
        payload = Webhook(sub["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "story.created"
        assert payload["resource_id"] == story["id"] and payload["product_id"] == w.pid
        assert payload["version"] == 1 and payload["actor_sub"] == w.pm_sub
        assert set(payload) == {
            "id",
            "type",
            "occurred_at",
            "product_id",
            "resource_type",
            "resource_id",
            "version",
            "changed_fields",
            "actor_sub",
        }
        assert got.headers["webhook-id"] == payload["id"]
        assert got.headers["webhook-signature"].startswith("v1,")
        assert got.headers["host"] == f"127.0.0.1:{rec.port}"
        with pytest.raises(WebhookVerificationError):  # another secret does not verify
            Webhook("whsec_" + "A" * 44).verify(got.body, got.headers)
        assert len(rec.received) == 1  # once: a 2xx is final

    # the attempt is audited as the integration, without the body
    async with feed_app.state.sessionmaker() as s:
        rows = list(
            await s.scalars(
                select(AuditEvent).where(AuditEvent.actor_sub == "integration:webhooks")
            )
        )
    # (the admin's every-product subscription of another test gets its own attempt)
    mine = [e for e in rows if payload["id"] in e.resource_ids and sub["id"] in e.path]
    assert len(mine) == 1
    assert mine[0].path == f"webhook:{sub['id']}" and mine[0].outcome == "success"
    assert mine[0].action == "export" and mine[0].actor_type == "service"
    assert rec.url not in json.dumps([mine[0].path, mine[0].resource_ids])


async def test_retries_with_backoff_on_500_and_timeout(feed_app, feed_client, feed_settings, auth):
    w = await make_world(feed_client, auth)
    async with receiver([500, "hang", 302, 204]) as rec:
        sub = await subscribe(
            feed_client, w.pm, rec.url, product_id=w.pid, event_types=["story.created"]
        )
        await w.story()
        async with running_worker(feed_app, feed_settings):
            await wait_for(lambda: len(rec.received) >= 4)
            await asyncio.sleep(0.3)
        assert len(rec.received) == 4  # no redirect followed, nothing after the 2xx
        ids = {r.headers["webhook-id"] for r in rec.received}
        assert len(ids) == 1  # the same message each time
        gaps = [b.at - a.at for a, b in zip(rec.received, rec.received[1:], strict=False)]
        assert gaps[0] >= 0.3 - 0.05  # backoff after the 500
        assert gaps[1] >= 1.0 + 0.3 - 0.05  # the 1 s timeout, then the backoff
        for r in rec.received:
            Webhook(sub["secret"]).verify(r.body, r.headers)
    r = await feed_client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=w.pm)
    assert r.status_code == 200, r.text
    (delivery,) = r.json()["data"]
    assert delivery["state"] == "succeeded" and delivery["event_type"] == "story.created"
    assert [(a["outcome"], a["status_code"]) for a in delivery["attempts"]] == [
        ("http_error", 500),
        ("timeout", None),
        ("http_error", 302),
        ("success", 204),
    ]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])
    assert delivery["attempts"][1]["duration_ms"] >= 900


async def test_give_up_deactivate_and_redeliver(feed_app, feed_client, feed_settings, auth):
    settings = feed_settings.model_copy(
        update={"webhook_retry_schedule": "0.1", "webhook_disable_after_seconds": 0.0}
    )
    w = await make_world(feed_client, auth)
    async with receiver([500, 503]) as rec:
        sub = await subscribe(
            feed_client, w.pm, rec.url, product_id=w.pid, event_types=["story.created"]
        )
        await w.story()
        async with running_worker(feed_app, settings):
            await wait_for(lambda: len(rec.received) >= 2)
            await asyncio.sleep(0.4)
        assert len(rec.received) == 2  # 1 + len(schedule) attempts, then given up
        r = await feed_client.get(f"/api/v1/webhooks/{sub['id']}", headers=w.pm)
        body = r.json()
        assert body["active"] is False and body["disabled_reason"] == "failing"
        deliveries = (
            await feed_client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=w.pm)
        ).json()["data"]
        assert deliveries[0]["state"] == "failed"
        # re-activate, redeliver: the receiver now answers 204
        r = await feed_client.patch(
            f"/api/v1/webhooks/{sub['id']}", json={"active": True}, headers=w.pm
        )
        assert r.json()["active"] is True and r.json()["failing_since"] is None
        r = await feed_client.post(
            f"/api/v1/webhooks/{sub['id']}/deliveries/{deliveries[0]['id']}/redeliver",
            headers=w.pm,
        )
        assert r.status_code == 202, r.text
        assert r.json()["state"] == "pending"
        async with running_worker(feed_app, settings):
            await wait_for(lambda: len(rec.received) >= 3)
            await asyncio.sleep(0.2)
        assert len(rec.received) == 3
    deliveries = (
        await feed_client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=w.pm)
    ).json()["data"]
    assert deliveries[0]["state"] == "succeeded"
    assert deliveries[0]["attempts"][-1]["trigger"] == "redeliver"
    other = auth("product_manager", new_sub("pm"))
    r = await feed_client.post(
        f"/api/v1/webhooks/{sub['id']}/deliveries/{deliveries[0]['id']}/redeliver", headers=other
    )
    assert_problem(r, 404)


async def test_per_resource_order_waits_for_earlier_event(
    feed_app, feed_client, feed_settings, auth
):
    w = await make_world(feed_client, auth)
    async with receiver([500]) as rec:
        await subscribe(feed_client, w.pm, rec.url, product_id=w.pid)
        story = await w.story()
        for sprint in ("S1", "S2"):
            r = await feed_client.patch(
                f"/api/v1/stories/{story['id']}", json={"sprint": sprint}, headers=w.pm
            )
            assert r.status_code == 200
        async with running_worker(feed_app, feed_settings):
            await wait_for(lambda: len(rec.received) >= 4)
            await asyncio.sleep(0.2)
        versions = [e["version"] for e in rec.events()]
        assert versions == [1, 1, 2, 3], versions


async def test_ssrf_rechecked_at_delivery(feed_app, feed_client, feed_settings, settings, auth):
    """A target accepted earlier is refused when the delivery-time check says no."""
    w = await make_world(feed_client, auth)
    async with receiver() as rec:
        sub = await subscribe(feed_client, w.pm, rec.url, product_id=w.pid)
        await w.story()
        strict = feed_settings.model_copy(update={"webhook_allow_private": False})
        worker = Worker(feed_app.state.engine, strict)
        try:
            await worker.dispatch_once()
            for _ in range(5):
                await worker.deliver_once()
        finally:
            await worker.close()
        assert rec.received == []
    deliveries = (
        await feed_client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=w.pm)
    ).json()["data"]
    assert deliveries[0]["attempts"][0]["outcome"] == "refused"

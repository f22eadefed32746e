"""How audit events are stored (PostgreSQL): a read's served ids are kept out of line
without compression (migration 8c1e4a7d2b90), and such an event still seals and verifies."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.audit.chain import verify
from app.audit.sealer import seal_all
from tests.api.factories import make_world
from tests.conftest import IS_PG

pytestmark = pytest.mark.skipif(not IS_PG, reason="column storage is PostgreSQL's")


async def test_served_ids_are_stored_uncompressed(app, client, auth):
    world = await make_world(client, auth)
    pm = world.auth("product_manager", world.pm_sub)
    for i in range(60):
        r = await client.post(
            "/api/v1/stories",
            json={"product_id": world.product["id"], "title": f"Story {i}"},
            headers=pm,
        )
        assert r.status_code == 201, r.text
    r = await client.get(
        f"/api/v1/stories?product_id={world.product['id']}&limit=60",
        headers={**pm, "X-Request-ID": "storage-60"},
    )
    assert r.status_code == 200 and len(r.json()["data"]) == 60
    async with app.state.sessionmaker() as s:
        storage = await s.scalar(
            text(
                "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'audit_event'::regclass"
                " AND attname = 'resource_ids'"
            )
        )
        size, compression = (
            await s.execute(
                text(
                    "SELECT pg_column_size(resource_ids), pg_column_compression(resource_ids)"
                    " FROM audit_event WHERE client_request_id = 'storage-60'"
                )
            )
        ).one()
    assert storage == "e"
    # 60 ids as JSON text (~2.4 kB) would be compressed under the default storage.
    assert size > 2000 and compression is None
    await seal_all(app.state.engine, wait=True)
    async with app.state.sessionmaker() as s:
        assert (await verify(s))["ok"]

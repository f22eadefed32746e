"""The hash chain: append-only in the database, and verify() finds the first tampered seq.

Tampering is done the way an attacker with database access would (triggers switched off,
foreign keys bypassed) on a database of this module's own; every test restores what it broke
and checks that the chain verifies again."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.audit.chain import GENESIS, canonical, link_hash
from app.audit.models import AuditEvent
from app.audit.sealer import seal_all

pytestmark = pytest.mark.asyncio

CO = ("compliance_officer", "co-chain")


async def verify_api(client, auth) -> dict:
    r = await client.get("/api/v1/audit-events/verify", headers=auth(*CO))
    assert r.status_code == 200, r.text
    body = r.json()
    # Compared with the signed checkpoint too (tests/audit/test_checkpoint.py covers that).
    assert "checkpoint_seq" in body
    del body["checkpoint_seq"]
    return body


@pytest.fixture(scope="module")
async def chain(iso_client, iso_raw, auth) -> list[dict]:
    """At least 12 sealed events; returns the chain rows in seq order."""
    pm = auth("product_manager", "pm-chain")
    for i in range(12):
        r = await iso_client.get(f"/api/v1/products?limit={i + 1}", headers=pm)
        assert r.status_code == 200
    assert (await verify_api(iso_client, auth))["ok"] is True
    rows = await iso_raw.fetch("SELECT * FROM audit_chain ORDER BY seq")
    assert len(rows) >= 12
    return rows


async def test_chain_links_hashes_from_genesis(iso_app, iso_raw, chain):
    assert [r["seq"] for r in chain] == list(range(1, len(chain) + 1))
    assert chain[0]["prev_hash"] == GENESIS
    for a, b in itertools.pairwise(chain):
        assert b["prev_hash"] == a["hash"]
    # Recompute one link from the stored event through the canonical form.
    event_id = uuid.UUID(str(chain[3]["event_id"]))
    async with iso_app.state.sessionmaker() as s:
        table = AuditEvent.__table__
        row = (await s.execute(select(*table.c).where(table.c.id == event_id))).one()
    assert link_hash(chain[3]["prev_hash"], row._mapping) == chain[3]["hash"]
    assert b'"prev_hash"' not in canonical(row._mapping)


@pytest.mark.parametrize("table", ["audit_event", "audit_chain"])
async def test_database_rejects_update_and_delete(iso_raw, chain, table):
    key = "id" if table == "audit_event" else "event_id"
    target = chain[0]["event_id"]
    column = "action" if table == "audit_event" else "hash"
    with pytest.raises(DBAPIError, match="append-only"):
        await iso_raw.run((f"UPDATE {table} SET {column} = 'x' WHERE {key} = :id", {"id": target}))  # noqa: S608
    with pytest.raises(DBAPIError, match="append-only"):
        await iso_raw.run((f"DELETE FROM {table} WHERE {key} = :id", {"id": target}))  # noqa: S608
    if iso_raw.pg:
        with pytest.raises(DBAPIError, match="append-only"):
            await iso_raw.run(f"TRUNCATE {table} CASCADE")
    assert await iso_raw.scalar(f"SELECT count(*) FROM {table}") >= len(chain)  # noqa: S608


async def test_pending_queue_may_be_drained(iso_raw, chain):
    # The queue is work, not record: DELETE is allowed there (the sealer dequeues). Queue a real
    # row and dequeue it in one transaction, so the sealer never sees it; a rejected or silently
    # ignored DELETE leaves the row behind.
    event_id = iso_raw.id(chain[0]["event_id"])
    await iso_raw.run(
        ("INSERT INTO audit_pending (event_id) VALUES (:id)", {"id": event_id}),
        ("DELETE FROM audit_pending WHERE event_id = :id", {"id": event_id}),
    )
    left = await iso_raw.scalar(
        "SELECT count(*) FROM audit_pending WHERE event_id = :id", id=event_id
    )
    assert left == 0


async def test_altered_event_is_found(iso_client, iso_raw, auth, chain):
    victim = chain[3]
    old = await iso_raw.scalar(
        "SELECT actor_sub FROM audit_event WHERE id = :id", id=victim["event_id"]
    )
    await iso_raw.tamper(
        "audit_event",
        ("UPDATE audit_event SET actor_sub = 'mallory' WHERE id = :id", {"id": victim["event_id"]}),
    )
    result = await verify_api(iso_client, auth)
    assert result == {"ok": False, "checked": victim["seq"] - 1, "first_bad_seq": victim["seq"]}
    await iso_raw.tamper(
        "audit_event",
        (
            "UPDATE audit_event SET actor_sub = :v WHERE id = :id",
            {"v": old, "id": victim["event_id"]},
        ),
    )
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_altered_chain_hash_is_found(iso_client, iso_raw, auth, chain):
    victim = chain[2]
    await iso_raw.tamper(
        "audit_chain",
        ("UPDATE audit_chain SET hash = :h WHERE seq = :s", {"h": "f" * 64, "s": victim["seq"]}),
    )
    assert (await verify_api(iso_client, auth))["first_bad_seq"] == victim["seq"]
    await iso_raw.tamper(
        "audit_chain",
        (
            "UPDATE audit_chain SET hash = :h WHERE seq = :s",
            {"h": victim["hash"], "s": victim["seq"]},
        ),
    )
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_deleted_chain_row_is_a_gap(iso_client, iso_raw, auth, chain):
    victim = chain[4]
    await iso_raw.tamper(
        "audit_chain",
        "CREATE TABLE zz_saved_chain AS SELECT * FROM audit_chain WHERE seq = 5",
        "DELETE FROM audit_chain WHERE seq = 5",
    )
    result = await verify_api(iso_client, auth)
    assert result == {"ok": False, "checked": 4, "first_bad_seq": victim["seq"]}
    await iso_raw.run(
        "INSERT INTO audit_chain SELECT * FROM zz_saved_chain", "DROP TABLE zz_saved_chain"
    )
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_deleted_event_leaves_a_dangling_chain_row(iso_client, iso_raw, auth, chain):
    victim = chain[5]
    params = {"id": victim["event_id"]}
    await iso_raw.tamper(
        "audit_event",
        ("CREATE TABLE zz_saved_event AS SELECT * FROM audit_event WHERE id = :id", params),
        ("DELETE FROM audit_event WHERE id = :id", params),
    )
    assert await iso_raw.scalar("SELECT count(*) FROM audit_event WHERE id = :id", **params) == 0
    result = await verify_api(iso_client, auth)
    assert result["ok"] is False and result["first_bad_seq"] == victim["seq"]
    # Put it back (on SQLite the insert trigger queues it again; the sealer must cope).
    await iso_raw.run(
        "INSERT INTO audit_event SELECT * FROM zz_saved_event", "DROP TABLE zz_saved_event"
    )
    assert (await verify_api(iso_client, auth))["ok"] is True
    assert (
        await iso_raw.scalar("SELECT count(*) FROM audit_pending WHERE event_id = :id", **params)
        == 0
    )


async def test_reordered_rows_are_found(iso_client, iso_raw, auth, chain):
    swap = [
        "UPDATE audit_chain SET seq = -1 WHERE seq = 7",
        "UPDATE audit_chain SET seq = 7 WHERE seq = 8",
        "UPDATE audit_chain SET seq = 8 WHERE seq = -1",
    ]
    await iso_raw.tamper("audit_chain", *swap)
    result = await verify_api(iso_client, auth)
    assert result == {"ok": False, "checked": 6, "first_bad_seq": 7}
    await iso_raw.tamper("audit_chain", *swap)
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_removed_tail_row_with_surviving_event_is_found(
    iso_client, iso_app, iso_raw, auth, chain
):
    await seal_all(iso_app.state.engine, wait=True)
    last = await iso_raw.scalar("SELECT max(seq) FROM audit_chain")
    await iso_raw.tamper(
        "audit_chain",
        f"CREATE TABLE zz_saved_tail AS SELECT * FROM audit_chain WHERE seq = {last}",  # noqa: S608
        f"DELETE FROM audit_chain WHERE seq = {last}",  # noqa: S608
    )
    result = await verify_api(iso_client, auth)
    assert result == {"ok": False, "checked": last - 1, "first_bad_seq": last}
    await iso_raw.run(
        "INSERT INTO audit_chain SELECT * FROM zz_saved_tail", "DROP TABLE zz_saved_tail"
    )
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_concurrent_sealers_never_fork_the_chain(iso_client, iso_app, iso_raw, auth):
    import asyncio

    pm = auth("product_manager", "pm-chain")
    await asyncio.gather(*(iso_client.get("/api/v1/products", headers=pm) for _ in range(30)))
    engine = iso_app.state.engine
    await asyncio.gather(*(seal_all(engine, wait=w) for w in (False, True, False, True)))
    assert await iso_raw.scalar("SELECT count(*) FROM audit_pending") == 0
    result = await verify_api(iso_client, auth)
    assert result["ok"] is True
    assert result["checked"] == await iso_raw.scalar("SELECT max(seq) FROM audit_chain")

"""Signed checkpoints of the chain head outside the database (issue 19 item 15): deleting
the tail of the trail with database rights is found by verify (REST and CLI), and a
checkpoint cannot be forged without the service key. On a database of this module's own."""

from __future__ import annotations

import base64

import orjson
from joserfc import jws
from joserfc.jwk import RSAKey

from app.audit.chain import verify
from app.audit.checkpoint import Checkpoints
from app.audit.sealer import checkpoint_head
from tests.audit.test_cli_and_migration import ROOT

CO = ("compliance_officer", "co-checkpoint")


async def verify_api(client, auth) -> dict:
    r = await client.get("/api/v1/audit-events/verify", headers=auth(*CO))
    assert r.status_code == 200, r.text
    return r.json()


async def cli_verify(settings) -> tuple[int, dict]:
    import asyncio
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "ENVIRONMENT": "test",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "audit", "verify", cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode in (0, 1), err.decode()
    return proc.returncode, orjson.loads(out)


async def test_client_request_id_is_part_of_the_hash(iso_client, iso_raw, auth):
    pm = auth("product_manager", "pm-checkpoint")
    r = await iso_client.get("/api/v1/products", headers={**pm, "X-Request-Id": "mine-1"})
    assert r.status_code == 200
    assert (await verify_api(iso_client, auth))["ok"] is True
    forge = "UPDATE audit_event SET client_request_id = :v WHERE client_request_id = :o"
    await iso_raw.tamper("audit_event", (forge, {"v": "forged", "o": "mine-1"}))
    assert (await verify_api(iso_client, auth))["ok"] is False
    await iso_raw.tamper("audit_event", (forge, {"v": "mine-1", "o": "forged"}))
    assert (await verify_api(iso_client, auth))["ok"] is True


async def test_truncated_tail_is_found_against_the_latest_checkpoint(
    iso_client, iso_app, iso_raw, iso_settings, auth
):
    pm = auth("product_manager", "pm-checkpoint")
    for _ in range(10):
        assert (await iso_client.get("/api/v1/products", headers=pm)).status_code == 200
    first = await verify_api(iso_client, auth)
    second = await verify_api(iso_client, auth)
    assert first["ok"] and second["ok"]
    # The intact chain's head became a checkpoint, which the next verify compared with.
    assert second["checkpoint_seq"] == first["checked"]
    head = second["checked"]
    latest = Checkpoints(iso_settings).latest()
    assert latest is not None and latest.seq == head
    files = list(Checkpoints(iso_settings).dir.glob("*.jws"))
    assert files and all(f.stat().st_size > 100 for f in files)

    # Delete the last three events and their chain rows, as someone with database rights.
    cut = head - 2
    await iso_raw.tamper("audit_chain", f"DELETE FROM audit_chain WHERE seq >= {cut}")  # noqa: S608
    await iso_raw.tamper(
        "audit_event",
        "DELETE FROM audit_event WHERE id NOT IN (SELECT event_id FROM audit_chain) "
        "AND id NOT IN (SELECT event_id FROM audit_pending)",
    )
    async with iso_app.state.sessionmaker() as s:
        assert (await verify(s))["ok"] is True  # the chain alone cannot tell

    result = await verify_api(iso_client, auth)
    assert result["ok"] is False and result["checkpoint_seq"] == head
    assert cut <= result["first_bad_seq"] <= head, result

    # New events take the freed seq numbers; the hash at the checkpoint's seq then differs.
    for _ in range(20):
        await iso_client.get("/api/v1/products", headers=pm)
    result = await verify_api(iso_client, auth)
    assert result["checked"] == head - 1  # rows before the checkpoint's seq still hold
    assert (result["ok"], result["first_bad_seq"], result["checkpoint_seq"]) == (False, head, head)
    code, body = await cli_verify(iso_settings)
    assert code == 1 and body["first_bad_seq"] == head and body["checkpoint_seq"] == head

    # Neither verify nor the sealer replace the evidence with a checkpoint of the new chain.
    assert await checkpoint_head(iso_app.state.engine, Checkpoints(iso_settings)) is False
    assert Checkpoints(iso_settings).latest().seq == head


def test_checkpoints_signed_by_another_key_are_ignored(settings, tmp_path):
    s = settings.model_copy(update={"var_dir": tmp_path})
    cps = Checkpoints(s)
    assert cps.latest() is None
    genuine = cps.write(5, "a" * 64)
    assert genuine is not None and cps.latest() == genuine
    # A later "checkpoint" signed with another key, and one that is not a JWS at all.
    other = RSAKey.generate_key(2048)
    forged = jws.serialize_compact(
        {"alg": "RS256"}, orjson.dumps({"seq": 9, "hash": "b" * 64, "at": "x"}), other
    )
    (cps.dir / f"{9:016d}.jws").write_text(forged)
    (cps.dir / f"{8:016d}.jws").write_text(base64.b64encode(b"garbage").decode())
    assert cps.latest() == genuine
    # The sealer's periodic writes are rate limited by AUDIT_CHECKPOINT_SECONDS.
    assert not cps.due()

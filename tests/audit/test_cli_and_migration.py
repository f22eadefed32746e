"""`python -m app audit verify` and the migration's downgrade, on a database of their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import orjson

from app.db.migrate import downgrade, upgrade

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "56595667317e"  # the revision before the audit chain's


async def cli_verify(settings) -> tuple[int, dict]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "ENVIRONMENT": "test",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "audit",
        "verify",
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode in (0, 1), err.decode()
    assert b"verifying" in err  # tqdm progress on stderr; stdout stays one JSON document
    body = orjson.loads(out)
    del body["checkpoint_seq"]  # checkpoints: tests/audit/test_checkpoint.py
    return proc.returncode, body


async def test_cli_verify_exit_codes(iso_client, iso_settings, iso_raw, auth):
    pm = auth("product_manager", "pm-cli")
    for _ in range(5):
        assert (await iso_client.get("/api/v1/products", headers=pm)).status_code == 200
    code, body = await cli_verify(iso_settings)
    assert (code, body) == (0, {"ok": True, "checked": 5, "first_bad_seq": None})

    await iso_raw.tamper("audit_chain", "UPDATE audit_chain SET prev_hash = hash WHERE seq = 3")
    code, body = await cli_verify(iso_settings)
    assert (code, body) == (1, {"ok": False, "checked": 2, "first_bad_seq": 3})


def test_migration_downgrades_and_upgrades_again(iso_url, iso_raw):
    def names(kind: str) -> set[str]:
        if iso_raw.pg:
            sql = {
                "table": "SELECT tablename AS n FROM pg_tables WHERE schemaname = 'public'",
                "trigger": "SELECT tgname AS n FROM pg_trigger WHERE NOT tgisinternal",
            }[kind]
        else:
            sql = f"SELECT name AS n FROM sqlite_master WHERE type = '{kind}'"  # noqa: S608
        return {r["n"] for r in asyncio.run(iso_raw.fetch(sql))}

    expected = {
        "audit_event_no_update",
        "audit_event_no_delete",
        "audit_chain_no_update",
        "audit_chain_no_delete",
        "audit_event_enqueue",
    }
    if iso_raw.pg:
        expected |= {"audit_event_no_truncate", "audit_chain_no_truncate"}
    assert expected <= names("trigger")
    downgrade(BEFORE, iso_url)
    assert not {"audit_chain", "audit_pending"} & names("table")
    assert not expected & names("trigger")
    upgrade("head", iso_url)
    assert {"audit_chain", "audit_pending"} <= names("table")
    assert expected <= names("trigger")

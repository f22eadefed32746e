"""A real uvicorn process killed with SIGKILL mid-stream loses no audit event of a committed
change, and the chain seals and verifies after a restart (PostgreSQL, like production)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.factories import new_sub
from tests.conftest import IS_PG, unique_key

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not IS_PG, reason="crash test: PostgreSQL only"),
]

ROOT = Path(__file__).resolve().parents[2]
NEEDLES = ("Philippa Grantchester", "pg.fake@example.net", "415-555-0142")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "debug",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        # (a worker builds the PHI prefilter's databases before it serves, 15-20 s on a small
        # machine when no earlier process kept them: app/phi/prefilter.py)
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient() as c:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, "server exited"
                try:
                    if (await c.get(f"{self.url}/health/live")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def env(iso_settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": iso_settings.database_url,
        "VAR_DIR": str(iso_settings.var_dir),
        "ENVIRONMENT": "test",
        "PYTHONPATH": str(ROOT),
    }


async def test_sigkill_mid_stream_then_restart(env, iso_raw, auth, tmp_path):
    log = tmp_path / "uvicorn.log"
    server = Server(env, log)
    try:
        await server.ready()
        pm = auth("product_manager", new_sub("pm"))
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            r = await c.post(
                "/api/v1/products", json={"key": unique_key("K"), "name": "Crash"}, headers=pm
            )
            assert r.status_code == 201, r.text
            pid = r.json()["id"]
            r = await c.post(
                "/api/v1/interviews",
                json={
                    "product_id": pid,
                    "title": "Pharmacy walkthrough",
                    "conducted_on": "2025-05-06",
                    "participant_persona": "pharmacist",
                    "participant_name": "Philippa Grantchester",
                    "participant_contact": "pg.fake@example.net",
                    "transcript": "Philippa Grantchester (415-555-0142) showed the queue.",
                },
                headers=pm,
            )
            assert r.status_code == 201, r.text
            assert (await c.get(f"/api/v1/interviews/{r.json()['id']}", headers=pm)).json()[
                "participant_name"
            ] == "Philippa Grantchester"

            answered: list[str] = []
            enough = asyncio.Event()
            gate = asyncio.Semaphore(16)

            async def write(i: int) -> None:
                async with gate:
                    resp = await c.post(
                        "/api/v1/stories",
                        json={"product_id": pid, "title": f"Crash story {i}"},
                        headers=pm,
                    )
                    if resp.status_code == 201:
                        answered.append(resp.json()["id"])
                        if len(answered) >= 60:
                            enough.set()

            tasks = [asyncio.create_task(write(i)) for i in range(400)]
            await asyncio.wait_for(enough.wait(), timeout=60)
            server.proc.send_signal(signal.SIGKILL)
            results = await asyncio.gather(*tasks, return_exceptions=True)
        server.stop()
        assert any(isinstance(x, Exception) for x in results), "the kill landed mid-stream"

        committed = [
            str(row["id"])
            for row in await iso_raw.fetch(
                "SELECT id FROM story WHERE product_id = :p", p=iso_raw.id(pid)
            )
        ]
        assert set(answered) <= set(committed) and len(committed) < 400
        missing = await iso_raw.fetch(
            """SELECT s.id FROM story s WHERE s.product_id = :p AND NOT EXISTS (
                 SELECT 1 FROM audit_event e
                 WHERE e.resource_ids::jsonb @> jsonb_build_array(s.id::text)
                   AND e.action = 'create' AND e.status_code = 201)""",
            p=iso_raw.id(pid),
        )
        assert missing == [], "a committed story without its audit event"

        # Restart: the background sealer chains what the killed process left queued.
        server = Server(env, log)
        await server.ready()
        deadline = time.monotonic() + 20
        while await iso_raw.scalar("SELECT count(*) FROM audit_pending"):
            assert time.monotonic() < deadline, "the restarted sealer did not drain the queue"
            await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            r = await c.get(
                "/api/v1/audit-events/verify", headers=auth("compliance_officer", "co-crash")
            )
        assert r.status_code == 200, r.text
        events = await iso_raw.scalar("SELECT count(*) FROM audit_event")
        body = r.json()
        assert body.pop("checkpoint_seq", None) in (None, *range(1, events))  # sealer-written
        assert body == {"ok": True, "checked": events - 1, "first_bad_seq": None}
        server.stop()

        cli = await asyncio.create_subprocess_exec(
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
        out, err = await asyncio.wait_for(cli.communicate(), timeout=60)
        assert cli.returncode == 0, err.decode()
        assert b'"ok":true' in out.replace(b" ", b"")
    finally:
        server.stop(signal.SIGKILL)

    text = log.read_text(errors="replace")
    assert "POST /api/v1/stories" in text, "uvicorn's log was captured"
    assert [n for n in NEEDLES if n in text] == []

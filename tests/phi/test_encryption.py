"""PHI columns are AES-GCM encrypted at rest: raw rows and raw database bytes hold no
plaintext, ciphertexts are bound to their column, and the keyring fails closed."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.config import Settings
from app.phi.crypto import (
    DEV_KEYS_FILE,
    FileKeyring,
    KeyConfigError,
    Keyring,
    PhiKeyError,
    keyring_for,
    new_key,
    parse_keys,
)
from app.phi.rotation import rotate
from tests.api.factories import assert_problem, make_world
from tests.phi import rawdb
from tests.phi.samples import (
    NAME,
    NEEDLES,
    QUOTE,
    SUMMARY,
    TRANSCRIPT,
    assert_no_needles,
    phi_interview,
)

PHI_COLUMNS = {
    "interview": ("participant_name", "participant_contact", "transcript", "summary"),
    "insight": ("quote",),
}


def _ring(*kids: str) -> Keyring:
    return Keyring([(k, bytes([i + 1]) * 32) for i, k in enumerate(kids)])


# --------------------------------------------------------------------------- keyring units


def test_round_trip_with_fresh_nonce_each_time():
    ring = _ring("a")
    one = ring.encrypt(TRANSCRIPT, context="interview.transcript")
    two = ring.encrypt(TRANSCRIPT, context="interview.transcript")
    assert one != two  # random 96-bit nonce per value
    assert one.startswith("v1:a:") and NAME not in one
    assert ring.decrypt(one, context="interview.transcript") == TRANSCRIPT
    assert ring.decrypt(ring.encrypt("", context="c"), context="c") == ""


def test_ciphertext_is_bound_to_column_key_id_and_integrity():
    ring = _ring("a", "b")
    stored = ring.encrypt("Zebulon", context="interview.participant_name")
    with pytest.raises(PhiKeyError):
        ring.decrypt(stored, context="interview.summary")
    with pytest.raises(PhiKeyError):  # relabelled with another known key id
        ring.decrypt(stored.replace("v1:a:", "v1:b:"), context="interview.participant_name")
    with pytest.raises(PhiKeyError):  # unknown key id
        ring.decrypt(stored.replace("v1:a:", "v1:zz:"), context="interview.participant_name")
    body = stored.split(":", 2)[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(PhiKeyError):
        ring.decrypt("v1:a:" + flipped, context="interview.participant_name")
    with pytest.raises(PhiKeyError):
        ring.decrypt("v1:a:!!notbase64", context="interview.participant_name")


def test_old_keys_still_decrypt_after_a_new_key_goes_first():
    old = _ring("a")
    stored = old.encrypt("Zebulon", context="x")
    rotated = Keyring([("b", b"\x09" * 32), ("a", b"\x01" * 32)])
    assert rotated.current == "b"
    assert rotated.decrypt(stored, context="x") == "Zebulon"
    assert not rotated.is_current(stored)
    assert rotated.is_current(rotated.encrypt("Zebulon", context="x"))


def test_key_spec_parsing_rejects_bad_keys_without_echoing_them():
    secret = base64.b64encode(b"k" * 20).decode()  # 20 bytes: not an AES key size
    with pytest.raises(KeyConfigError) as bad_len:
        parse_keys(f"a:{secret}")
    assert secret not in str(bad_len.value)
    for spec in ("", "nokid", "a:***", "bad kid!:" + base64.b64encode(b"k" * 32).decode()):
        with pytest.raises(KeyConfigError):
            parse_keys(spec)
    good = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(KeyConfigError):
        parse_keys(f"a:{good},a:{good}")
    assert [k for k, _ in parse_keys(f" a:{good} ,\nb:{good}")] == ["a", "b"]


def test_production_refuses_to_run_without_phi_keys(tmp_path):
    with pytest.raises(ValueError, match="PHI_KEYS"):
        Settings(
            environment="production",
            database_url="postgresql+asyncpg://x/y",
            auth_signing_key="pem",
            var_dir=tmp_path,
        )
    # and the keyring never falls back to a generated key in production
    prod = Settings.model_construct(environment="production", phi_keys=None, var_dir=tmp_path)
    with pytest.raises(KeyConfigError):
        keyring_for(prod)
    assert not (tmp_path / DEV_KEYS_FILE).exists()


def test_settings_keys_take_precedence_over_the_dev_file(tmp_path):
    kid, key = new_key()
    spec = f"{kid}:{base64.b64encode(key).decode()}"
    ring = keyring_for(Settings(environment="test", phi_keys=spec, var_dir=tmp_path))
    assert ring.kids == [kid]
    assert not (tmp_path / DEV_KEYS_FILE).exists()
    assert spec not in repr(Settings(environment="test", phi_keys=spec))


def test_dev_key_is_created_once_when_workers_start_together(tmp_path):
    code = (
        "import sys; from pathlib import Path; from app.phi.crypto import FileKeyring; "
        "print(FileKeyring(Path(sys.argv[1]) / 'phi-keys').current)"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code, str(tmp_path)], cwd=root, stdout=subprocess.PIPE
        )
        for _ in range(6)
    ]
    kids = {p.communicate(timeout=60)[0].decode().strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(kids) == 1 and kids != {""}
    path = tmp_path / DEV_KEYS_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert [k for k, _ in parse_keys(path.read_text())] == list(kids)


def test_file_keyring_sees_a_rotation_made_by_another_process(tmp_path):
    path = tmp_path / DEV_KEYS_FILE
    worker = FileKeyring(path)
    stored_old = worker.encrypt("Zebulon", context="x")
    operator = FileKeyring(path)
    kid, key = new_key()
    operator.add_current(kid, key)
    stored_new = operator.encrypt("Quackenbush", context="x")
    # the worker has not re-read the file yet, but an unknown key id makes it look
    assert worker.decrypt(stored_new, context="x") == "Quackenbush"
    assert worker.current == kid
    assert operator.decrypt(stored_old, context="x") == "Zebulon"
    assert path.read_text().startswith(kid + ":")
    assert len(parse_keys(path.read_text())) == 2


# --------------------------------------------------------------------------- at rest


@pytest.mark.asyncio
async def test_phi_columns_hold_only_ciphertext(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    insight = await w.insight(interview["id"], quote=QUOTE)
    assert interview["transcript"] == TRANSCRIPT and interview["participant_name"] == NAME
    assert insight["quote"] == QUOTE

    current = keyring_for(settings).current
    stored = await rawdb.row(settings, "interview", interview["id"])
    for col in PHI_COLUMNS["interview"]:
        assert stored[col].startswith(f"v1:{current}:"), col
        assert_no_needles(stored[col], f"interview.{col}")
    # the redacted renditions stay plaintext (searchable, shown to engineers) but PHI-free
    assert "sepsis alert in Epic fires too late" in stored["transcript_redacted"]
    assert_no_needles(stored["transcript_redacted"], "transcript_redacted")
    assert_no_needles(stored["summary_redacted"], "summary_redacted")

    stored_insight = await rawdb.row(settings, "insight", insight["id"])
    assert stored_insight["quote"].startswith(f"v1:{current}:")
    assert_no_needles(stored_insight["quote"] + stored_insight["quote_redacted"], "insight")

    got = await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)
    assert got.json()["transcript"] == TRANSCRIPT and got.json()["summary"] == SUMMARY


@pytest.mark.asyncio
async def test_plaintext_is_nowhere_in_the_database(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    await w.insight(interview["id"], quote=QUOTE)
    patched = await client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"summary": SUMMARY + " Follow-up next week."},
        headers=w.pm,
    )
    assert patched.status_code == 200, patched.text

    if rawdb.is_sqlite(settings):
        data = await rawdb.sqlite_file_bytes(settings)
        assert data, "database file is empty"
        for needle in NEEDLES:
            assert needle.encode() not in data, f"{needle!r} in the SQLite file"
            assert needle.encode("utf-16-le") not in data
    for table, content in (await rawdb.all_text(settings)).items():
        assert_no_needles(content, f"table {table}")


@pytest.mark.asyncio
async def test_ciphertext_moved_to_another_column_fails_closed(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    iid = rawdb.id_param(settings, interview["id"])
    stored = await rawdb.row(settings, "interview", interview["id"])
    await rawdb.execute(
        settings, "UPDATE interview SET summary = transcript WHERE id = :id", id=iid
    )
    try:
        r = await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)
        body = assert_problem(r, 500)
        assert_no_needles(r.text, "decryption error body")
        assert stored["transcript"] not in r.text
        assert "decrypt" in body["detail"]
    finally:
        await rawdb.execute(
            settings,
            "UPDATE interview SET summary = :s WHERE id = :id",
            s=stored["summary"],
            id=iid,
        )
    ok = await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)
    assert ok.status_code == 200 and ok.json()["summary"] == SUMMARY


# --------------------------------------------------------------------------- rotation


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-m", "app", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.asyncio
async def test_rotation_reencrypts_every_value_and_old_data_still_reads(
    app, client, auth, settings
):
    w = await make_world(client, auth)
    interviews = [await phi_interview(w) for _ in range(3)]
    insight = await w.insight(interviews[0]["id"], quote=QUOTE)
    # a value written before encryption was enabled (legacy plaintext) still reads
    legacy_id = interviews[2]["id"]
    await rawdb.execute(
        settings,
        "UPDATE interview SET summary = :s WHERE id = :id",
        s=SUMMARY,
        id=rawdb.id_param(settings, legacy_id),
    )
    before = {i["id"]: await rawdb.row(settings, "interview", i["id"]) for i in interviews}
    etag = (await client.get(f"/api/v1/interviews/{legacy_id}", headers=w.pm)).headers["etag"]
    old_kid = keyring_for(settings).current

    report = await rotate(settings, batch_size=2)  # small batches: many round trips
    assert report.ok and report.current != old_kid
    assert report.counts["interview.transcript"]["reencrypted"] >= 3
    assert report.counts["interview.summary"]["encrypted"] >= 1
    assert report.counts["insight.quote"]["reencrypted"] >= 1
    assert keyring_for(settings).kids[:2] == [report.current, old_kid]

    for i in interviews:
        after = await rawdb.row(settings, "interview", i["id"])
        for col in PHI_COLUMNS["interview"]:
            assert after[col].startswith(f"v1:{report.current}:"), col
            assert after[col] != before[i["id"]][col]
        assert after["version"] == before[i["id"]]["version"]
        assert after["updated_at"] == before[i["id"]]["updated_at"]
    stored_quote = (await rawdb.row(settings, "insight", insight["id"]))["quote"]
    assert stored_quote.startswith(f"v1:{report.current}:")

    got = await client.get(f"/api/v1/interviews/{legacy_id}", headers=w.pm)
    assert got.status_code == 200
    assert got.json()["summary"] == SUMMARY and got.json()["transcript"] == TRANSCRIPT
    assert got.headers["etag"] == etag  # rotation is not a change of the resource
    q = await client.get(f"/api/v1/insights/{insight['id']}", headers=w.pm)
    assert q.json()["quote"] == QUOTE

    again = await rotate(settings, new=False)
    assert again.total("reencrypted") == 0 and again.total("encrypted") == 0
    assert again.counts["interview.transcript"]["current"] >= 3

    # Each rotation leaves an operator audit event naming the key id and columns only.
    async with app.state.sessionmaker() as session:
        events = (
            await session.scalars(select(AuditEvent).where(AuditEvent.path == "cli:keys rotate"))
        ).all()
    assert any(report.current in e.resource_ids for e in events)
    assert all(e.resource_type == "phi_key" and e.action == "update" for e in events)
    assert any("interview.transcript" in e.changed_fields for e in events)


@pytest.mark.asyncio
async def test_keys_cli_rotates_in_another_process_and_lists_ids_only(client, auth, settings):
    w = await make_world(client, auth)
    interview = await phi_interview(w)
    old_kid = keyring_for(settings).current

    rotated = _cli(settings, "keys", "rotate", "--batch-size", "3")
    assert rotated.returncode == 0, rotated.stderr
    assert "total: reencrypted=" in rotated.stdout
    assert "re-encrypting" in rotated.stderr and "rows" in rotated.stderr  # tqdm progress
    listed = _cli(settings, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    kids = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert old_kid in kids[1:] and kids[0] != old_kid
    assert listed.stdout.splitlines()[0].endswith("\tcurrent")
    for _, key in parse_keys((Path(settings.var_dir) / DEV_KEYS_FILE).read_text()):
        secret = base64.b64encode(key).decode()
        assert secret not in listed.stdout + rotated.stdout + rotated.stderr

    stored = await rawdb.row(settings, "interview", interview["id"])
    assert stored["transcript"].startswith(f"v1:{kids[0]}:")
    # this process learns about the new key from the key id it has not seen before
    got = await client.get(f"/api/v1/interviews/{interview['id']}", headers=w.pm)
    assert got.status_code == 200 and got.json()["participant_name"] == NAME
    # and encrypts new values with it
    fresh = await phi_interview(w)
    stored = await rawdb.row(settings, "interview", fresh["id"])
    assert stored["transcript"].startswith(f"v1:{kids[0]}:")

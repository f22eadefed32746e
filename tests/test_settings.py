"""Production start-up refuses unsafe settings (issue 19 items 6 and 18), one line per setting
to fix, never a value and never a pydantic traceback."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.core.settings_check import startup_message

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+asyncpg://rounds:secret@db:5432/rounds"


def _key(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


GOOD = {
    "environment": "production",
    "database_url": PG,
    "auth_signing_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
    "phi_keys": "k2026:" + _key(os.urandom(32)),
    "metrics_token": "scrape",
}


def _problems(**over) -> list[str]:
    with pytest.raises(ValidationError) as info:
        Settings(**{**GOOD, **over})
    return startup_message(info.value).splitlines()[1:]


def test_good_production_settings_start():
    s = Settings(**GOOD)
    assert s.is_production and not s.openapi_enabled and not s.graphql_get_enabled
    # two keys, the second an older one (rotation)
    Settings(**{**GOOD, "phi_keys": GOOD["phi_keys"] + ",k2025:" + _key(os.urandom(32))})


@pytest.mark.parametrize(
    ("over", "setting"),
    [
        ({"audit_enabled": False}, "AUDIT_ENABLED"),
        ({"db_echo": True}, "DB_ECHO"),
        ({"graphql_introspection": True}, "GRAPHQL_INTROSPECTION"),
        ({"graphql_explorer": True}, "GRAPHQL_EXPLORER"),
        ({"graphql_get_queries": True}, "GRAPHQL_GET_QUERIES"),
        ({"database_url": "sqlite+aiosqlite:////srv/rounds.db"}, "DATABASE_URL"),
        ({"database_url": "sqlite+aiosqlite:///./var/rounds.db"}, "DATABASE_URL"),
        ({"phi_keys": "k:AAAA"}, "PHI_KEYS"),
        ({"phi_keys": "k:" + _key(os.urandom(16))}, "PHI_KEYS"),
        ({"phi_keys": "k:" + _key(os.urandom(24))}, "PHI_KEYS"),
        ({"phi_keys": "k:" + _key(bytes(32))}, "PHI_KEYS"),
        ({"phi_keys": "k:" + _key(b"\x01\x02\x03\x04" * 8)}, "PHI_KEYS"),
        ({"phi_keys": "k:" + _key(b"correct horse battery staple 123")}, "PHI_KEYS"),
        ({"phi_keys": GOOD["phi_keys"] + ",old:" + _key(bytes(32))}, "PHI_KEYS"),
        ({"phi_keys": "k:not base64!"}, "PHI_KEYS"),
        ({"phi_keys": None}, "PHI_KEYS"),
        ({"auth_signing_key": None}, "AUTH_SIGNING_KEY"),
    ],
)
def test_each_unsafe_setting_is_refused_by_name(over, setting):
    problems = _problems(**over)
    assert len(problems) == 1 and problems[0].strip().startswith(setting + ":"), problems
    if over.get("phi_keys"):
        secret = over["phi_keys"].split(":", 1)[1]
        assert secret not in "\n".join(problems)


def test_development_and_test_may_use_them():
    for env in ("development", "test"):
        Settings(environment=env, audit_enabled=False, db_echo=True, phi_keys="k:AAAA")


def _run(code: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        code,
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


UNSAFE_ENV = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "sqlite+aiosqlite:////tmp/rounds-never.db",
    "PHI_KEYS": "k:AAAA",
    "DB_ECHO": "true",
    "AUDIT_ENABLED": "false",
    "GRAPHQL_INTROSPECTION": "true",
}


def test_the_server_refuses_to_start_with_one_line_per_setting():
    """uvicorn loading the app factory: exit status 1, the lines, no traceback."""
    r = _run(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", "0"],
        UNSAFE_ENV,
    )
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "pydantic" not in r.stderr, r.stderr
    for setting in (
        "AUTH_SIGNING_KEY",
        "PHI_KEYS",
        "DATABASE_URL",
        "DB_ECHO",
        "AUDIT_ENABLED",
        "GRAPHQL_INTROSPECTION",
    ):
        assert sum(line.strip().startswith(setting + ":") for line in r.stderr.splitlines()) == 1
    assert "AAAA" not in r.stderr


def test_the_cli_refuses_too_and_never_prints_values():
    r = _run(
        [sys.executable, "-m", "app", "tokens", "create", "--sub", "a", "--role", "exec"],
        {**UNSAFE_ENV, "DB_POOL_SIZE": "lots-of-secret-1234"},
    )
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert "DB_POOL_SIZE:" in r.stderr and "lots-of-secret-1234" not in r.stderr

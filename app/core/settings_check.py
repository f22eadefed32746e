"""What production refuses to start with, one line per setting to fix (never its value).

`Settings` calls `production_problems` when ENVIRONMENT=production and raises
`UnsafeSettings`; `startup_message` turns that (or any other settings error) into the lines
the process prints before it exits, instead of a pydantic traceback."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydantic import ValidationError

PHI_KEY_BYTES = 32  # AES-256-GCM
_MIN_DISTINCT_BYTES = 16  # 32 random bytes have ~30 distinct values; <16 is ~impossible
_PRINTABLE = frozenset(range(0x20, 0x7F))


class UnsafeSettings(ValueError):
    """Settings production must not run with; `problems` holds one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("production refuses these settings:\n" + "\n".join(problems))
        self.problems = problems


def phi_key_problems(spec: str | None) -> list[str]:
    """Each PHI key must be exactly 32 bytes that look random (not a typed passphrase, not
    a repeated pattern). Names the key id, never the key."""
    if not spec:
        return ["PHI_KEYS: required (kid:base64 of 32 random bytes, e.g. openssl rand -base64 32)"]
    out = []
    for n, item in enumerate(re.split(r"[,\n]", spec), start=1):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        kid, sep, b64 = item.partition(":")
        name = f"key {kid.strip()!r}" if sep and re.fullmatch(r"[A-Za-z0-9_.-]+", kid) else f"#{n}"
        try:
            key = base64.b64decode(b64.strip(), validate=True) if sep else b""
        except (binascii.Error, ValueError):
            out.append(f"PHI_KEYS: {name} is not kid:base64")
            continue
        if len(key) != PHI_KEY_BYTES:
            out.append(f"PHI_KEYS: {name} must decode to exactly {PHI_KEY_BYTES} bytes")
        elif len(set(key)) < _MIN_DISTINCT_BYTES or set(key) <= _PRINTABLE:
            out.append(
                f"PHI_KEYS: {name} is not random (repeated or printable bytes); "
                "use openssl rand -base64 32"
            )
    return out


def production_problems(settings: Any) -> list[str]:
    """Everything production refuses, one line per setting."""
    s = settings
    problems = []
    # Rounds signs service-account tokens itself: every pod must share one key.
    if not s.auth_signing_key:
        problems.append("AUTH_SIGNING_KEY: required (PEM of the RSA signing key)")
    problems += phi_key_problems(s.phi_keys)
    if s.is_sqlite:
        problems.append("DATABASE_URL: production runs on PostgreSQL (postgresql+asyncpg://…)")
    if not s.audit_enabled:
        problems.append("AUDIT_ENABLED: must stay true (HIPAA audit trail)")
    if s.db_echo:
        problems.append("DB_ECHO: must be false (SQL parameters can be PHI)")
    if s.graphql_introspection:
        problems.append("GRAPHQL_INTROSPECTION: must be off")
    if s.graphql_explorer:
        problems.append("GRAPHQL_EXPLORER: must be off")
    if s.graphql_get_queries:
        problems.append("GRAPHQL_GET_QUERIES: must be off (URLs end up in proxy logs)")
    return problems


def startup_message(exc: ValidationError) -> str:
    """The lines to print for settings the process cannot start with (no input values)."""
    lines = problem_lines(exc)
    return "Rounds cannot start; fix these settings:\n" + "\n".join(f"  {x}" for x in lines)


def problem_lines(exc: ValidationError) -> list[str]:
    """One line per setting to fix, from a Settings validation error (no input values)."""
    lines = []
    for e in exc.errors(include_input=False, include_url=False):
        error = (e.get("ctx") or {}).get("error")
        if isinstance(error, UnsafeSettings):
            lines += error.problems
        else:
            where = "_".join(str(p) for p in e.get("loc", ())).upper() or "settings"
            lines.append(f"{where}: {e.get('msg', 'invalid')}")
    return lines

"""Signed checkpoints of the audit chain head, kept outside the database.

The hash chain finds an altered or removed event anywhere except at the tail: someone with
database rights who deletes the last events and their chain rows leaves a shorter chain that
still verifies, and the sealer then reissues the removed seq numbers. So the head of the chain
(seq, hash, time) is written, signed with the service's RSA signing key (the built-in issuer's
key, app/auth/keys.py), to AUDIT_CHECKPOINT_DIR (default VAR_DIR/audit-checkpoints): by the
sealer every AUDIT_CHECKPOINT_SECONDS while events are being chained, and by every verify
that found the chain intact. `verify` compares the chain with the latest checkpoint whose
signature holds: a chain shorter than it, or with another hash at its seq, is truncated
(or rewritten from there).

Files are compact JWS (RS256), one per checkpoint, named by seq, under a folder per
database (its name, or the SQLite file) so that several databases can share one directory.
Point the directory at storage the database's administrators cannot write (another host's
volume, an object store with retention lock): the checkpoint is evidence only when the one
who can rewrite the database cannot rewrite it as well.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy.engine import make_url

from app.auth.keys import local_keyset, signing_key
from app.config import Settings

log = logging.getLogger("rounds.audit")

KEEP = 200  # checkpoint files kept per database (older ones are removed)
SUFFIX = ".jws"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601 UTC


def database_label(url: str) -> str:
    """A stable folder name for one database: its name (PostgreSQL) or file (SQLite)."""
    u = make_url(url)
    name = u.database or ""
    if u.get_backend_name() == "sqlite":
        name = str(Path(name).resolve()) if name and name != ":memory:" else ":memory:"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).name)[:40]
    return f"{safe}-{digest}"


class Checkpoints:
    """Write and read the signed checkpoints of one database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.checkpoint_dir / database_label(settings.database_url)
        self.interval = settings.audit_checkpoint_seconds
        self._last_write = 0.0
        self._last_seq = 0

    def due(self) -> bool:
        return time.monotonic() - self._last_write >= self.interval

    def write(self, seq: int, digest: str) -> Checkpoint | None:
        """Sign and store the head `(seq, digest)`; None when there is nothing new."""
        if seq <= 0 or seq == self._last_seq:
            self._last_write = time.monotonic()
            return None
        cp = Checkpoint(seq, digest, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        key = signing_key(self.settings)
        payload = orjson.dumps({"seq": cp.seq, "hash": cp.hash, "at": cp.at})
        token = jws.serialize_compact({"alg": "RS256", "kid": key.kid}, payload, key)
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"{seq:016d}{SUFFIX}"
        tmp = final.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(token)
        os.replace(tmp, final)  # atomic: a reader never sees half a file
        self._last_write = time.monotonic()
        self._last_seq = seq
        self._prune()
        return cp

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint whose signature verifies with the service key."""
        if not self.dir.is_dir():
            return None
        keys = local_keyset(self.settings)
        for path in sorted(self.dir.glob(f"*{SUFFIX}"), reverse=True):
            try:
                obj = jws.deserialize_compact(path.read_text(), keys, algorithms=["RS256"])
                data = orjson.loads(obj.payload)
                cp = Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]))
            except (JoseError, OSError, ValueError, KeyError, TypeError):
                log.warning("audit checkpoint %s does not verify; ignored", path.name)
                continue
            if f"{cp.seq:016d}{SUFFIX}" != path.name:
                log.warning("audit checkpoint %s names another seq; ignored", path.name)
                continue
            return cp
        return None

    def _prune(self) -> None:
        files = sorted(self.dir.glob(f"*{SUFFIX}"))
        for old in files[:-KEEP]:
            try:
                old.unlink()
            except OSError:  # another process pruned it first
                pass

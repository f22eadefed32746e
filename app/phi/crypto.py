"""The PHI keyring: AES-256-GCM encryption of PHI column values at rest.

Keys come from PHI_KEYS (`kid:base64key,kid2:base64key`, first = current) or, outside
production, from `var/phi-keys` (same format, one key per line), generated on first use.
A stored value is `v1:<kid>:<base64url(nonce ‖ ciphertext+tag)>`; the associated data binds
it to the version, the key id and the column (`interview.transcript`), so a ciphertext copied
into another column, or re-labelled with another key id, does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.config import Settings
from app.core.errors import AppError

DEV_KEYS_FILE = "phi-keys"
VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_RELOAD_EVERY = 1.0  # seconds between checks of var/phi-keys for a rotation by another process


class PhiKeyError(AppError):
    """A stored PHI value cannot be decrypted (unknown key, tampering, wrong column).

    Rendered as a plain 500 problem; the message never carries the value."""

    status, code, title, slug = 500, "INTERNAL_SERVER_ERROR", "Internal server error", "phi-key"

    def __init__(self, detail: str = "Protected data could not be decrypted.") -> None:
        super().__init__(detail)


class KeyConfigError(ValueError):
    """PHI_KEYS (or var/phi-keys) is malformed; the message names no key material."""


def new_key() -> tuple[str, bytes]:
    """A fresh (key id, 256-bit key); ids sort by creation time."""
    return f"k{time.strftime('%Y%m%d')}{secrets.token_hex(3)}", AESGCM.generate_key(256)


def format_keys(keys: Iterable[tuple[str, bytes]]) -> str:
    return "\n".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in keys) + "\n"


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """`kid:base64key` pairs separated by commas or newlines, first = current."""
    out: list[tuple[str, bytes]] = []
    for n, item in enumerate(re.split(r"[,\n]", spec), start=1):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        kid, sep, b64 = item.partition(":")
        kid = kid.strip()
        if not sep or not _KID.match(kid):
            raise KeyConfigError(f"PHI key #{n}: expected 'kid:base64key', kid of [A-Za-z0-9_.-]")
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyConfigError(f"PHI key {kid!r}: not valid base64") from None
        if len(key) not in (16, 24, 32):
            raise KeyConfigError(f"PHI key {kid!r}: must be 16, 24 or 32 bytes (AES)")
        if any(kid == k for k, _ in out):
            raise KeyConfigError(f"PHI key {kid!r} appears twice")
        out.append((kid, key))
    if not out:
        raise KeyConfigError("no PHI key configured")
    return out


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(kid: str, context: str) -> bytes:
    return f"rounds-phi:{VERSION}:{kid}:{context}".encode()


def is_envelope(value: str) -> bool:
    """True when the value has the shape of an encrypted value (not legacy plaintext)."""
    return value.startswith(VERSION + ":") and value.count(":") >= 2


def envelope_kid(value: str) -> str | None:
    return value.split(":", 2)[1] if is_envelope(value) else None


class Keyring:
    """The keys of one deployment; encrypts with the current key, decrypts with any."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        self._set(keys)

    def _set(self, keys: list[tuple[str, bytes]]) -> None:
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}
        self._kids = [kid for kid, _ in keys]

    @property
    def current(self) -> str:
        return self._kids[0]

    @property
    def kids(self) -> list[str]:
        return list(self._kids)

    def _cipher(self, kid: str) -> AESGCM | None:
        return self._ciphers.get(kid)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        kid = self.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, plaintext.encode("utf-8"), _aad(kid, context))
        return f"{VERSION}:{kid}:{_b64e(nonce + sealed)}"

    def decrypt(self, stored: str, *, context: str) -> str:
        """The plaintext of a stored value; legacy plaintext (written before encryption was
        enabled) is returned as is until `keys rotate` encrypts it."""
        if not is_envelope(stored):
            return stored
        _, kid, body = stored.split(":", 2)
        cipher = self._cipher(kid)
        if cipher is None:
            raise PhiKeyError()
        try:
            raw = _b64d(body)
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(kid, context))
            return plain.decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise PhiKeyError() from None

    def is_current(self, stored: str) -> bool:
        return envelope_kid(stored) == self.current


class FileKeyring(Keyring):
    """Development keyring in var/phi-keys: created with O_EXCL so concurrent workers agree
    on one key, and re-read when another process (`keys rotate`) has changed it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        super().__init__(self._load())

    def _load(self) -> list[tuple[str, bytes]]:
        path = self.path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(format_keys([new_key()]))
        for _ in range(50):  # another worker may be between O_EXCL create and write
            text = path.read_text()
            if text.strip():
                break
            time.sleep(0.02)
        st = path.stat()
        self._stamp = (st.st_mtime_ns, st.st_size)
        self._checked = time.monotonic()
        return parse_keys(text)

    def reload(self) -> None:
        with self._lock:
            self._set(self._load())

    def _maybe_reload(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < _RELOAD_EVERY:
            return
        self._checked = now
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return
        if (st.st_mtime_ns, st.st_size) != self._stamp:
            self.reload()

    @property
    def current(self) -> str:
        self._maybe_reload()
        return self._kids[0]

    def _cipher(self, kid: str) -> AESGCM | None:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            self._maybe_reload(force=True)
            cipher = self._ciphers.get(kid)
        return cipher

    def add_current(self, kid: str, key: bytes) -> None:
        """Put a new key first (rotation); older keys stay so existing values still read."""
        with self._lock:
            keys = [(kid, key), *self._load()]
            tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(format_keys(keys))
            os.replace(tmp, self.path)
        self.reload()


# One keyring per (PHI_KEYS, var_dir): apps built from the same settings share it (and see
# each other's rotations); apps built from different settings never mix keys.
_REGISTRY: dict[tuple[str | None, str], Keyring] = {}
_REGISTRY_LOCK = threading.Lock()


def keyring_for(settings: Settings) -> Keyring:
    """The keyring of these settings: PHI_KEYS, else var/phi-keys (never in production)."""
    ident = (settings.phi_keys, str(Path(settings.var_dir).resolve()))
    ring = _REGISTRY.get(ident)
    if ring is not None:
        return ring
    with _REGISTRY_LOCK:
        ring = _REGISTRY.get(ident)
        if ring is None:
            if settings.phi_keys:
                ring = Keyring(parse_keys(settings.phi_keys))
            elif settings.is_production:
                raise KeyConfigError("production requires PHI_KEYS")
            else:
                ring = FileKeyring(Path(settings.var_dir) / DEV_KEYS_FILE)
            _REGISTRY[ident] = ring
    return ring

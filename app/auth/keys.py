"""The built-in issuer's signing key: AUTH_SIGNING_KEY in production, var/ in development."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

from app.config import Settings

DEV_KEY_FILE = "dev-signing-key.pem"


def _load_or_create_dev_key(var_dir: Path) -> bytes:
    path = var_dir / DEV_KEY_FILE
    if path.exists():
        return path.read_bytes()
    var_dir.mkdir(parents=True, exist_ok=True)
    pem = RSAKey.generate_key(2048).as_pem(private=True)
    try:
        # O_EXCL: when several workers start at once, exactly one key wins and all use it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return pem


@lru_cache(maxsize=8)
def _key_from_pem(pem: bytes) -> RSAKey:
    key = RSAKey.import_key(pem)
    key.ensure_kid()
    return key


def signing_key(settings: Settings) -> RSAKey:
    """The private RSA key Rounds signs its own tokens with."""
    if settings.auth_signing_key:
        return _key_from_pem(settings.auth_signing_key.encode())
    return _key_from_pem(_load_or_create_dev_key(settings.var_dir))


def public_jwks(settings: Settings) -> dict:
    """The JWKS document for GET /.well-known/jwks.json."""
    key = signing_key(settings)
    public = key.as_dict(private=False)
    public.update({"use": "sig", "alg": "RS256"})
    return {"keys": [public]}


def local_keyset(settings: Settings) -> KeySet:
    return KeySet([RSAKey.import_key(public_jwks(settings)["keys"][0])])

"""Minting (built-in issuer) and verifying (built-in or external IdP) Bearer JWTs."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.auth.keys import local_keyset, signing_key
from app.auth.principal import Principal, Role
from app.config import Settings
from app.core.errors import Unauthenticated

# Only asymmetric algorithms: HS* would let a public key be used as an HMAC secret
# (algorithm confusion) and "none" is never acceptable.
ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]


def self_issuer(settings: Settings) -> str:
    """The `iss` Rounds puts on tokens it mints (CLI user tokens, service accounts)."""
    return settings.auth_issuer if not settings.auth_jwks_url else "rounds"


def mint_token(
    settings: Settings,
    *,
    sub: str,
    role: str | None = None,
    name: str | None = None,
    ttl: int | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A signed RS256 JWT from the built-in issuer."""
    key = signing_key(settings)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": self_issuer(settings),
        "aud": settings.auth_audience,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl if ttl is not None else settings.access_token_ttl_seconds),
        "jti": str(uuid.uuid4()),
    }
    if role is not None:
        claims[settings.auth_role_claim] = role
    if name:
        claims["name"] = name
    if extra:
        claims.update(extra)
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


class RemoteJwks:
    """An external IdP's JWKS, cached, refetched on an unknown `kid` at most once per
    AUTH_JWKS_MIN_REFETCH_SECONDS so rotation works without a restart and a flood of
    forged kids cannot turn into a flood of fetches."""

    def __init__(self, url: str, *, ttl: int, min_refetch: int) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            resp = await client.get(self.url)
            resp.raise_for_status()
            self._keys = KeySet.import_key_set(resp.json())
            self._fetched_at = time.monotonic()

    async def keyset(self, kid: str | None) -> KeySet:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self.ttl
            unknown = kid is not None and self._keys is not None and not _has_kid(self._keys, kid)
            if stale or (unknown and age > self.min_refetch):
                try:
                    await self._fetch()
                except (httpx.HTTPError, ValueError, JoseError) as exc:
                    if self._keys is None:
                        raise Unauthenticated(
                            "The identity provider's keys are unavailable."
                        ) from exc
            assert self._keys is not None
            return self._keys


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)


class TokenVerifier:
    """Verifies signature, algorithm, issuer, audience and time claims; builds the Principal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.remote = (
            RemoteJwks(
                settings.auth_jwks_url,
                ttl=settings.auth_jwks_cache_seconds,
                min_refetch=settings.auth_jwks_min_refetch_seconds,
            )
            if settings.auth_jwks_url
            else None
        )
        self._local: KeySet | None = None

    def _local_keys(self) -> KeySet:
        if self._local is None:
            self._local = local_keyset(self.settings)
        return self._local

    async def verify(self, token: str) -> Principal:
        try:
            header, unverified = _peek(token)
        except ValueError as exc:
            raise Unauthenticated("The token is malformed.") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthenticated("The token's algorithm is not accepted.")
        issuer = unverified.get("iss")
        own = self_issuer(self.settings)
        if issuer == own:
            keys = self._local_keys()
        elif self.remote is not None and issuer == self.settings.auth_issuer:
            keys = await self.remote.keyset(header.get("kid"))
        else:
            raise Unauthenticated("The token's issuer is not trusted.")
        try:
            decoded = jwt.decode(token, keys, algorithms=ALLOWED_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                leeway=self.settings.auth_leeway_seconds,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": self.settings.auth_audience},
                exp={"essential": True},
                sub={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Unauthenticated("The token is invalid or expired.") from exc
        return self._principal(decoded.claims, own_issuer=issuer == own)

    def _principal(self, claims: dict[str, Any], *, own_issuer: bool) -> Principal:
        sub = str(claims["sub"])
        if own_issuer and claims.get("client_id"):
            scope = claims.get("scope") or ""
            return Principal(
                sub=sub,
                type="service",
                client_id=str(claims["client_id"]),
                name=claims.get("name"),
                scopes=frozenset(str(scope).split()),
            )
        role = claims.get(self.settings.auth_role_claim)
        try:
            role_value = Role(role)
        except ValueError as exc:
            raise Unauthenticated("The token carries no valid Rounds role.") from exc
        name = claims.get("name")
        return Principal(sub=sub, type="user", role=role_value, name=str(name) if name else None)


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims without verification, only to pick the key source."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWS compact token")

    def seg(s: str) -> dict[str, Any]:
        data = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        if not isinstance(data, dict):
            raise ValueError("segment is not an object")
        return data

    return seg(parts[0]), seg(parts[1])

"""Minting (built-in issuer) and verifying (built-in or external IdP) Bearer JWTs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections import OrderedDict
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from app.auth.keys import local_keyset, signing_key
from app.auth.principal import Principal, Role
from app.config import Settings
from app.core.errors import Unauthenticated, Unavailable

log = logging.getLogger("rounds.auth")

# Only asymmetric algorithms: HS* would let a public key be used as an HMAC secret
# (algorithm confusion) and "none" is never acceptable.
MAX_TOKEN_LENGTH = 16_384
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
    forged kids cannot turn into a flood of fetches.

    The rate limit counts fetch *attempts*: while the IdP is down, the last good keys stay
    in use and requests do not each wait for another failing fetch."""

    def __init__(self, url: str, *, ttl: int, min_refetch: int) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._keys: KeySet | None = None
        self._fetched_at = 0.0  # last successful fetch
        self._attempted_at: float | None = None  # last fetch attempt, successful or not
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        self._attempted_at = time.monotonic()
        async with httpx.AsyncClient(timeout=5.0) as client:
            resp = await client.get(self.url, headers={"Accept": "application/json"})
            resp.raise_for_status()
            keys = KeySet.import_key_set(resp.json())
        self._keys = keys
        self._fetched_at = time.monotonic()

    def _wanted(self, kid: str | None) -> bool:
        """Whether a fetch is due: nothing cached, cache expired, or an unknown kid."""
        now = time.monotonic()
        if self._attempted_at is not None and now - self._attempted_at < self.min_refetch:
            return False
        if self._keys is None or now - self._fetched_at > self.ttl:
            return True
        return kid is not None and not _has_kid(self._keys, kid)

    async def keyset(self, kid: str | None) -> KeySet:
        if not self._wanted(kid) and self._keys is not None:
            return self._keys
        async with self._lock:
            if self._wanted(kid):  # another request may have fetched while we waited
                try:
                    await self._fetch()
                except Exception as exc:  # network, HTTP status, JSON or JWK errors alike
                    log.warning("JWKS fetch failed: %s", type(exc).__name__)
            if self._keys is None:
                raise Unavailable("The identity provider's keys are unavailable; try again.")
            return self._keys


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)


class VerifiedCache:
    """Principals of tokens that verified, keyed by the token string, each kept until the
    token's own expiry (the moment verification would start failing). Bounded LRU, per
    process: a worker that has not seen a token simply verifies it, so horizontal scale is
    unaffected. Service-account revocation is checked per request elsewhere (app.api.deps)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() >= entry[1]:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry[0]

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        self._entries[token] = (principal, expires_at)
        self._entries.move_to_end(token)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


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
        self._verified = VerifiedCache()

    def _local_keys(self) -> KeySet:
        if self._local is None:
            self._local = local_keyset(self.settings)
        return self._local

    async def verify(self, token: str) -> Principal:
        """The Principal a Bearer token stands for; Unauthenticated (401) for any defect.
        A token that verified is remembered (keyed by the whole token, signature included)
        until it expires, so a client's repeated calls skip the signature and claim checks."""
        principal = self._verified.get(token)
        if principal is None:
            principal, expires_at = await self._verify(token)
            self._verified.put(token, principal, expires_at)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise _invalid("The token is malformed.")
        try:
            header, unverified = _peek(token)
        except ValueError as exc:
            raise _invalid("The token is malformed.") from exc
        # Checked before any key is chosen: "none" and HS* (public key as HMAC secret) never
        # get near a verifier, whatever the key set holds.
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise _invalid("The token's algorithm is not accepted.")
        issuer = unverified.get("iss")
        own = self_issuer(self.settings)
        if not isinstance(issuer, str):
            raise _invalid("The token's issuer is not trusted.")
        if issuer == own:
            keys = self._local_keys()
        elif self.remote is not None and issuer == self.settings.auth_issuer:
            kid = header.get("kid")
            keys = await self.remote.keyset(kid if isinstance(kid, str) else None)
        else:
            raise _invalid("The token's issuer is not trusted.")
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
        except Exception as exc:  # every decoding or claim defect is the same 401
            raise _invalid("The token is invalid or expired.") from exc
        principal = self._principal(decoded.claims, own_issuer=issuer == own)
        return principal, float(decoded.claims["exp"]) + self.settings.auth_leeway_seconds

    def _principal(self, claims: dict[str, Any], *, own_issuer: bool) -> Principal:
        sub = claims["sub"]  # a non-empty string: checked by the claims registry
        if len(sub) > 255 or "\x00" in sub:
            # Subjects are stored (memberships, audit actor): refuse what cannot be stored.
            raise _invalid("The token's subject is not acceptable.")
        name = claims.get("name")
        name = name.replace("\x00", "")[:200] or None if isinstance(name, str) else None
        # Only Rounds itself issues service-account tokens (POST /oauth/token).
        if own_issuer and claims.get("client_id"):
            scope = claims.get("scope")
            return Principal(
                sub=sub,
                type="service",
                client_id=str(claims["client_id"]),
                name=name,
                scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            )
        return Principal(sub=sub, type="user", role=self._role(claims), name=name)

    def _role(self, claims: dict[str, Any]) -> Role:
        """The one Rounds role in AUTH_ROLE_CLAIM (a string, or a list of IdP roles of which
        exactly one is a Rounds role)."""
        value = claims.get(self.settings.auth_role_claim)
        candidates = value if isinstance(value, list) else [value]
        roles = {Role(v) for v in candidates if isinstance(v, str) and v in _ROLE_VALUES}
        if len(roles) != 1:
            raise _invalid("The token carries no valid Rounds role.")
        return roles.pop()


_ROLE_VALUES = frozenset(r.value for r in Role)


def _invalid(detail: str) -> Unauthenticated:
    """RFC 6750 §3: a presented token that fails is `error="invalid_token"`."""
    return Unauthenticated(
        detail, headers={"WWW-Authenticate": 'Bearer realm="rounds", error="invalid_token"'}
    )


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims without verification, only to pick the key source."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWS compact token")

    def seg(s: str) -> dict[str, Any]:
        data = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        if not isinstance(data, dict):
            raise ValueError("segment is not an object")
        return data

    return seg(parts[0]), seg(parts[1])

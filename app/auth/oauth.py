"""Service accounts: OAuth2 client credentials (RFC 6749 §4.4) on authlib's server core.

authlib's AuthorizationServer is synchronous and framework-neutral; this module adapts it to
Starlette. The async part (reading the form, loading the candidate clients from the database)
happens first; authlib's validation, client authentication and token generation then run in
a worker thread, because checking a secret is a deliberately slow scrypt and signing is RSA —
neither may stall the event loop.

Access tokens are JWTs from the built-in issuer (`sub = client:<client_id>`, `client_id`,
`scope`), so they are stateless; revocation works because every API call with a service token
checks that its client is still active (app/api/deps.py authenticate()).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.audit.record import AuditRecord
from app.auth.models import OAuthClient
from app.auth.principal import SCOPES
from app.auth.repository import OAuthClientRepository
from app.auth.tokens import mint_token
from app.config import Settings
from app.db.types import utcnow

# --- secrets ---------------------------------------------------------------------------------

# OWASP's scrypt baseline (N=2^15, r=8, p=3): ~32 MiB and a few hundred ms per check.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 3
_MAXMEM = 128 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    """`scrypt$N$r$p$salt$hash` with a fresh random salt; parameters travel with the hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_MAXMEM, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time comparison of `secret` against a stored scrypt hash."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(_unb64(expected)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, _unb64(expected))


@cache
def _decoy_hash() -> str:
    """A hash no secret matches, checked for unknown clients so they cost the same time."""
    return hash_secret(secrets.token_urlsafe(32))


# --- clients -----------------------------------------------------------------------------------


def normalize_scopes(scopes: str | list[str] | tuple[str, ...]) -> list[str]:
    """Scopes in the canonical order of SCOPES; ValueError naming unknown ones."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    unknown = sorted({s for s in items if s not in SCOPES})
    if unknown:
        raise ValueError(
            f"unknown scope(s): {', '.join(unknown)}; known scopes: {' '.join(SCOPES)}"
        )
    wanted = set(items)
    return [s for s in SCOPES if s in wanted]


@dataclass(frozen=True, slots=True)
class IssuedClient:
    client: OAuthClient
    secret: str


async def create_client(session: AsyncSession, *, name: str, scopes: str) -> IssuedClient:
    """Register a service account; the plain secret exists only in the return value."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("name must be 1-100 characters")
    granted = normalize_scopes(scopes)
    secret = secrets.token_urlsafe(32)
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    client = OAuthClient(
        client_id=secrets.token_hex(16),
        name=name,
        secret_hash=secret_hash,
        scopes=" ".join(granted),
    )
    await OAuthClientRepository(session).add(client)
    return IssuedClient(client, secret)


async def revoke_client(session: AsyncSession, client_id: str) -> bool:
    """Revoke a service account; tokens it already holds stop working on their next call."""
    return await OAuthClientRepository(session).revoke(client_id, utcnow())


async def list_clients(session: AsyncSession) -> list[OAuthClient]:
    return await OAuthClientRepository(session).list()


@dataclass(frozen=True, slots=True)
class ServiceClient(ClientMixin):
    """authlib's view of an active OAuthClient row (or of an unknown one: `known=False`)."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    secret_hash: str
    row_id: str | None = None
    known: bool = True

    @classmethod
    def of(cls, row: OAuthClient) -> ServiceClient:
        return cls(row.client_id, row.name, tuple(row.scopes.split()), row.secret_hash, str(row.id))

    @classmethod
    def unknown(cls, client_id: str) -> ServiceClient:
        return cls(client_id, "", (), _decoy_hash(), known=False)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        requested = scope_to_list(scope) or list(self.scopes)
        return " ".join(s for s in SCOPES if s in requested and s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        ok = verify_secret(client_secret, self.secret_hash)
        return ok and self.known

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


# --- the token endpoint -----------------------------------------------------------------------


class _ClientCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_requested_scope(self) -> None:
        """The requested scope must be a subset of the client's (none requested: all)."""
        requested = scope_to_list(self.request.payload.scope) or []
        if not set(requested) <= set(self.client.scopes):
            raise InvalidScopeError("The requested scope is not among the scopes of this client.")


class _Payload:
    def __init__(self, datalist: dict[str, list[str]]) -> None:
        self.datalist = datalist
        self.data = {k: v[0] for k, v in datalist.items()}

    client_id = property(lambda self: self.data.get("client_id"))
    grant_type = property(lambda self: self.data.get("grant_type"))
    scope = property(lambda self: self.data.get("scope"))
    response_type = property(lambda self: self.data.get("response_type"))
    redirect_uri = property(lambda self: self.data.get("redirect_uri"))
    state = property(lambda self: self.data.get("state"))


class StarletteOAuth2Request(OAuth2Request):
    """An OAuth2Request over an already-read Starlette form."""

    def __init__(self, request: Request, datalist: dict[str, list[str]]) -> None:
        # TLS is terminated in front of the app (ingress/load balancer); authlib's transport
        # check would otherwise refuse every plain-HTTP hop behind it.
        super().__init__(
            request.method, str(request.url.replace(scheme="https")), headers=request.headers
        )
        self.payload = _Payload(datalist)

    @property
    def args(self) -> dict[str, str]:
        return {}  # the token endpoint reads only the form body

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class TokenServer(AuthorizationServer):
    """authlib's authorization server for one request, with its candidate clients preloaded."""

    def __init__(self, settings: Settings, clients: dict[str, ServiceClient]) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.settings = settings
        self.clients = clients
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id: str) -> ServiceClient:
        return self.clients.get(client_id) or ServiceClient.unknown(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: tokens are signed JWTs; revocation is by client."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status, body, headers):
        return status, body, headers

    def _generate(
        self,
        grant_type: str,
        client: ServiceClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        granted = client.get_allowed_scope(scope)
        ttl = expires_in or self.settings.access_token_ttl_seconds
        token = mint_token(
            self.settings,
            sub=f"client:{client.client_id}",
            name=client.name,
            ttl=ttl,
            extra={"client_id": client.client_id, "scope": granted},
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": granted}


def _error(error: OAuth2Error) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    return error()


_FORM = "application/x-www-form-urlencoded"


async def token_endpoint(
    request: Request, session: AsyncSession, settings: Settings, audit: AuditRecord
) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    """POST /oauth/token: (status, JSON body, headers) per RFC 6749 §5.1/§5.2."""
    audit.action = "login"
    audit.resource_type = "oauth_client"
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        return _error(InvalidRequestError(f"The request body must be {_FORM}."))
    form = await request.form()
    datalist: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        datalist.setdefault(key, []).append(str(value))
    if any(len(v) > 1 for v in datalist.values()):
        # RFC 6749 §3.2: parameters MUST NOT be included more than once. (Descriptions never
        # echo input: authlib refuses characters outside RFC 6749's error charset.)
        return _error(InvalidRequestError("A parameter is repeated."))
    if not datalist.get("grant_type", [""])[0]:
        return _error(InvalidRequestError("Missing 'grant_type' parameter."))

    basic_id, _ = extract_basic_authorization(request.headers)
    body_id = datalist.get("client_id", [None])[0]
    if basic_id is not None and "client_secret" in datalist:
        # RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
        return _error(InvalidRequestError("Use either HTTP Basic or client_secret, not both."))
    if basic_id is not None and body_id is not None and body_id != basic_id:
        return _error(InvalidRequestError("client_id does not match the Basic credentials."))

    candidates = {c for c in (basic_id, body_id) if c and len(c) <= 64}
    rows = await OAuthClientRepository(session).active(candidates)
    clients = {row.client_id: ServiceClient.of(row) for row in rows}
    server = TokenServer(settings, clients)
    oauth_request = StarletteOAuth2Request(request, datalist)
    status, body, headers = await asyncio.to_thread(server.create_token_response, oauth_request)

    if status == 401:
        # authlib's description lists our auth methods; the header names the Basic scheme.
        body = {"error": "invalid_client", "error_description": "Client authentication failed."}
        headers = [
            *(h for h in headers if h[0].lower() != "www-authenticate"),
            ("WWW-Authenticate", 'Basic realm="rounds", error="invalid_client"'),
        ]
    client = oauth_request.client
    if status == 401 and rows:
        # Failed authentication stays anonymous; which existing account was tried is kept.
        audit.resource_ids = [str(row.id) for row in rows]
    if isinstance(client, ServiceClient) and client.known:
        audit.resource_ids = [client.row_id or client.client_id]
        # Authenticated (even if the grant then failed): the client is the actor.
        audit.client_id = client.client_id
        audit.actor_sub = f"client:{client.client_id}"
        audit.actor_type = "service"
    return status, body, list(headers)

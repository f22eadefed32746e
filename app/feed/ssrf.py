"""Where webhooks may go: the URL is checked when a subscription is saved and again, after a
fresh DNS resolution, before every delivery (a name that resolved to a public address at
subscription time may point at the metadata service later). Every address a name resolves
to must be public; the request is then sent to the checked address (pinned, with the name in
the Host header and TLS SNI), so a second resolution cannot swap it (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints that are not link-local everywhere (AWS IPv6, Alibaba, Oracle).
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_HOSTNAMES = frozenset(("localhost", "metadata", "metadata.google.internal"))
RESOLVE_TIMEOUT = 3.0


class UnsafeTarget(ValueError):
    """The URL may not be a webhook target; the message says why (no address echoed)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written (IDNA-encoded), for Host and SNI
    port: int
    path: str  # path and query
    addresses: tuple[IPAddress, ...]

    def pinned_url(self, address: IPAddress) -> str:
        literal = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def forbidden_address(address: IPAddress) -> bool:
    """Loopback, private, link-local, CGNAT, multicast, reserved, unspecified, metadata: any
    address that is not globally routable (IPv4-mapped IPv6 addresses judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in _METADATA or not address.is_global or address.is_multicast


def parse(url: str, *, require_https: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL; UnsafeTarget otherwise."""
    if len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeTarget("The URL is not a valid absolute http(s) URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("The URL is not a valid absolute http(s) URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("The URL is not a valid absolute http(s) URL.")
    if require_https and scheme != "https":
        raise UnsafeTarget("Webhook URLs must use https.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Webhook URLs must not carry credentials.")
    if parts.fragment:
        raise UnsafeTarget("Webhook URLs must not have a fragment.")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise UnsafeTarget("The URL's host name is not valid.") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


async def resolve(url: str, *, allow_private: bool, require_https: bool) -> Target:
    """Parse, resolve and check a webhook URL (UnsafeTarget when it may not be used)."""
    scheme, host, port, path = parse(url, require_https=require_https)
    if not allow_private and host.lower().rstrip(".") in _HOSTNAMES:
        raise UnsafeTarget("The URL's host is not a public address.")
    try:
        literal = ipaddress.ip_address(host)
        addresses: tuple[IPAddress, ...] = (literal,)
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise UnsafeTarget("The URL's host name does not resolve.") from exc
        seen: dict[str, IPAddress] = {}
        for info in infos:
            raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
            seen.setdefault(raw, ipaddress.ip_address(raw))
        addresses = tuple(seen.values())
    if not addresses:
        raise UnsafeTarget("The URL's host name does not resolve.")
    if not allow_private and any(forbidden_address(a) for a in addresses):
        raise UnsafeTarget("The URL resolves to a loopback, private or link-local address.")
    return Target(scheme, host, port, path, addresses)

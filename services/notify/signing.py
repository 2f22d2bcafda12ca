"""Standard Webhooks signatures (https://www.standardwebhooks.com/) and webhook target checks."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_' followed by base64")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the part after 'whsec_' is not valid base64") from exc
    if not 24 <= len(key) <= 64:
        raise ValueError("the secret must decode to between 24 and 64 bytes")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def check_url_shape(url: str) -> str | None:
    """Why `url` cannot be a webhook target (scheme, host), or None when its shape is fine."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "only http and https targets are allowed"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed; use the signing secret"
    return None


Lookup = Callable[[str], Awaitable[list[str]]]
"""Resolve a host name to its addresses (tests pass a fake one)."""


async def system_lookup(host: str) -> list[str]:
    """The addresses of `host`, by the system resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def _is_private(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def refused_addresses(host: str, addresses: list[str]) -> str | None:
    """Why a target resolving to `addresses` is refused (private, loopback, link-local...), or None."""
    private = sorted({a for a in addresses if _is_private(a)})
    if private:
        return f"{host} resolves to a non-public address ({', '.join(private)}); set NOTIFY_WEBHOOK_ALLOW_PRIVATE to allow it"
    return None


async def refuse_private(url: str, lookup: Lookup = system_lookup) -> str | None:
    """Resolve the URL's host; why it is refused (private, loopback, link-local...), or None."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = await lookup(host)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    return refused_addresses(host, addresses)


class TargetRefused(OSError):
    """The webhook host resolved to an address notify must not connect to."""


class VettedResolver(AbstractResolver):
    """aiohttp's resolver for webhooks: one lookup, checked, and the connection goes to exactly
    the addresses checked.

    Checking a host and then letting the client resolve it again when connecting lets DNS answer a
    public address to the check and a private one to the connection (DNS rebinding). Here the
    check happens inside the connector's own resolution; the request keeps the URL's host name in
    its ``Host`` header and as the TLS server name.
    """

    def __init__(self, *, allow_private: bool = False, lookup: Lookup = system_lookup) -> None:
        self.allow_private = allow_private
        self.lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self.lookup(host)
        if not self.allow_private and (reason := refused_addresses(host, addresses)):
            raise TargetRefused(reason)
        results: list[ResolveResult] = []
        for addr in addresses:
            addr_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
            if family not in (socket.AF_UNSPEC, addr_family):
                continue
            results.append(
                {
                    "hostname": host,
                    "host": addr,
                    "port": port,
                    "family": addr_family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"cannot resolve {host}: no usable address")
        return results

    async def close(self) -> None:
        return None

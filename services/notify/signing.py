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


# A subscription's signing secrets, kept in its one ``secret`` column as a key ring: the current
# secret first, then a secret being rotated out with the Unix time it stops signing, e.g.
# ``whsec_NEW whsec_OLD@1772420400`` (a ``whsec_`` secret holds neither a space nor an ``@``).
# Why a string and not a second column: every sender already passes the column to
# `webhook_headers` with the send time, so the overlap works for every path (deliveries, retries,
# replays, pings) and needs no migration; two 64-byte secrets and an expiry fit the column's 200.
KEYRING_MAX_LENGTH = 200


def keyring(current: str, previous: str | None = None, previous_expires_at: int | None = None) -> str:
    """The key ring holding `current`, and `previous` until `previous_expires_at` (Unix seconds)."""
    if previous is None or previous_expires_at is None:
        return current
    ring = f"{current} {previous}@{previous_expires_at}"
    if len(ring) > KEYRING_MAX_LENGTH:  # cannot happen with secrets `secret_key` accepts
        raise ValueError("the signing secrets are too long to keep together")
    return ring


def keyring_entries(ring: str) -> list[tuple[str, int | None]]:
    """(secret, expiry in Unix seconds or None) for each secret of the ring, the current one first."""
    entries: list[tuple[str, int | None]] = []
    for part in ring.split():
        secret, _, expires = part.partition("@")
        entries.append((secret, int(expires) if expires.isdigit() else None))
    return entries


def current_secret(ring: str) -> str:
    """The secret new signatures are always made with (the first of the ring)."""
    return keyring_entries(ring)[0][0]


def previous_secret(ring: str, at: int) -> tuple[str, int] | None:
    """The secret being rotated out and when it stops signing, if it still signs at `at`."""
    for secret, expires in keyring_entries(ring)[1:]:
        if expires is not None and expires > at:
            return secret, expires
    return None


def signing_secrets(ring: str, at: int) -> list[str]:
    """The secrets that sign a message sent at `at`: the current one, and any not yet expired."""
    return [s for s, expires in keyring_entries(ring) if expires is None or expires > at]


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers; `secret` may be a key ring: while a secret is rotated out,
    ``webhook-signature`` carries one space-separated ``v1,`` signature per secret still signing."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(s, msg_id, timestamp, body) for s in signing_secrets(secret, timestamp)
        ),
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

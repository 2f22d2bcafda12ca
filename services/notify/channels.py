"""Senders, one per channel: each tries once and says whether a retry could help."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib
import httpx

from services.notify.config import Settings
from services.notify.deliveries.repository import ClaimedDelivery
from services.notify.signing import (
    Lookup,
    TargetRefused,
    VettedResolver,
    refused_addresses,
    system_lookup,
    webhook_headers,
)


@dataclass
class Outcome:
    ok: bool
    retryable: bool = False
    status_code: int | None = None
    error: str | None = None
    duration_ms: float = 0.0


def _http_outcome(resp: httpx.Response) -> Outcome:
    if resp.is_success:
        return Outcome(True, status_code=resp.status_code)
    return Outcome(
        False,
        _retryable_status(resp.status_code),
        resp.status_code,
        f"HTTP {resp.status_code}: {resp.text[:300]}",
    )


def _retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 409, 425, 429)


def webhook_client(settings: Settings, *, lookup: Lookup = system_lookup) -> aiohttp.ClientSession:
    """The client for webhooks: it connects only to addresses its resolver has checked."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(
            total=settings.webhook_timeout_seconds, connect=min(settings.webhook_timeout_seconds, 3.0)
        ),
        connector=aiohttp.TCPConnector(
            limit=100, resolver=VettedResolver(allow_private=settings.webhook_allow_private, lookup=lookup)
        ),
        headers={"user-agent": "dangjian-notify/1"},
    )


async def send_webhook(
    client: aiohttp.ClientSession, settings: Settings, row: ClaimedDelivery, secret: str, now_ts: int
) -> Outcome:
    """POST the event, signed per Standard Webhooks; the webhook-id is the event id on every retry.

    aiohttp rather than httpx here: it spends several times less CPU per request, and webhooks
    are notify's hot path. Redirects are not followed (they could lead to an internal address).
    The client from `webhook_client` checks a host name's addresses when it resolves them to
    connect; a literal address in the URL never reaches a resolver, so it is checked here.
    """
    url = row["destination"]
    if not url:
        return Outcome(False, False, None, "the delivery has no webhook URL")
    if not settings.webhook_allow_private:
        host = urlsplit(url).hostname or ""
        if _is_ip(host) and (reason := refused_addresses(host, [host])):
            return Outcome(False, False, None, reason)
    body = row["body"].encode()
    headers = webhook_headers(secret, row["notification_id"], now_ts, body)
    try:
        async with client.post(url, data=body, headers=headers, allow_redirects=False) as resp:
            if 200 <= resp.status < 300:
                await resp.read()
                return Outcome(True, status_code=resp.status)
            text = (await resp.text(errors="replace"))[:300]
            return Outcome(False, _retryable_status(resp.status), resp.status, f"HTTP {resp.status}: {text}")
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, TargetRefused):
            return Outcome(False, False, None, str(exc.os_error))
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def send_email(settings: Settings, row: ClaimedDelivery) -> Outcome:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = row["destination"]
    msg["Subject"] = row["subject"] or "通知"
    msg["Message-ID"] = f"<delivery-{row['id']}@notify.dangjian>"
    msg["X-Notification-Id"] = row["notification_id"]
    msg.set_content(row["body"])
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return Outcome(False, False, None, f"recipient refused: {exc}")
    except aiosmtplib.SMTPResponseException as exc:
        return Outcome(False, exc.code >= 400 and exc.code < 500, exc.code, f"SMTP {exc.code}: {exc.message}")
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
    return Outcome(True)


async def send_sms(client: httpx.AsyncClient, settings: Settings, row: ClaimedDelivery) -> Outcome:
    """POST to the SMS provider adapter (contract in docs/notify.md)."""
    payload = {
        "to": row["destination"],
        "text": row["body"],
        "sign_name": settings.sms_sign_name,
        "client_ref": f"delivery-{row['id']}",
    }
    try:
        resp = await client.post(
            settings.sms_url,
            json=payload,
            headers={
                "authorization": f"Bearer {settings.sms_api_key.get_secret_value()}",
                "idempotency-key": f"delivery-{row['id']}",
            },
            timeout=settings.webhook_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
    return _http_outcome(resp)


async def timed(coro: Awaitable[Outcome]) -> Outcome:
    """Await a send and record how long it took."""
    started = time.perf_counter()
    outcome = await coro
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return outcome

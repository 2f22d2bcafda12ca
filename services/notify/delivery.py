"""The delivery loop: claim due deliveries, send them on their channel, record every attempt.

Runs in every replica. A loop claims only what it sends at once: email, SMS and inbox rows up to
the process's free sending slots, and webhook rows of each subscription up to that subscription's
free slots (`webhook_max_in_flight` per process, across all loops), so a slow receiver is never
flooded and a crash can repeat at most that many requests per subscription. Claimed rows carry a
short lease that the process's heartbeat renews while it holds them (``FOR UPDATE SKIP LOCKED``
keeps replicas apart on PostgreSQL); a crashed process's rows are claimed again one lease after
its last heartbeat. Outcomes are written with a compare-and-set on the attempt number, so a worker
whose lease ran out cannot overwrite a newer outcome. A crash between sending and recording means
one redelivery with the same ``webhook-id``, which receivers deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.logs import get_logger
from services.notify.channels import Outcome, send_email, send_sms, send_webhook, timed, webhook_client
from services.notify.config import Settings
from services.notify.deliveries import repository as delivery_repository
from services.notify.deliveries.repository import ClaimedDelivery
from services.notify.models import WebhookSubscription
from services.notify.notifications import repository as notification_repository
from services.notify.people import repository as people_repository
from services.notify.people.service import quiet_release
from services.notify.subscriptions import repository as subscription_repository
from services.notify.subscriptions import service as subscription_service

log = get_logger("notify.delivery")


def external_client(settings: Settings) -> httpx.AsyncClient:
    """The client for systems outside ours: no service principal, no redirects."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.webhook_timeout_seconds, connect=min(settings.webhook_timeout_seconds, 3.0)
        ),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        follow_redirects=False,
        headers={"user-agent": "dangjian-notify/1"},
    )


def webhook_session(app: FastAPI) -> aiohttp.ClientSession:
    session: aiohttp.ClientSession | None = getattr(app.state, "webhook_session", None)
    if session is None or session.closed:
        session = app.state.webhook_session = webhook_client(app.state.settings)
    return session


async def close_clients(app: FastAPI) -> None:
    """Close the clients the delivery loop opened for outside systems."""
    for name in ("external_http", "webhook_session"):
        client = getattr(app.state, name, None)
        if client is not None:
            await client.aclose() if isinstance(client, httpx.AsyncClient) else await client.close()
            setattr(app.state, name, None)


def retry_delay(settings: Settings, channel: str, attempts: int) -> float | None:
    """Seconds before the next try after `attempts` failed ones, or None when it is time to give up."""
    schedule = settings.webhook_retry_schedule if channel == "webhook" else settings.message_retry_schedule
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return base * (1 + random.uniform(-settings.retry_jitter, settings.retry_jitter))


@dataclass
class Slots:
    """What this process holds: claimed rows not yet settled, per subscription and in all.

    Every loop of the process claims through it (one at a time), so the limits hold across loops;
    the heartbeat renews the lease of every row in `held`.
    """

    worker: str
    held: dict[int, int] = field(default_factory=dict)  # delivery id -> attempt number claimed
    webhooks: Counter[int] = field(default_factory=Counter)  # subscription id -> rows held
    messages: int = 0  # email, SMS and inbox rows held
    claiming: asyncio.Lock = field(default_factory=asyncio.Lock)

    def take(self, rows: list[ClaimedDelivery]) -> None:
        for row in rows:
            self.held[row["id"]] = row["attempts"]
            sub_id = row["subscription_id"]
            if row["channel"] == "webhook" and sub_id is not None:
                self.webhooks[sub_id] += 1
            else:
                self.messages += 1

    def give_back(self, rows: list[ClaimedDelivery]) -> None:
        for row in rows:
            if self.held.pop(row["id"], None) is None:
                continue
            sub_id = row["subscription_id"]
            if row["channel"] == "webhook" and sub_id is not None:
                self.webhooks[sub_id] -= 1
                if self.webhooks[sub_id] <= 0:
                    del self.webhooks[sub_id]
            else:
                self.messages -= 1


def slots(app: FastAPI) -> Slots:
    """This process's delivery slots (one per app: a second app in the same process is a replica)."""
    found: Slots | None = getattr(app.state, "delivery_slots", None)
    if found is None:
        worker = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        found = app.state.delivery_slots = Slots(worker=worker)
    return found


@dataclass
class Claim:
    rows: list[ClaimedDelivery]
    subs: dict[int, WebhookSubscription]


async def claim(app: FastAPI) -> Claim:
    """Lease what this loop sends now: free message slots, and each subscription's free webhook slots."""
    settings: Settings = app.state.settings
    held = slots(app)
    lease = timedelta(seconds=settings.delivery_lease_seconds)
    async with held.claiming:
        now = app.state.clock.now()
        async with app.state.sessionmaker() as session, session.begin():
            rows = await delivery_repository.claim_messages(
                session,
                now=now,
                limit=min(settings.delivery_batch_size, settings.delivery_concurrency - held.messages),
                lease=lease,
                worker=held.worker,
            )
            subs = {s.id: s for s in await subscription_repository.subscriptions(session) if s.id is not None}
            for sub_id in subs:
                free = settings.webhook_max_in_flight - held.webhooks[sub_id]
                rows += await delivery_repository.claim_webhooks(
                    session,
                    subscription_id=sub_id,
                    now=now,
                    limit=free,
                    lease=lease,
                    worker=held.worker,
                )
        held.take(rows)
    return Claim(rows, subs)


async def _send(app: FastAPI, row: ClaimedDelivery, subs: dict[int, WebhookSubscription]) -> Outcome:
    settings: Settings = app.state.settings
    channel = row["channel"]
    if channel == "inbox":
        return Outcome(True)  # written with the outcome, in the same transaction
    if channel == "email":
        return await timed(send_email(settings, row))
    if channel == "sms":
        return await timed(send_sms(external_http(app), settings, row))
    sub = subs.get(row["subscription_id"] or 0)
    if sub is None or not sub.enabled:
        return Outcome(False, False, None, "the webhook subscription is disabled")
    # The signature timestamp is wire-level replay protection checked against the receiver's real
    # clock, so it is wall time, not the injectable domain clock (which tests may move by days).
    return await timed(send_webhook(webhook_session(app), settings, row, sub.secret, int(time.time())))


async def send_and_record(app: FastAPI, claimed: Claim) -> None:
    """Send what was claimed, write the outcomes, then free the slots."""
    settings: Settings = app.state.settings
    rows = claimed.rows

    async def one(row: ClaimedDelivery) -> Outcome:
        try:
            return await _send(app, row, claimed.subs)
        except Exception as exc:  # a sender bug must not lose the batch's outcomes
            log.exception("sender crashed", delivery_id=row["id"])
            return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")

    stopping = False
    try:
        outcomes = await asyncio.gather(*(one(r) for r in rows))
        async with app.state.sessionmaker() as session, session.begin():
            await record_outcomes(session, settings, rows, outcomes, now=app.state.clock.now())
    except asyncio.CancelledError:
        stopping = True  # the rows stay held: shutdown releases their leases (`_release`)
        raise
    finally:
        if not stopping:
            slots(app).give_back(rows)  # this loop claims again at once: no need to wake the others
    if any(r["channel"] == "inbox" for r in rows):
        app.state.inbox_signal.notify()


async def deliver_once(app: FastAPI) -> int:
    """Claim and send one round of due deliveries; returns how many were claimed."""
    claimed = await claim(app)
    if claimed.rows:
        await send_and_record(app, claimed)
    return len(claimed.rows)


async def heartbeat_once(app: FastAPI) -> int:
    """Renew the lease of every row this process holds; returns how many were renewed."""
    settings: Settings = app.state.settings
    held = slots(app)
    if not held.held:
        return 0
    async with app.state.sessionmaker() as session, session.begin():
        renewed = await delivery_repository.renew_leases(
            session,
            held=dict(held.held),
            worker=held.worker,
            until=app.state.clock.now() + timedelta(seconds=settings.delivery_lease_seconds),
        )
    return len(renewed)


async def record_outcomes(
    session: AsyncSession,
    settings: Settings,
    rows: list[ClaimedDelivery],
    outcomes: list[Outcome],
    *,
    now: datetime,
) -> None:
    people = await people_repository.people_by_ids(
        session, [r["person_id"] for r in rows if r["person_id"] and r["channel"] in ("email", "sms")]
    )
    data = await notification_repository.notifications_data(
        session, [r["notification_id"] for r in rows if r["channel"] == "inbox"]
    )
    attempts: list[dict[str, Any]] = []
    inbox: list[dict[str, Any]] = []
    sub_results: dict[int, list[bool]] = {}
    sent_groups: dict[int, list[int]] = {}
    for row, out in zip(rows, outcomes, strict=True):
        if out.ok:
            sent_groups.setdefault(row["attempts"], []).append(row["id"])
    settled: set[int] = set()
    for n, ids in sent_groups.items():
        settled |= await delivery_repository.settle_sent(session, ids=ids, attempts=n, now=now)
    for row, out in zip(rows, outcomes, strict=True):
        if out.ok:
            if row["id"] not in settled:
                continue  # another worker owns this row now
        else:
            delay = retry_delay(settings, row["channel"], row["attempts"]) if out.retryable else None
            if delay is None:
                values: dict[str, Any] = {"status": "failed", "leased_until": None, "last_error": out.error}
            else:
                due = now + timedelta(seconds=delay)
                person = people.get(row["person_id"] or "")
                if person is not None and row["priority"] != "urgent":
                    due = quiet_release(person, due)
                values = {"next_attempt_at": due, "leased_until": None, "last_error": out.error}
            if not await delivery_repository.settle_delivery(
                session, delivery_id=row["id"], attempts=row["attempts"], values=values
            ):
                continue  # another worker owns this row now
        attempts.append(
            {
                "delivery_id": row["id"],
                "number": row["attempts"],
                "attempted_at": now,
                "ok": out.ok,
                "status_code": out.status_code,
                "error": out.error,
                "duration_ms": out.duration_ms,
            }
        )
        if row["channel"] == "inbox" and out.ok:
            inbox.append(
                {
                    "user_id": row["person_id"],
                    "delivery_id": row["id"],
                    "notification_id": row["notification_id"],
                    "event_type": row["event_type"],
                    "priority": row["priority"],
                    "title": row["subject"] or "",
                    "body": row["body"],
                    "data": data.get(row["notification_id"], {}),
                    "created_at": now,
                }
            )
        if row["channel"] == "webhook" and row["subscription_id"] is not None:
            sub_results.setdefault(row["subscription_id"], []).append(out.ok)
    await delivery_repository.insert_attempts(session, attempts)
    await notification_repository.insert_inbox_messages(session, inbox)
    if sub_results:
        await subscription_service.record_results(session, settings, sub_results, now)


async def _loop(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    wake: asyncio.Event = app.state.delivery_wake
    while True:
        try:
            claimed = await deliver_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery pass failed")
            claimed = 0
        if claimed == 0:
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), settings.delivery_poll_seconds)
        else:
            await asyncio.sleep(0)


async def _heartbeat(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.delivery_heartbeat_seconds)
        try:
            await heartbeat_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next beat tries again; the lease outlives a few missed ones
            log.exception("delivery heartbeat failed")


async def _release(app: FastAPI) -> None:
    """On shutdown, free the rows this process still holds so a restart resends them at once."""
    held = slots(app)
    if not held.held:
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            async with app.state.sessionmaker() as session, session.begin():
                await delivery_repository.release_leases(session, ids=list(held.held), worker=held.worker)


async def delivery_loop(app: FastAPI) -> None:
    """Kit worker: `delivery_loops` loops side by side (sending overlaps recording) and the lease heartbeat."""
    loops = max(1, app.state.settings.delivery_loops)
    try:
        await asyncio.gather(_heartbeat(app), *(_loop(app) for _ in range(loops)))
    finally:
        await _release(app)
        await close_clients(app)


def external_http(app: FastAPI) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = getattr(app.state, "external_http", None)
    if client is None:
        client = app.state.external_http = external_client(app.state.settings)
    return client

"""The daily digest: a person's held non-urgent email/SMS messages, gathered into one per channel."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.logs import get_logger
from services.notify.config import Settings
from services.notify.deliveries import repository as delivery_repository
from services.notify.enums import DeliveryStatus
from services.notify.events import DIGEST
from services.notify.models import Delivery, Notification, Person
from services.notify.notifications import repository as notification_repository
from services.notify.people import repository as people_repository
from services.notify.people.service import digest_due

log = get_logger("notify.digest")


def _digest_text(person: Person, items: list[Delivery], channel: str, settings: Settings) -> tuple[str, str]:
    subject = f"每日通知汇总（{len(items)}条）"
    if channel == "sms":
        text = f"【{settings.sms_sign_name}】{person.name}，您今日有{len(items)}条通知，请登录系统查看。"
        return subject, text[: settings.sms_max_length]
    lines = [f"{person.name}，您好：", "", f"以下是今日的 {len(items)} 条通知：", ""]
    for i, d in enumerate(items, 1):
        lines.append(f"{i}. {d.subject or d.event_type}")
        lines.append(f"   {d.body}")
    return subject, "\n".join(lines)


async def build_digest(session: AsyncSession, *, person: Person, settings: Settings, now: datetime) -> int:
    """Gather the person's held messages into one digest per channel; returns how many were gathered."""
    held = await delivery_repository.held_deliveries(session, person.user_id)
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for d in held:
        by_channel[d.channel].append(d)
    local_day = digest_due(person, now)[1]
    notification_id = f"digest-{person.user_id}-{local_day.isoformat()}"
    if by_channel:
        notification_repository.add(
            session,
            Notification(
                id=notification_id,
                event_type=DIGEST,
                source="notify",
                occurred_at=now,
                data={"count": len(held)},
                recipients=[{"kind": "person", "user_id": person.user_id}],
                org_unit=person.org_unit,
                created_by="notify",
                created_at=now,
            ),
        )
    for channel, items in by_channel.items():
        subject, body = _digest_text(person, items, channel, settings)
        digest = Delivery(
            notification_id=notification_id,
            event_type=DIGEST,
            channel=channel,
            recipient=person.user_id,
            person_id=person.user_id,
            destination=person.email if channel == "email" else person.phone,
            subject=subject,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        delivery_repository.add(session, digest)
        await session.flush()
        for d in items:
            d.status = DeliveryStatus.DIGESTED
            d.digest_id = digest.id
    person.last_digest_on = local_day
    await session.flush()
    return len(held)


async def digest_once(app: FastAPI) -> int:
    """Send every digest that is due now; returns how many messages were gathered."""
    settings: Settings = app.state.settings
    now = app.state.clock.now()
    gathered = 0
    async with app.state.sessionmaker() as session, session.begin():
        for person in await people_repository.digest_candidates(session):
            due, _ = digest_due(person, now)
            if due:
                gathered += await build_digest(session, person=person, settings=settings, now=now)
    if gathered:
        app.state.delivery_wake.set()
    return gathered


async def digest_loop(app: FastAPI) -> Any:
    """Kit worker: look for due digests every `digest_poll_seconds`."""
    settings: Settings = app.state.settings
    while True:
        try:
            await digest_once(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("digest pass failed")
        await asyncio.sleep(settings.digest_poll_seconds)

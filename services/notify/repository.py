"""Every query of the notify service."""
# mypy: disable-error-code="arg-type,attr-defined,union-attr,operator,call-overload,misc"

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import orgunit
from services.notify.models import (
    Delivery,
    DeliveryAttempt,
    InboxMessage,
    Notification,
    Person,
    Template,
    WebhookSubscription,
    idempotency_key,
)


def _pg(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


# ---- directory


async def get_person(session: AsyncSession, user_id: str) -> Person | None:
    return await session.get(Person, user_id)


async def people_by_ids(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, Person]:
    if not user_ids:
        return {}
    rows = await session.execute(select(Person).where(Person.user_id.in_(list(user_ids))))  # type: ignore[attr-defined]
    return {p.user_id: p for p in rows.scalars()}


async def people_in_unit(session: AsyncSession, org_unit: str, *, subtree: bool) -> list[Person]:
    """Active people of `org_unit` (and, with `subtree`, of every unit below it)."""
    unit: Any = orgunit.under(Person.org_unit, org_unit) if subtree else Person.org_unit == org_unit
    rows = await session.execute(select(Person).where(unit, Person.active.is_(True)))
    return list(rows.scalars())


async def list_people(
    session: AsyncSession,
    *,
    visible: Any,
    org_unit: str | None,
    role: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Person], int]:
    """People matching `visible` (the caller's scope, SQL on ``Person.org_unit``) and the filters."""
    where: list[Any] = [visible]
    if org_unit:
        where.append(orgunit.under(Person.org_unit, org_unit))
    stmt = select(Person).where(*where).order_by(Person.org_unit, Person.user_id)
    people = list((await session.execute(stmt)).scalars())
    if role:  # roles is a JSON list: filter here rather than in two SQL dialects
        people = [p for p in people if role in p.roles]
    return people[offset : offset + limit], len(people)


# ---- templates


async def latest_templates(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Template]:
    """The newest saved version for each (event type, channel) asked for."""
    if not pairs:
        return {}
    types = sorted({p[0] for p in pairs})
    rows = await session.execute(
        select(Template).where(Template.event_type.in_(types)).order_by(Template.version)  # type: ignore[attr-defined]
    )
    out: dict[tuple[str, str], Template] = {}
    for t in rows.scalars():
        out[(t.event_type, t.channel)] = t  # ascending versions: the last one wins
    return out


async def template_versions(session: AsyncSession, event_type: str, channel: str) -> list[Template]:
    rows = await session.execute(
        select(Template)
        .where(Template.event_type == event_type, Template.channel == channel)
        .order_by(Template.version.desc())  # type: ignore[attr-defined]
    )
    return list(rows.scalars())


async def next_template_version(session: AsyncSession, event_type: str, channel: str) -> int:
    current = await session.execute(
        select(func.max(Template.version)).where(
            Template.event_type == event_type, Template.channel == channel
        )
    )
    return int(current.scalar_one() or 0) + 1


# ---- notifications and deliveries


async def get_notification(session: AsyncSession, notification_id: str) -> Notification | None:
    return await session.get(Notification, notification_id)


async def insert_notifications(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Notification), rows)


async def insert_idempotency_keys(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(idempotency_key), rows)


async def stored_answers(session: AsyncSession, keys: Sequence[str]) -> dict[str, tuple[str, int, Any]]:
    """{key: (request hash, status, answer)} for those of `keys` already used."""
    if not keys:
        return {}
    t = idempotency_key
    rows = await session.execute(
        select(t.c.key, t.c.request_hash, t.c.status_code, t.c.response).where(t.c.key.in_(list(set(keys))))
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows.all()}


async def existing_notification_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    rows = await session.execute(select(Notification.id).where(Notification.id.in_(list(set(ids)))))
    return {r[0] for r in rows.all()}


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Delivery), rows)


def deliveries_within(unit_filter: Callable[[Any], Any]) -> Any:
    """SQL: deliveries to people, or to webhook subscriptions, whose unit passes `unit_filter`."""
    people = select(Person.user_id).where(unit_filter(Person.org_unit))
    subs = select(WebhookSubscription.id).where(unit_filter(WebhookSubscription.scope))
    return or_(Delivery.person_id.in_(people), Delivery.subscription_id.in_(subs))


async def deliveries_of(
    session: AsyncSession, notification_id: str, *, visible: Any | None = None
) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.notification_id == notification_id)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = await session.execute(stmt.order_by(Delivery.id))  # type: ignore[arg-type]
    return list(rows.scalars())


async def attempts_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, list[DeliveryAttempt]]:
    out: dict[int, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    rows = await session.execute(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(list(delivery_ids)))  # type: ignore[attr-defined]
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
    )
    for a in rows.scalars():
        out[a.delivery_id].append(a)
    return out


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None = None,
    channel: str | None = None,
    subscription_id: int | None = None,
    visible: Any | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Delivery], int]:
    where: list[Any] = [] if visible is None else [visible]
    if status:
        where.append(Delivery.status == status)
    if channel:
        where.append(Delivery.channel == channel)
    if subscription_id is not None:
        where.append(Delivery.subscription_id == subscription_id)
    total = (await session.execute(select(func.count()).select_from(Delivery).where(*where))).scalar_one()
    rows = await session.execute(
        select(Delivery).where(*where).order_by(Delivery.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
    )
    return list(rows.scalars()), int(total)


async def get_delivery(session: AsyncSession, delivery_id: int) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def retry_failed_deliveries(
    session: AsyncSession, *, now: datetime, delivery_id: int | None = None, channel: str | None = None
) -> int:
    stmt = update(Delivery).where(Delivery.status == "failed")  # type: ignore[arg-type]
    if delivery_id is not None:
        stmt = stmt.where(Delivery.id == delivery_id)  # type: ignore[arg-type]
    if channel is not None:
        stmt = stmt.where(Delivery.channel == channel)  # type: ignore[arg-type]
    result = await session.execute(
        stmt.values(status="pending", attempts=0, next_attempt_at=now, leased_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delivery_stats(
    session: AsyncSession, *, visible: Any | None = None
) -> list[tuple[str, str, int, int]]:
    """(channel, status, count, total attempts) for every pair present among the `visible` deliveries."""
    stmt = select(
        Delivery.channel, Delivery.status, func.count(), func.coalesce(func.sum(Delivery.attempts), 0)
    )
    if visible is not None:
        stmt = stmt.where(visible)
    rows = await session.execute(stmt.group_by(Delivery.channel, Delivery.status))
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows.all()]


async def claim_deliveries(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[dict[str, Any]]:
    """Lease up to `limit` due deliveries to this worker (other replicas skip them)."""
    t = Delivery.__table__  # type: ignore[attr-defined]
    due = (
        select(t.c.id)
        .where(
            and_(
                t.c.status == "pending",
                t.c.next_attempt_at <= now,
                or_(t.c.leased_until.is_(None), t.c.leased_until < now),
            )
        )
        .order_by(t.c.next_attempt_at)
        .limit(limit)
    )
    if _pg(session):
        due = due.with_for_update(skip_locked=True)
    ids = [r[0] for r in (await session.execute(due)).all()]
    if not ids:
        return []
    rows = await session.execute(
        update(t)
        .where(t.c.id.in_(ids))
        .values(leased_until=now + lease, attempts=t.c.attempts + 1)
        .returning(*t.c)
    )
    return [dict(r._mapping) for r in rows]


async def settle_delivery(
    session: AsyncSession, *, delivery_id: int, attempts: int, values: dict[str, Any]
) -> bool:
    """Write the outcome of one attempt unless another worker has taken the row since (lease expired)."""
    t = Delivery.__table__  # type: ignore[attr-defined]
    result = await session.execute(
        update(t)
        .where(t.c.id == delivery_id, t.c.status == "pending", t.c.attempts == attempts)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def settle_sent(session: AsyncSession, *, ids: Sequence[int], attempts: int, now: datetime) -> set[int]:
    """Mark many deliveries sent in one statement; returns those still ours (see `settle_delivery`)."""
    t = Delivery.__table__
    result = await session.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), t.c.status == "pending", t.c.attempts == attempts)
        .values(status="sent", sent_at=now, leased_until=None, last_error=None)
        .returning(t.c.id)
    )
    return {r[0] for r in result.all()}


async def insert_attempts(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(DeliveryAttempt), rows)


async def insert_inbox_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(InboxMessage), rows)


async def notifications_data(session: AsyncSession, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Notification.id, Notification.data).where(Notification.id.in_(list(set(ids))))  # type: ignore[attr-defined]
    )
    return {r[0]: r[1] for r in rows.all()}


async def fail_pending_for_subscription(session: AsyncSession, subscription_id: int, reason: str) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status == "pending")  # type: ignore[arg-type]
        .values(status="failed", leased_until=None, last_error=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- webhooks


async def subscriptions(
    session: AsyncSession, *, enabled_only: bool = False, visible: Any | None = None
) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)  # type: ignore[arg-type]
    if visible is not None:
        stmt = stmt.where(visible)
    if enabled_only:
        stmt = stmt.where(WebhookSubscription.enabled.is_(True))  # type: ignore[attr-defined]
    return list((await session.execute(stmt)).scalars())


async def subscriptions_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, WebhookSubscription]:
    if not ids:
        return {}
    rows = await session.execute(
        select(WebhookSubscription).where(WebhookSubscription.id.in_(list(set(ids))))  # type: ignore[union-attr]
    )
    return {s.id: s for s in rows.scalars() if s.id is not None}


# ---- inbox


async def list_inbox(
    session: AsyncSession, *, user_id: str, event_type: str | None, unread_only: bool, limit: int, offset: int
) -> tuple[list[InboxMessage], int]:
    where: list[Any] = [InboxMessage.user_id == user_id]
    if event_type:
        where.append(InboxMessage.event_type == event_type)
    if unread_only:
        where.append(InboxMessage.read_at.is_(None))  # type: ignore[union-attr]
    total = (await session.execute(select(func.count()).select_from(InboxMessage).where(*where))).scalar_one()
    unread_first = case((InboxMessage.read_at.is_(None), 0), else_=1)  # type: ignore[union-attr]
    rows = await session.execute(
        select(InboxMessage)
        .where(*where)
        .order_by(unread_first, InboxMessage.id.desc())  # type: ignore[union-attr]
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total)


async def unread_count(session: AsyncSession, user_id: str) -> int:
    stmt = (
        select(func.count())
        .select_from(InboxMessage)
        .where(
            InboxMessage.user_id == user_id,
            InboxMessage.read_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(session: AsyncSession, *, user_id: str, now: datetime, message_id: int | None) -> int:
    stmt = update(InboxMessage).where(InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None))  # type: ignore[arg-type,union-attr]
    if message_id is not None:
        stmt = stmt.where(InboxMessage.id == message_id)  # type: ignore[arg-type]
    result = await session.execute(stmt.values(read_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def inbox_after(
    session: AsyncSession, *, user_id: str, after_id: int, limit: int = 200
) -> list[InboxMessage]:
    rows = await session.execute(
        select(InboxMessage)
        .where(InboxMessage.user_id == user_id, InboxMessage.id > after_id)  # type: ignore[operator]
        .order_by(InboxMessage.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return list(rows.scalars())


async def latest_inbox_id(session: AsyncSession, user_id: str) -> int:
    stmt = select(func.max(InboxMessage.id)).where(InboxMessage.user_id == user_id)
    return int((await session.execute(stmt)).scalar_one() or 0)


# ---- digest


async def digest_candidates(session: AsyncSession) -> list[Person]:
    stmt = select(Person).where(Person.digest_enabled.is_(True), Person.active.is_(True))  # type: ignore[attr-defined]
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())


async def held_deliveries(session: AsyncSession, user_id: str) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery).where(Delivery.person_id == user_id, Delivery.status == "held").order_by(Delivery.id)  # type: ignore[arg-type]
    )
    return list(rows.scalars())


async def release_held(session: AsyncSession, *, user_id: str, now: datetime) -> int:
    """Send now what was held for a digest the person no longer wants."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.person_id == user_id, Delivery.status == "held")
        .values(status="pending", next_attempt_at=now)
    )
    return int(result.rowcount or 0)

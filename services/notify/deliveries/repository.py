"""Every query on deliveries and their attempts, including the delivery worker's claims and leases.

A claim takes only what the worker sends at once: at most `limit` due rows, for webhooks of one
subscription at a time, so the process can keep every subscription under its in-flight limit.
Each claim stamps the row with the worker's id and a short lease; the worker's heartbeat renews
the leases of the rows it still holds, so a crashed worker's rows are free again one lease after
its last heartbeat. On PostgreSQL the due rows are selected ``FOR UPDATE SKIP LOCKED``: replicas
claiming at the same moment never take the same row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, CursorResult, Result, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.notify.enums import Channel, DeliveryStatus
from services.notify.models import Delivery, DeliveryAttempt, Person, WebhookSubscription, metadata

_t = metadata.tables["delivery"]

PENDING, SENT, FAILED, HELD = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.SENT.value,
    DeliveryStatus.FAILED.value,
    DeliveryStatus.HELD.value,
)


class ClaimedDelivery(TypedDict):
    """A delivery row as the worker claims it (the ``delivery`` table's columns)."""

    id: int
    notification_id: str
    event_type: str
    channel: str
    recipient: str
    person_id: str | None
    subscription_id: int | None
    destination: str | None
    priority: str
    subject: str | None
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    leased_until: datetime | None
    leased_by: str | None
    last_error: str | None
    digest_id: int | None
    created_at: datetime
    sent_at: datetime | None


def _rowcount(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def add(session: AsyncSession, delivery: Delivery) -> None:
    session.add(delivery)


async def insert_deliveries(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Delivery), rows)


def deliveries_within(unit_filter: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    """SQL: deliveries to people, or to webhook subscriptions, whose unit passes `unit_filter`."""
    people = select(col(Person.user_id)).where(unit_filter(col(Person.org_unit)))
    subs = select(col(WebhookSubscription.id)).where(unit_filter(col(WebhookSubscription.scope)))
    return or_(col(Delivery.person_id).in_(people), col(Delivery.subscription_id).in_(subs))


async def deliveries_of(
    session: AsyncSession, notification_id: str, *, visible: ColumnElement[bool] | None = None
) -> list[Delivery]:
    stmt = select(Delivery).where(col(Delivery.notification_id) == notification_id)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = await session.execute(stmt.order_by(col(Delivery.id)))
    return list(rows.scalars())


async def attempts_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, list[DeliveryAttempt]]:
    out: dict[int, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    rows = await session.execute(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(list(delivery_ids)))
        .order_by(col(DeliveryAttempt.delivery_id), col(DeliveryAttempt.number))
    )
    for a in rows.scalars():
        out[a.delivery_id].append(a)
    return out


DELIVERY_SORT_COLUMNS: Mapping[str, Any] = {
    "id": col(Delivery.id),
    "created_at": col(Delivery.created_at),
    "next_attempt_at": col(Delivery.next_attempt_at),
    "attempts": col(Delivery.attempts),
}


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None = None,
    channel: str | None = None,
    subscription_id: int | None = None,
    visible: ColumnElement[bool] | None = None,
    sort: str = "id",
    descending: bool = True,
    limit: int,
    offset: int,
) -> tuple[list[Delivery], int]:
    where: list[ColumnElement[bool]] = [] if visible is None else [visible]
    if status:
        where.append(col(Delivery.status) == status)
    if channel:
        where.append(col(Delivery.channel) == channel)
    if subscription_id is not None:
        where.append(col(Delivery.subscription_id) == subscription_id)
    total = (await session.execute(select(func.count()).select_from(Delivery).where(*where))).scalar_one()
    order = DELIVERY_SORT_COLUMNS[sort]
    ids = col(Delivery.id)
    rows = await session.execute(
        select(Delivery)
        .where(*where)
        .order_by(order.desc() if descending else order.asc(), ids.desc() if descending else ids.asc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total)


async def retry_failed_deliveries(
    session: AsyncSession, *, now: datetime, delivery_id: int | None = None, channel: str | None = None
) -> int:
    stmt = update(Delivery).where(col(Delivery.status) == FAILED)
    if delivery_id is not None:
        stmt = stmt.where(col(Delivery.id) == delivery_id)
    if channel is not None:
        stmt = stmt.where(col(Delivery.channel) == channel)
    result = await session.execute(
        stmt.values(status=PENDING, attempts=0, next_attempt_at=now, leased_until=None)
    )
    return _rowcount(result)


async def delivery_stats(
    session: AsyncSession, *, visible: ColumnElement[bool] | None = None
) -> list[tuple[str, str, int, int]]:
    """(channel, status, count, total attempts) for every pair present among the `visible` deliveries."""
    stmt = select(
        col(Delivery.channel),
        col(Delivery.status),
        func.count(),
        func.coalesce(func.sum(col(Delivery.attempts)), 0),
    )
    if visible is not None:
        stmt = stmt.where(visible)
    rows = await session.execute(stmt.group_by(col(Delivery.channel), col(Delivery.status)))
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows.all()]


async def settle_delivery(
    session: AsyncSession, *, delivery_id: int, attempts: int, values: dict[str, Any]
) -> bool:
    """Write the outcome of one attempt unless another worker has taken the row since (lease expired)."""
    result = await session.execute(
        update(_t)
        .where(_t.c.id == delivery_id, _t.c.status == PENDING, _t.c.attempts == attempts)
        .values(**values)
    )
    return _rowcount(result) > 0


async def settle_sent(session: AsyncSession, *, ids: Sequence[int], attempts: int, now: datetime) -> set[int]:
    """Mark many deliveries sent in one statement; returns those still ours (see `settle_delivery`)."""
    result = await session.execute(
        update(_t)
        .where(_t.c.id.in_(list(ids)), _t.c.status == PENDING, _t.c.attempts == attempts)
        .values(status=SENT, sent_at=now, leased_until=None, last_error=None)
        .returning(_t.c.id)
    )
    return {r[0] for r in result.all()}


async def insert_attempts(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(DeliveryAttempt), rows)


async def fail_pending_for_subscription(session: AsyncSession, subscription_id: int, reason: str) -> int:
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.subscription_id) == subscription_id, col(Delivery.status) == PENDING)
        .values(status=FAILED, leased_until=None, last_error=reason)
    )
    return _rowcount(result)


async def repoint_pending_for_subscription(session: AsyncSession, subscription_id: int, url: str) -> int:
    """Send a subscription's deliveries still to come to its new URL."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.subscription_id) == subscription_id, col(Delivery.status) == PENDING)
        .values(destination=url)
    )
    return _rowcount(result)


async def replay_for_subscription(
    session: AsyncSession, *, subscription_id: int, start: datetime, end: datetime, url: str, now: datetime
) -> int:
    """Queue again a subscription's sent and dead-lettered deliveries created in [start, end)."""
    result = await session.execute(
        update(Delivery)
        .where(
            col(Delivery.subscription_id) == subscription_id,
            col(Delivery.channel) == Channel.WEBHOOK.value,
            col(Delivery.status).in_([SENT, FAILED]),
            col(Delivery.created_at) >= start,
            col(Delivery.created_at) < end,
        )
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            leased_until=None,
            leased_by=None,
            destination=url,
            sent_at=None,
        )
    )
    return _rowcount(result)


async def held_deliveries(session: AsyncSession, user_id: str) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery)
        .where(col(Delivery.person_id) == user_id, col(Delivery.status) == HELD)
        .order_by(col(Delivery.id))
    )
    return list(rows.scalars())


async def release_held(session: AsyncSession, *, user_id: str, now: datetime) -> int:
    """Send now what was held for a digest the person no longer wants."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.person_id) == user_id, col(Delivery.status) == HELD)
        .values(status=PENDING, next_attempt_at=now)
    )
    return _rowcount(result)


# ---- the delivery worker's claims and leases


async def _claim(
    session: AsyncSession,
    where: ColumnElement[bool],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    worker: str,
) -> list[ClaimedDelivery]:
    if limit <= 0:
        return []
    due = (
        select(_t.c.id)
        .where(
            and_(
                _t.c.status == PENDING,
                _t.c.next_attempt_at <= now,
                or_(_t.c.leased_until.is_(None), _t.c.leased_until < now),
                where,
            )
        )
        .order_by(_t.c.next_attempt_at, _t.c.id)
        .limit(limit)
    )
    if _pg(session):
        due = due.with_for_update(skip_locked=True)
    ids = [r[0] for r in (await session.execute(due)).all()]
    if not ids:
        return []
    rows = await session.execute(
        update(_t)
        .where(_t.c.id.in_(ids))
        .values(leased_until=now + lease, leased_by=worker, attempts=_t.c.attempts + 1)
        .returning(*_t.c)
    )
    claimed = [cast(ClaimedDelivery, dict(r._mapping)) for r in rows]
    return sorted(claimed, key=lambda r: (r["next_attempt_at"], r["id"]))


async def claim_messages(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta, worker: str
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due inbox, email and SMS deliveries to `worker`."""
    return await _claim(
        session, _t.c.channel != Channel.WEBHOOK.value, now=now, limit=limit, lease=lease, worker=worker
    )


async def claim_webhooks(
    session: AsyncSession, *, subscription_id: int, now: datetime, limit: int, lease: timedelta, worker: str
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due webhook deliveries of one subscription to `worker`."""
    where = and_(_t.c.subscription_id == subscription_id, _t.c.channel == Channel.WEBHOOK.value)
    return await _claim(session, where, now=now, limit=limit, lease=lease, worker=worker)


async def renew_leases(
    session: AsyncSession, *, held: dict[int, int], worker: str, until: datetime
) -> set[int]:
    """Extend the leases `worker` still holds (id -> attempt number); returns the ids renewed.

    A row another worker has claimed since (its attempt number moved on) is not renewed.
    """
    if not held:
        return set()
    result = await session.execute(
        update(_t)
        .where(_t.c.id.in_(list(held)), _t.c.status == PENDING, _t.c.leased_by == worker)
        .values(leased_until=until)
        .returning(_t.c.id, _t.c.attempts)
    )
    return {r[0] for r in result.all() if held.get(r[0]) == r[1]}


async def release_leases(session: AsyncSession, *, ids: Sequence[int], worker: str) -> int:
    """Give back rows `worker` claimed but will not send (it is shutting down)."""
    if not ids:
        return 0
    result = await session.execute(
        update(_t)
        .where(_t.c.id.in_(list(ids)), _t.c.status == PENDING, _t.c.leased_by == worker)
        .values(leased_until=None, leased_by=None)
    )
    return _rowcount(result)

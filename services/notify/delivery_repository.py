"""The delivery worker's claim and lease queries.

A claim takes only what the worker sends at once: at most `limit` due rows, for webhooks of one
subscription at a time, so the process can keep every subscription under its in-flight limit.
Each claim stamps the row with the worker's id and a short lease; the worker's heartbeat renews
the leases of the rows it still holds, so a crashed worker's rows are free again one lease after
its last heartbeat. On PostgreSQL the due rows are selected ``FOR UPDATE SKIP LOCKED``: replicas
claiming at the same moment never take the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.models import Delivery

_t = Delivery.__table__  # type: ignore[attr-defined]


def _pg(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


async def _claim(
    session: AsyncSession, where: Any, *, now: datetime, limit: int, lease: timedelta, worker: str
) -> list[dict[str, Any]]:
    if limit <= 0:
        return []
    due = (
        select(_t.c.id)
        .where(
            and_(
                _t.c.status == "pending",
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
    return sorted((dict(r._mapping) for r in rows), key=lambda r: (r["next_attempt_at"], r["id"]))


async def claim_messages(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta, worker: str
) -> list[dict[str, Any]]:
    """Lease up to `limit` due inbox, email and SMS deliveries to `worker`."""
    return await _claim(session, _t.c.channel != "webhook", now=now, limit=limit, lease=lease, worker=worker)


async def claim_webhooks(
    session: AsyncSession, *, subscription_id: int, now: datetime, limit: int, lease: timedelta, worker: str
) -> list[dict[str, Any]]:
    """Lease up to `limit` due webhook deliveries of one subscription to `worker`."""
    where = and_(_t.c.subscription_id == subscription_id, _t.c.channel == "webhook")
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
        .where(_t.c.id.in_(list(held)), _t.c.status == "pending", _t.c.leased_by == worker)
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
        .where(_t.c.id.in_(list(ids)), _t.c.status == "pending", _t.c.leased_by == worker)
        .values(leased_until=None, leased_by=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Every query on notifications and in-app messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.notify.models import InboxMessage, Notification


async def get_notification(session: AsyncSession, notification_id: str) -> Notification | None:
    return await session.get(Notification, notification_id)


def add(session: AsyncSession, notification: Notification) -> None:
    session.add(notification)


async def notifications_data(session: AsyncSession, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Notification.id), col(Notification.data)).where(col(Notification.id).in_(list(set(ids))))
    )
    return {r[0]: r[1] for r in rows.all()}


# ---- inbox


async def insert_inbox_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(InboxMessage), rows)


async def get_inbox_message(session: AsyncSession, message_id: int) -> InboxMessage | None:
    return await session.get(InboxMessage, message_id)


async def list_inbox(
    session: AsyncSession, *, user_id: str, event_type: str | None, unread_only: bool, limit: int, offset: int
) -> tuple[list[InboxMessage], int]:
    where: list[ColumnElement[bool]] = [col(InboxMessage.user_id) == user_id]
    if event_type:
        where.append(col(InboxMessage.event_type) == event_type)
    if unread_only:
        where.append(col(InboxMessage.read_at).is_(None))
    total = (await session.execute(select(func.count()).select_from(InboxMessage).where(*where))).scalar_one()
    unread_first = case((col(InboxMessage.read_at).is_(None), 0), else_=1)
    rows = await session.execute(
        select(InboxMessage)
        .where(*where)
        .order_by(unread_first, col(InboxMessage.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total)


async def unread_count(session: AsyncSession, user_id: str) -> int:
    stmt = (
        select(func.count())
        .select_from(InboxMessage)
        .where(col(InboxMessage.user_id) == user_id, col(InboxMessage.read_at).is_(None))
    )
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(session: AsyncSession, *, user_id: str, now: datetime, message_id: int | None) -> int:
    stmt = update(InboxMessage).where(
        col(InboxMessage.user_id) == user_id, col(InboxMessage.read_at).is_(None)
    )
    if message_id is not None:
        stmt = stmt.where(col(InboxMessage.id) == message_id)
    result = await session.execute(stmt.values(read_at=now))
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def inbox_after(
    session: AsyncSession, *, user_id: str, after_id: int, limit: int = 200
) -> list[InboxMessage]:
    rows = await session.execute(
        select(InboxMessage)
        .where(col(InboxMessage.user_id) == user_id, col(InboxMessage.id) > after_id)
        .order_by(col(InboxMessage.id))
        .limit(limit)
    )
    return list(rows.scalars())


async def latest_inbox_id(session: AsyncSession, user_id: str) -> int:
    stmt = select(func.max(col(InboxMessage.id))).where(col(InboxMessage.user_id) == user_id)
    return int((await session.execute(stmt)).scalar_one() or 0)

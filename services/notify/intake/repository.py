"""Every query intake makes of its own: notifications written, idempotency keys stored and looked up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.notify.models import Notification, idempotency_key

StoredAnswer = tuple[str, int, Any]
"""(request hash, status, answer) stored under an idempotency key."""


async def insert_notifications(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Notification), rows)


async def insert_idempotency_keys(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(idempotency_key), rows)


async def stored_answers(session: AsyncSession, keys: Sequence[str]) -> dict[str, StoredAnswer]:
    """{key: (request hash, status, answer)} for those of `keys` already used."""
    if not keys:
        return {}
    t = idempotency_key
    rows = await session.execute(
        select(t.c.key, t.c.request_hash, t.c.status_code, t.c.response).where(t.c.key.in_(list(set(keys))))
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows.all()}


async def existing_notification_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """Those of `ids` already taken by a notification."""
    if not ids:
        return set()
    rows = await session.execute(select(col(Notification.id)).where(col(Notification.id).in_(list(set(ids)))))
    return {r[0] for r in rows.all()}

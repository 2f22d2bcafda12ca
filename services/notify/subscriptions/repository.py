"""Every query on webhook subscriptions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.notify.models import WebhookSubscription


def add(session: AsyncSession, sub: WebhookSubscription) -> None:
    session.add(sub)


async def delete(session: AsyncSession, sub: WebhookSubscription) -> None:
    await session.delete(sub)


async def get(session: AsyncSession, subscription_id: int) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


async def subscriptions(
    session: AsyncSession, *, enabled_only: bool = False, visible: ColumnElement[bool] | None = None
) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    if visible is not None:
        stmt = stmt.where(visible)
    if enabled_only:
        stmt = stmt.where(col(WebhookSubscription.enabled).is_(True))
    return list((await session.execute(stmt)).scalars())


async def subscriptions_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, WebhookSubscription]:
    if not ids:
        return {}
    rows = await session.execute(
        select(WebhookSubscription).where(col(WebhookSubscription.id).in_(list(set(ids))))
    )
    return {s.id: s for s in rows.scalars() if s.id is not None}

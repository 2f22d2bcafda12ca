"""Every query the gateway runs: its one table, the API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import ApiKey
from services.kit.pagination import PageParams


async def get_api_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def add_api_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def list_api_keys(
    session: AsyncSession, *, in_scope: ColumnElement[bool], include_revoked: bool, page: PageParams
) -> tuple[list[ApiKey], int]:
    """One page of the keys `in_scope` selects (oldest first) and how many there are in all."""
    where = [in_scope]
    if not include_revoked:
        where.append(col(ApiKey.revoked_at).is_(None))
    total = (await session.execute(select(func.count()).select_from(ApiKey).where(*where))).scalar_one()
    stmt = page.apply(select(ApiKey).where(*where).order_by(col(ApiKey.created_at), col(ApiKey.id)))
    rows = (await session.execute(stmt)).scalars()
    return list(rows), int(total)


async def mark_revoked(session: AsyncSession, key: ApiKey, *, now: datetime) -> ApiKey:
    """Revoke `key` unless it already is (the first revocation's time stays)."""
    if key.revoked_at is None:
        key.revoked_at = now
        session.add(key)
        await session.flush()
    return key


async def touch_api_key(session: AsyncSession, key_id: str, *, now: datetime) -> None:
    await session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now))

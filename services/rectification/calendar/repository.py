"""Every query on calendar feed tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rectification.models import CalendarToken


async def get_token(session: AsyncSession, user_id: str) -> CalendarToken | None:
    return await session.get(CalendarToken, user_id)


async def save_token(session: AsyncSession, token: CalendarToken) -> None:
    session.add(token)
    await session.flush()


async def token_owner(session: AsyncSession, token_hash: str) -> tuple[str, str] | None:
    """The (user id, scope) a feed token was issued to."""
    row = (
        await session.execute(
            select(col(CalendarToken.user_id), col(CalendarToken.scope)).where(
                col(CalendarToken.token_hash) == token_hash
            )
        )
    ).first()
    return None if row is None else (row.user_id, row.scope)

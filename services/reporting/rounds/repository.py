"""Every query rounds makes of its own (the facts themselves load through services.reporting.facts)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.reporting.models import ResultsVersion


async def published_rounds(session: AsyncSession) -> set[str]:
    rows = await session.execute(select(col(ResultsVersion.round_code)).distinct())
    return {r[0] for r in rows.all()}


async def newest_results_version(session: AsyncSession, code: str) -> int | None:
    found = await session.execute(
        select(func.max(col(ResultsVersion.version))).where(col(ResultsVersion.round_code) == code)
    )
    return found.scalar_one_or_none()

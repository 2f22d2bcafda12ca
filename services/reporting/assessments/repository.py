"""Every query on assessment weights."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.models import AssessmentWeights


async def get(session: AsyncSession, year: int, *, for_update: bool = False) -> AssessmentWeights | None:
    return await session.get(AssessmentWeights, year, with_for_update=for_update)


async def add(session: AsyncSession, row: AssessmentWeights) -> None:
    session.add(row)
    await session.flush()

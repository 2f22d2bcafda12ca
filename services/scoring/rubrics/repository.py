"""Every query on rubric versions and round bindings."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.pagination import PageParams
from services.scoring.enums import RubricStatus
from services.scoring.models import RoundRubric, Rubric
from services.scoring.sql import execute

# Rubric ids are INTEGER columns: a larger (still 64-bit) id names no rubric, and PostgreSQL would
# refuse to compare it at all.
INT32_MAX = 2**31 - 1


async def get_rubric(session: AsyncSession, rubric_id: int) -> Rubric | None:
    """The version with this id; None for an id no INTEGER column can hold."""
    if not 0 < rubric_id <= INT32_MAX:
        return None
    return await session.get(Rubric, rubric_id)


async def get_rubric_by_version(session: AsyncSession, version: str) -> Rubric | None:
    """The version with this name."""
    stmt = select(Rubric).where(col(Rubric.version) == version)
    return (await execute(session, stmt)).scalars().first()


async def default_rubric(session: AsyncSession) -> Rubric | None:
    """The published version new rounds bind."""
    stmt = select(Rubric).where(
        col(Rubric.is_default).is_(True), col(Rubric.status) == RubricStatus.PUBLISHED
    )
    return (await execute(session, stmt)).scalars().first()


async def list_rubrics(session: AsyncSession, *, page: PageParams) -> tuple[list[Rubric], int]:
    """A page of versions, oldest first, and how many there are."""
    total = int((await execute(session, select(func.count()).select_from(Rubric))).scalar_one())
    stmt = page.apply(select(Rubric).order_by(col(Rubric.id)))
    return list((await execute(session, stmt)).scalars().all()), total


async def clear_default_rubric(session: AsyncSession) -> None:
    """No version is the default any more (one is made it next)."""
    await execute(session, update(Rubric).where(col(Rubric.is_default).is_(True)).values(is_default=False))


async def get_round_rubric(session: AsyncSession, round_code: str) -> RoundRubric | None:
    """The round's binding, if any."""
    return await session.get(RoundRubric, round_code)

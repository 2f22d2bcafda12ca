"""Every query on published results: versions (only ever inserted) and what a round's sheets are at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.pagination import PageParams
from services.scoring.models import ResultsVersion, ScoreSheet
from services.scoring.sql import execute


async def latest_version(session: AsyncSession, round_code: str) -> ResultsVersion | None:
    """The round's latest published version, if any."""
    stmt = (
        select(ResultsVersion)
        .where(col(ResultsVersion.round_code) == round_code)
        .order_by(col(ResultsVersion.version).desc())
        .limit(1)
    )
    return (await execute(session, stmt)).scalars().first()


async def get_version(session: AsyncSession, round_code: str, version: int) -> ResultsVersion | None:
    """One published version of the round."""
    stmt = select(ResultsVersion).where(
        col(ResultsVersion.round_code) == round_code, col(ResultsVersion.version) == version
    )
    return (await execute(session, stmt)).scalars().first()


async def list_versions(
    session: AsyncSession, round_code: str, *, page: PageParams
) -> tuple[list[ResultsVersion], int]:
    """A page of the round's versions, oldest first, and how many there are (content is not read)."""
    where = col(ResultsVersion.round_code) == round_code
    total = int(
        (await execute(session, select(func.count()).select_from(ResultsVersion).where(where))).scalar_one()
    )
    query = select(ResultsVersion).options(defer(ResultsVersion.content)).where(where)  # type: ignore[arg-type]
    stmt = page.apply(query.order_by(col(ResultsVersion.version)))
    return list((await execute(session, stmt)).scalars().all()), total


async def round_sheet_states(session: AsyncSession, round_code: str) -> list[Any]:
    """(site_code, district, status) of every sheet of the round."""
    stmt = select(col(ScoreSheet.site_code), col(ScoreSheet.district), col(ScoreSheet.status)).where(
        col(ScoreSheet.round_code) == round_code
    )
    return list((await execute(session, stmt)).all())

"""Every query on special reports."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kit.pagination import PageParams
from services.reporting.models import SpecialReport


async def get(session: AsyncSession, report_id: int, *, for_update: bool = False) -> SpecialReport | None:
    stmt = select(SpecialReport).where(col(SpecialReport.id) == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, report: SpecialReport) -> SpecialReport:
    session.add(report)
    await session.flush()
    return report


async def list_for_round(
    session: AsyncSession, round_code: str, *, statuses: list[str] | None, page: PageParams
) -> tuple[list[SpecialReport], int]:
    where = [col(SpecialReport.round_code) == round_code]
    if statuses is not None:
        where.append(col(SpecialReport.status).in_(statuses))
    total = (
        await session.execute(select(func.count()).select_from(SpecialReport).where(*where))
    ).scalar_one()
    rows = (
        await session.execute(
            select(SpecialReport)
            .where(*where)
            .order_by(col(SpecialReport.id).desc())
            .limit(page.limit)
            .offset(page.offset)
        )
    ).scalars()
    return list(rows), int(total)


async def holder_of(session: AsyncSession, *, issuer: str, year: int, seq: int) -> SpecialReport | None:
    """The report already issued under this document number, if any."""
    return (
        await session.execute(
            select(SpecialReport).where(
                col(SpecialReport.issuer) == issuer,
                col(SpecialReport.doc_year) == year,
                col(SpecialReport.doc_seq) == seq,
            )
        )
    ).scalar_one_or_none()


async def issued_for_round(session: AsyncSession, round_code: str) -> SpecialReport | None:
    return (
        await session.execute(
            select(SpecialReport)
            .where(col(SpecialReport.round_code) == round_code, col(SpecialReport.status) == "issued")
            .limit(1)
        )
    ).scalar_one_or_none()

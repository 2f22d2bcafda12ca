"""Every query behind a round's results: light sheet rows, grouped sums, SQL-ranked sites, item statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.scoring.models import ItemScore, ScoreSheet
from services.scoring.sql import execute

SHEET_RESULT_COLUMNS = (
    col(ScoreSheet.id),
    col(ScoreSheet.site_code),
    col(ScoreSheet.site_name),
    col(ScoreSheet.site_type),
    col(ScoreSheet.org_unit),
    col(ScoreSheet.district),
    col(ScoreSheet.status),
    col(ScoreSheet.score),
    col(ScoreSheet.grade),
    col(ScoreSheet.veto_items),
    col(ScoreSheet.section_scores),
    col(ScoreSheet.rubric_id),
    col(ScoreSheet.content_sha256),
)


async def result_rows(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str], site_type: str | None = None
) -> list[Any]:
    """The scored sheets of a round: one light row each (no items), for rankings."""
    stmt = select(*SHEET_RESULT_COLUMNS).where(
        col(ScoreSheet.round_code) == round_code, col(ScoreSheet.status).in_(statuses)
    )
    if site_type:
        stmt = stmt.where(col(ScoreSheet.site_type) == site_type)
    return list((await execute(session, stmt)).all())


async def district_aggregates(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str]
) -> list[Any]:
    """Per district, site type and status: how many scored sheets and their scores' sum in integer cents.

    Summing cents keeps the mean exact on both databases (SQLite has no decimal type).
    """
    district, site_type, status = col(ScoreSheet.district), col(ScoreSheet.site_type), col(ScoreSheet.status)
    cents = func.sum(cast(func.round(col(ScoreSheet.score) * 100), Integer))
    stmt = (
        select(district, site_type, status, func.count().label("n"), cents.label("cents"))
        .where(
            col(ScoreSheet.round_code) == round_code, status.in_(statuses), col(ScoreSheet.score).is_not(None)
        )
        .group_by(district, site_type, status)
    )
    return list((await execute(session, stmt)).all())


async def sheets_of_types(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str], site_types: Sequence[str]
) -> list[Any]:
    """The light result rows of a round's sheets of the given types (the districts' own sheets)."""
    stmt = select(*SHEET_RESULT_COLUMNS).where(
        col(ScoreSheet.round_code) == round_code,
        col(ScoreSheet.status).in_(statuses),
        col(ScoreSheet.site_type).in_(site_types),
    )
    return list((await execute(session, stmt)).all())


async def district_names(
    session: AsyncSession, *, round_code: str, site_types: Sequence[str]
) -> dict[str, str]:
    """Each district's Chinese name (慈溪市 for cixi): the site name of its own sheet in the round, whatever
    the sheet's status (the district's own site is a district or zone of sampling's directory)."""
    stmt = select(col(ScoreSheet.district), col(ScoreSheet.site_name)).where(
        col(ScoreSheet.round_code) == round_code, col(ScoreSheet.site_type).in_(site_types)
    )
    rows: list[Any] = list((await execute(session, stmt)).all())
    return {str(r[0]): str(r[1]) for r in rows if r[0] and r[1]}


async def round_districts(session: AsyncSession, *, round_code: str) -> list[str]:
    """Every district with a sheet of the round, whatever its status (so none drops out of the ranking)."""
    district = col(ScoreSheet.district)
    stmt = select(district).where(col(ScoreSheet.round_code) == round_code).group_by(district)
    return [d for d in (await execute(session, stmt)).scalars().all() if d]


async def ranked_sites(
    session: AsyncSession,
    *,
    round_code: str,
    statuses: Sequence[str],
    site_type: str,
    reader: Principal,
    limit: int | None,
    offset: int,
) -> tuple[list[Any], int]:
    """Scored sheets of one type, best first, with their competition rank among all of that type in the round."""
    score = col(ScoreSheet.score)
    # A vetoed sheet (veto_items not empty) ranks after every sheet without a veto.
    vetoed = case((cast(col(ScoreSheet.veto_items), String) != "[]", 1), else_=0)
    rank = func.rank().over(order_by=(vetoed, score.desc())).label("rank")
    inner = (
        select(*SHEET_RESULT_COLUMNS, rank)
        .where(
            col(ScoreSheet.round_code) == round_code,
            col(ScoreSheet.status).in_(statuses),
            col(ScoreSheet.site_type) == site_type,
            score.is_not(None),
        )
        .subquery()
    )
    conds: list[Any] = [reader.scope_filter(inner.c.org_unit)]
    total = int((await execute(session, select(func.count()).select_from(inner).where(*conds))).scalar_one())
    stmt = select(inner).where(*conds).order_by(inner.c.rank, inner.c.site_code).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await execute(session, stmt)).all()), total


async def rounds_with_sheets(
    session: AsyncSession, *, statuses: Sequence[str], reader: Principal
) -> list[str]:
    """Rounds with sheets of these statuses inside `reader`'s scope."""
    code = col(ScoreSheet.round_code)
    stmt = (
        select(code)
        .where(col(ScoreSheet.status).in_(statuses), reader.scope_filter(col(ScoreSheet.org_unit)))
        .group_by(code)
        .order_by(code)
    )
    return list((await execute(session, stmt)).scalars().all())


async def item_statistics(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str], reader: Principal
) -> list[Any]:
    """Per item, over the sheets inside `reader`'s scope: sheets scoring it, sheets marking it not
    applicable, sheets with a deduction, deductions, findings, points lost, mean points."""
    code, section = col(ItemScore.item_code), col(ItemScore.section_code)
    max_points, points = col(ItemScore.max_points), col(ItemScore.points)
    deductions, findings = col(ItemScore.deduction_count), col(ItemScore.finding_count)
    # An item marked 不适用 at a site is not scored there: it counts apart, never as a sheet scoring it
    # (its points are null, so the mean and the points lost leave it out by themselves).
    na = col(ItemScore.not_applicable)
    stmt = (
        select(
            code,
            section,
            func.max(max_points).label("max_points"),
            func.sum(case((na, 0), else_=1)).label("sheets"),
            func.sum(case((na, 1), else_=0)).label("not_applicable"),
            func.sum(case((deductions > 0, 1), else_=0)).label("sheets_with_deductions"),
            func.sum(deductions).label("deductions"),
            func.sum(findings).label("findings"),
            func.sum(max_points - func.coalesce(points, max_points)).label("points_lost"),
            func.avg(points).label("mean_points"),
        )
        .join(ScoreSheet, col(ScoreSheet.id) == col(ItemScore.sheet_id))
        .where(
            col(ScoreSheet.round_code) == round_code,
            col(ScoreSheet.status).in_(statuses),
            reader.scope_filter(col(ScoreSheet.org_unit)),
        )
        .group_by(code, section)
    )
    return list((await execute(session, stmt)).all())

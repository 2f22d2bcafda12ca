"""Every query scoring runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, case, cast, func, insert, select, update
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.scoring.models import (
    ItemScore,
    ResultsPublication,
    RoundRubric,
    Rubric,
    ScoreSheet,
    SheetFinding,
    SheetHistory,
)


async def _execute(session: AsyncSession, stmt: Any, params: Any = None) -> Result[Any]:
    # SQLModel deprecates execute() in favour of exec(); the plain SQLAlchemy call reads the same rows.
    return await SAAsyncSession.execute(session, stmt, params)


# --- rubrics -------------------------------------------------------------------------------------


# Rubric ids are INTEGER columns: a larger (still 64-bit) id names no rubric, and PostgreSQL would
# refuse to compare it at all.
INT32_MAX = 2**31 - 1


async def get_rubric(session: AsyncSession, rubric_id: int) -> Rubric | None:
    if not 0 < rubric_id <= INT32_MAX:
        return None
    return await session.get(Rubric, rubric_id)


async def get_rubric_by_version(session: AsyncSession, version: str) -> Rubric | None:
    stmt = select(Rubric).where(Rubric.version == version)  # type: ignore[arg-type]
    return (await _execute(session, stmt)).scalars().first()


async def default_rubric(session: AsyncSession) -> Rubric | None:
    stmt = select(Rubric).where(Rubric.is_default == True, Rubric.status == "published")  # type: ignore[arg-type] # noqa: E712
    return (await _execute(session, stmt)).scalars().first()


async def list_rubrics(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[Rubric], int]:
    total = int((await _execute(session, select(func.count()).select_from(Rubric))).scalar_one())
    stmt = select(Rubric).order_by(Rubric.id).limit(limit).offset(offset)  # type: ignore[arg-type]
    return list((await _execute(session, stmt)).scalars().all()), total


async def clear_default_rubric(session: AsyncSession) -> None:
    await _execute(session, update(Rubric).where(Rubric.is_default == True).values(is_default=False))  # type: ignore[arg-type] # noqa: E712


async def get_round_rubric(session: AsyncSession, round_code: str) -> RoundRubric | None:
    return await session.get(RoundRubric, round_code)


async def count_round_sheets(session: AsyncSession, round_code: str, *, status: str | None = None) -> int:
    stmt = select(func.count()).select_from(ScoreSheet).where(col(ScoreSheet.round_code) == round_code)
    if status is not None:
        stmt = stmt.where(col(ScoreSheet.status) == status)
    return int((await _execute(session, stmt)).scalar_one())


# --- sheets --------------------------------------------------------------------------------------


async def get_sheet(session: AsyncSession, sheet_id: str, *, for_update: bool = False) -> ScoreSheet | None:
    if for_update:
        stmt = select(ScoreSheet).where(ScoreSheet.id == sheet_id).with_for_update()  # type: ignore[arg-type]
        return (await _execute(session, stmt)).scalars().first()
    return await session.get(ScoreSheet, sheet_id)


async def find_sheet(session: AsyncSession, *, round_code: str, site_code: str) -> ScoreSheet | None:
    stmt = select(ScoreSheet).where(ScoreSheet.round_code == round_code, ScoreSheet.site_code == site_code)  # type: ignore[arg-type]
    return (await _execute(session, stmt)).scalars().first()


async def sheet_items(session: AsyncSession, sheet_id: str) -> list[ItemScore]:
    stmt = select(ItemScore).where(ItemScore.sheet_id == sheet_id).order_by(ItemScore.id)  # type: ignore[arg-type]
    return list((await _execute(session, stmt)).scalars().all())


async def list_sheets(
    session: AsyncSession,
    *,
    round_code: str,
    status: str | None,
    district: str | None,
    site_type: str | None,
    reader: Principal | None,
    team_user: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ScoreSheet], int]:
    """A round's sheets inside `reader`'s scope, or of `team_user`'s team, or either; none when both are None."""
    if reader is None and team_user is None:
        return [], 0
    conds: list[Any] = [col(ScoreSheet.round_code) == round_code]
    if status:
        conds.append(col(ScoreSheet.status) == status)
    if district:
        conds.append(col(ScoreSheet.district) == district)
    if site_type:
        conds.append(col(ScoreSheet.site_type) == site_type)
    if team_user is None:
        assert reader is not None
        conds.append(reader.scope_filter(col(ScoreSheet.org_unit)))
    base = select(ScoreSheet).where(*conds)
    if team_user is not None:
        # Team snapshots are small JSON lists; filtered here rather than with dialect-specific JSON operators.
        rows = [
            s
            for s in (await _execute(session, base.order_by(col(ScoreSheet.site_code)))).scalars().all()
            if team_user in {s.team_leader_user_id, *s.team_member_ids}
            or (reader is not None and reader.covers(s.org_unit))
        ]
        return rows[offset : offset + limit], len(rows)
    total = int((await _execute(session, select(func.count()).select_from(base.subquery()))).scalar_one())
    stmt = base.order_by(col(ScoreSheet.site_code)).limit(limit).offset(offset)
    return list((await _execute(session, stmt)).scalars().all()), total


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows into a model's table (Core: no ORM objects built)."""
    if rows:
        await _execute(session, insert(model.__table__), rows) if len(rows) > 1 else await _execute(
            session, insert(model.__table__).values(**rows[0])
        )


async def sheet_history(session: AsyncSession, sheet_id: str) -> list[SheetHistory]:
    stmt = select(SheetHistory).where(SheetHistory.sheet_id == sheet_id).order_by(SheetHistory.id)  # type: ignore[arg-type]
    return list((await _execute(session, stmt)).scalars().all())


async def sent_finding_ids(session: AsyncSession, sheet_id: str) -> set[str]:
    stmt = select(SheetFinding.finding_id).where(SheetFinding.sheet_id == sheet_id)  # type: ignore[call-overload]
    return set((await _execute(session, stmt)).scalars().all())


# --- results -------------------------------------------------------------------------------------

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
    return list((await _execute(session, stmt)).all())


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
    return list((await _execute(session, stmt)).all())


async def sheets_of_types(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str], site_types: Sequence[str]
) -> list[Any]:
    """The light result rows of a round's sheets of the given types (the districts' own sheets)."""
    stmt = select(*SHEET_RESULT_COLUMNS).where(
        col(ScoreSheet.round_code) == round_code,
        col(ScoreSheet.status).in_(statuses),
        col(ScoreSheet.site_type).in_(site_types),
    )
    return list((await _execute(session, stmt)).all())


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
    rank = func.rank().over(order_by=score.desc()).label("rank")
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
    total = int((await _execute(session, select(func.count()).select_from(inner).where(*conds))).scalar_one())
    stmt = select(inner).where(*conds).order_by(inner.c.rank, inner.c.site_code).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await _execute(session, stmt)).all()), total


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
    return list((await _execute(session, stmt)).scalars().all())


async def item_statistics(
    session: AsyncSession, *, round_code: str, statuses: Sequence[str], reader: Principal
) -> list[Any]:
    """Per item, over the sheets inside `reader`'s scope: sheets, sheets with a deduction, deductions,
    findings, points lost, mean points."""
    code, section = col(ItemScore.item_code), col(ItemScore.section_code)
    max_points, points = col(ItemScore.max_points), col(ItemScore.points)
    deductions, findings = col(ItemScore.deduction_count), col(ItemScore.finding_count)
    stmt = (
        select(
            code,
            section,
            func.max(max_points).label("max_points"),
            func.count().label("sheets"),
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
    return list((await _execute(session, stmt)).all())


async def latest_publication(session: AsyncSession, round_code: str) -> ResultsPublication | None:
    stmt = (
        select(ResultsPublication)
        .where(ResultsPublication.round_code == round_code)  # type: ignore[arg-type]
        .order_by(ResultsPublication.id.desc())  # type: ignore[union-attr]
    )
    return (await _execute(session, stmt)).scalars().first()

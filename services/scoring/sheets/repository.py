"""Every query on score sheets, their items, history and findings handed over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.pagination import PageParams, Sort, apply_sort
from services.scoring.models import ItemScore, ScoreSheet, SheetFinding, SheetHistory
from services.scoring.sheets.schemas import SheetFilter
from services.scoring.sql import execute, insert_rows

__all__ = ["insert_rows"]

SORTABLE: dict[str, Any] = {  # keyed by SHEET_SORT_FIELDS
    "site_code": col(ScoreSheet.site_code),
    "site_name": col(ScoreSheet.site_name),
    "status": col(ScoreSheet.status),
    # NULL sorts first on SQLite and last on PostgreSQL: an unscored sheet counts as -1 on both.
    "score": func.coalesce(col(ScoreSheet.score), -1),
    "updated_at": col(ScoreSheet.updated_at),
}


@dataclass(frozen=True)
class SheetVisibility:
    """Whose sheets a list may hold: inside `reader`'s scope, of `team_user`'s team, or either."""

    reader: Principal | None
    team_user: str | None


async def get_sheet(session: AsyncSession, sheet_id: str, *, for_update: bool = False) -> ScoreSheet | None:
    """The sheet, optionally row-locked until the transaction ends."""
    if for_update:
        stmt = select(ScoreSheet).where(col(ScoreSheet.id) == sheet_id).with_for_update()
        return (await execute(session, stmt)).scalars().first()
    return await session.get(ScoreSheet, sheet_id)


async def find_sheet(session: AsyncSession, *, round_code: str, site_code: str) -> ScoreSheet | None:
    """The round's sheet of a site, if opened."""
    stmt = select(ScoreSheet).where(
        col(ScoreSheet.round_code) == round_code, col(ScoreSheet.site_code) == site_code
    )
    return (await execute(session, stmt)).scalars().first()


async def find_sheets(session: AsyncSession, *, round_code: str, site_codes: list[str]) -> list[ScoreSheet]:
    """The round's sheets of these sites, those that are opened."""
    if not site_codes:
        return []
    stmt = select(ScoreSheet).where(
        col(ScoreSheet.round_code) == round_code, col(ScoreSheet.site_code).in_(site_codes)
    )
    return list((await execute(session, stmt)).scalars().all())


async def sheet_items(session: AsyncSession, sheet_id: str) -> list[ItemScore]:
    """The sheet's item rows in rubric order."""
    stmt = select(ItemScore).where(col(ItemScore.sheet_id) == sheet_id).order_by(col(ItemScore.id))
    return list((await execute(session, stmt)).scalars().all())


async def count_round_sheets(session: AsyncSession, round_code: str, *, status: str | None = None) -> int:
    """How many sheets the round has (of one status when given)."""
    stmt = select(func.count()).select_from(ScoreSheet).where(col(ScoreSheet.round_code) == round_code)
    if status is not None:
        stmt = stmt.where(col(ScoreSheet.status) == status)
    return int((await execute(session, stmt)).scalar_one())


async def list_sheets(
    session: AsyncSession, *, where: SheetFilter, visible: SheetVisibility, sort: Sort, page: PageParams
) -> tuple[list[ScoreSheet], int]:
    """The sheets matching `where` that `visible` allows; none when it allows neither scope nor team."""
    reader, team_user = visible.reader, visible.team_user
    if reader is None and team_user is None:
        return [], 0
    conds: list[Any] = [col(ScoreSheet.round_code) == where.round_code]
    for column, value in (
        (ScoreSheet.status, where.status),
        (ScoreSheet.district, where.district),
        (ScoreSheet.site_type, where.site_type),
        (ScoreSheet.site_code, where.site_code),
        (ScoreSheet.team_id, where.team_id),
    ):
        if value:
            conds.append(col(column) == value)
    if team_user is None:
        assert reader is not None
        conds.append(reader.scope_filter(col(ScoreSheet.org_unit)))
    base = select(ScoreSheet).where(*conds)
    ordered = apply_sort(base, sort, SORTABLE, tiebreak=col(ScoreSheet.id))
    if team_user is not None:
        # Team snapshots are small JSON lists; filtered here rather than with dialect-specific JSON operators.
        rows = [
            s
            for s in (await execute(session, ordered)).scalars().all()
            if team_user in {s.team_leader_user_id, *s.team_member_ids}
            or (reader is not None and reader.covers(s.org_unit))
        ]
        return rows[page.offset : page.offset + page.limit], len(rows)
    total = int((await execute(session, select(func.count()).select_from(base.subquery()))).scalar_one())
    return list((await execute(session, page.apply(ordered))).scalars().all()), total


async def sheet_history(
    session: AsyncSession, sheet_id: str, *, page: PageParams
) -> tuple[list[SheetHistory], int]:
    """A page of a sheet's history, oldest first, and how many entries it has."""
    where = col(SheetHistory.sheet_id) == sheet_id
    total = int(
        (await execute(session, select(func.count()).select_from(SheetHistory).where(where))).scalar_one()
    )
    stmt = page.apply(select(SheetHistory).where(where).order_by(col(SheetHistory.id)))
    return list((await execute(session, stmt)).scalars().all()), total


async def sent_finding_ids(session: AsyncSession, sheet_id: str) -> set[str]:
    """The findings of the sheet already handed to rectification."""
    stmt = select(col(SheetFinding.finding_id)).where(col(SheetFinding.sheet_id) == sheet_id)
    return set((await execute(session, stmt)).scalars().all())

"""Every query on countdown templates, the holiday calendar and the durable timers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rectification.enums import TimerStatus
from services.rectification.models import (
    CalendarYear,
    ScheduleTemplate,
    Timer,
    milestone_table,
    problem_table,
    timer_table,
)

T = timer_table.c
M = milestone_table.c
# Everything an event needs (not the JSON evidence and template, which cost a decode per row).
PROBLEM_COLUMNS = [c for c in problem_table.c if c.name not in ("evidence", "template")]


# --- countdown templates and the holiday calendar --------------------------------------------


async def templates(session: AsyncSession) -> dict[str, ScheduleTemplate]:
    """The templates a city admin set, by severity."""
    return {t.severity: t for t in (await session.execute(select(ScheduleTemplate))).scalars()}


async def get_template(session: AsyncSession, severity: str) -> ScheduleTemplate | None:
    return await session.get(ScheduleTemplate, severity)


async def calendar_years(session: AsyncSession) -> list[CalendarYear]:
    return list((await session.execute(select(CalendarYear))).scalars())


async def get_calendar_year(session: AsyncSession, year: int) -> CalendarYear | None:
    return await session.get(CalendarYear, year)


async def save(session: AsyncSession, row: ScheduleTemplate | CalendarYear) -> None:
    """Insert or update a template or a calendar year."""
    session.add(row)
    await session.flush()


# --- timers ----------------------------------------------------------------------------------


async def cancel_pending_timers(session: AsyncSession, problem_id: int) -> int:
    result = await session.execute(
        update(timer_table)
        .where(T.problem_id == problem_id, T.status == TimerStatus.PENDING)
        .values(status=TimerStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def insert_timers(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(timer_table), list(rows))


async def pending_timers(session: AsyncSession, problem_id: int) -> list[Timer]:
    stmt = (
        select(Timer)
        .where(T.problem_id == problem_id, T.status == TimerStatus.PENDING)
        .order_by(T.fire_at, T.id)
    )
    return list((await session.execute(stmt)).scalars())


def claim_statement(session: AsyncSession, *, now: datetime, batch_size: int) -> Any:
    """UPDATE … RETURNING over the due rows; reads only the partial index of pending timers.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas never claim the same row (SQLite has a
    single writer).
    """
    due = (
        select(T.id)
        .where(T.status == TimerStatus.PENDING, T.fire_at <= now)
        .order_by(T.fire_at)
        .limit(batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(timer_table)
        .where(T.id.in_(due.scalar_subquery()))
        .values(status=TimerStatus.FIRED, fired_at=now)
        .returning(
            T.id, T.problem_id, T.kind, T.milestone, T.offset_days, T.sequence, T.fire_at, T.state_version
        )
    )


async def claim_due_timers(session: AsyncSession, *, now: datetime, batch_size: int) -> Sequence[Row[Any]]:
    """Mark up to `batch_size` due timers fired and return them (locked until the transaction ends)."""
    return (await session.execute(claim_statement(session, now=now, batch_size=batch_size))).all()


async def problem_rows(session: AsyncSession, problem_ids: Collection[int]) -> dict[int, Row[Any]]:
    """Plain rows (not ORM objects: this is the hot path of a 20,000-timer burst), by id."""
    stmt = select(*PROBLEM_COLUMNS).where(problem_table.c.id.in_(problem_ids))
    return {r.id: r for r in (await session.execute(stmt)).all()}


async def open_milestone_dues(
    session: AsyncSession, problem_ids: Collection[int]
) -> dict[tuple[int, str], datetime]:
    """When each milestone not yet met is due, by (problem id, kind)."""
    stmt = select(M.problem_id, M.kind, M.due_at).where(M.problem_id.in_(problem_ids), M.done_at.is_(None))
    return {(r.problem_id, r.kind): r.due_at for r in await session.execute(stmt)}


async def skip_timers(session: AsyncSession, timer_ids: Collection[int]) -> None:
    if timer_ids:
        await session.execute(
            update(timer_table).where(T.id.in_(timer_ids)).values(status=TimerStatus.SKIPPED)
        )

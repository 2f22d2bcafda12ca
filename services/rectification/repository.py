"""Every query rectification runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, false, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.rectification.models import (
    CalendarToken,
    CalendarYear,
    ExtensionRequest,
    Milestone,
    Problem,
    ProblemHistory,
    ScheduleTemplate,
    Timer,
    milestone_table,
    problem_table,
    timer_table,
)

ACTIVE = ("open", "in_progress", "returned")
P = problem_table.c
T = timer_table.c


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


async def get_problem(session: AsyncSession, problem_id: int, *, for_update: bool = False) -> Problem | None:
    stmt = select(Problem).where(P.id == problem_id)
    if for_update and _is_postgres(session):
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def get_problem_by_source(session: AsyncSession, source_event_id: str) -> Problem | None:
    return (
        (await session.execute(select(Problem).where(P.source_event_id == source_event_id))).scalars().first()
    )


async def milestones_of(session: AsyncSession, problem_ids: Sequence[int]) -> dict[int, list[Milestone]]:
    out: dict[int, list[Milestone]] = {pid: [] for pid in problem_ids}
    if not problem_ids:
        return out
    M = milestone_table.c
    rows = (
        await session.execute(
            select(Milestone).where(M.problem_id.in_(problem_ids)).order_by(M.problem_id, M.position)
        )
    ).scalars()
    for m in rows:
        out[m.problem_id].append(m)
    return out


async def history_of(session: AsyncSession, problem_id: int) -> list[ProblemHistory]:
    H = ProblemHistory.__table__.c  # type: ignore[attr-defined]
    stmt = select(ProblemHistory).where(H.problem_id == problem_id).order_by(H.id)
    return list((await session.execute(stmt)).scalars())


@dataclass
class Visibility:
    """What one caller may see (decided in access.py): always inside its scope, then by role."""

    principal: Principal
    all_in_scope: bool = False
    own_person_id: str | None = None
    issued_by: str | None = None


@dataclass
class ProblemFilter:
    district: str | None = None
    site_code: str | None = None
    category: str | None = None
    severity: str | None = None
    status: str | None = None
    responsible_person_id: str | None = None
    round_code: str | None = None
    light_range: tuple[datetime | None, datetime | None] | None = None
    # Who is looking; None only for the service's own internal queries.
    visible: Visibility | None = None


def visible_clause(v: Visibility) -> ColumnElement[bool]:
    """SQL for :class:`Visibility`: the site inside the scope (escaped prefix match), then the role's rows."""
    on_site = v.principal.scope_filter(P.org_unit)
    clauses: list[ColumnElement[bool]] = []
    if v.all_in_scope:
        clauses.append(on_site)
    if v.own_person_id:
        clauses.append(
            and_(
                P.responsible_person_id == v.own_person_id,
                or_(on_site, v.principal.scope_filter(P.responsible_unit)),
            )
        )
    if v.issued_by:
        clauses.append(and_(P.issued_by == v.issued_by, on_site))
    return or_(*clauses) if clauses else false()


def _visibility(f: ProblemFilter) -> ColumnElement[bool] | None:
    return None if f.visible is None else visible_clause(f.visible)


def _where(f: ProblemFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for col, value in (
        (P.district, f.district),
        (P.site_code, f.site_code),
        (P.category, f.category),
        (P.severity, f.severity),
        (P.status, f.status),
        (P.responsible_person_id, f.responsible_person_id),
        (P.round_code, f.round_code),
    ):
        if value is not None:
            where.append(col == value)
    if f.light_range is not None:
        low, high = f.light_range
        where.append(P.light_due_at.is_not(None))
        if low is not None:
            where.append(P.light_due_at >= low)
        if high is not None:
            where.append(P.light_due_at < high)
    vis = _visibility(f)
    if vis is not None:
        where.append(vis)
    return where


async def list_problems(
    session: AsyncSession, f: ProblemFilter, *, limit: int, offset: int, by_urgency: bool = False
) -> tuple[list[Problem], int]:
    where = _where(f)
    total = (await session.execute(select(func.count()).select_from(Problem).where(*where))).scalar_one()
    order = [P.light_due_at.is_(None), P.light_due_at, P.id] if by_urgency else [P.id.desc()]
    stmt = select(Problem).where(*where).order_by(*order).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars()), int(total)


def add_history(
    session: AsyncSession,
    *,
    problem: Problem,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    assert problem.id is not None
    session.add(
        ProblemHistory(
            problem_id=problem.id,
            at=at,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            detail=detail or {},
        )
    )


async def cancel_pending_timers(session: AsyncSession, problem_id: int) -> int:
    result = await session.execute(
        update(timer_table)
        .where(T.problem_id == problem_id, T.status == "pending")
        .values(status="cancelled")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def insert_timers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(timer_table), rows)


async def pending_timers(session: AsyncSession, problem_id: int) -> list[Timer]:
    stmt = select(Timer).where(T.problem_id == problem_id, T.status == "pending").order_by(T.fire_at, T.id)
    return list((await session.execute(stmt)).scalars())


async def templates(session: AsyncSession) -> dict[str, ScheduleTemplate]:
    return {t.severity: t for t in (await session.execute(select(ScheduleTemplate))).scalars()}


async def calendar_years(session: AsyncSession) -> list[CalendarYear]:
    return list((await session.execute(select(CalendarYear))).scalars())


async def provisional_open_problems(session: AsyncSession) -> list[Problem]:
    stmt = select(Problem).where(P.provisional.is_(True), P.status != "closed")
    return list((await session.execute(stmt)).scalars())


async def extensions_of(session: AsyncSession, problem_id: int) -> list[ExtensionRequest]:
    E = ExtensionRequest.__table__.c  # type: ignore[attr-defined]
    stmt = select(ExtensionRequest).where(E.problem_id == problem_id).order_by(E.id)
    return list((await session.execute(stmt)).scalars())


async def get_extension(session: AsyncSession, problem_id: int, extension_id: int) -> ExtensionRequest | None:
    ext = await session.get(ExtensionRequest, extension_id)
    return ext if ext is not None and ext.problem_id == problem_id else None


def _days_between(session: AsyncSession, later: Any, earlier: Any) -> Any:
    if _is_postgres(session):
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


async def district_stats_rows(
    session: AsyncSession, f: ProblemFilter, *, now: datetime
) -> list[dict[str, Any]]:
    """Counts per (district, category, severity) in one grouped query."""
    overdue = and_(P.status.in_(ACTIVE), P.deadline_at < now)
    closed = P.status == "closed"
    stmt = (
        select(
            P.district,
            P.category,
            P.severity,
            func.sum(case((P.status != "closed", 1), else_=0)).label("open"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
            func.sum(case((and_(closed, P.closed_on_time.is_(True)), 1), else_=0)).label("closed_on_time"),
            func.sum(case((and_(closed, P.closed_on_time.is_(False)), 1), else_=0)).label("closed_late"),
            func.sum(
                case((closed, cast(_days_between(session, P.closed_at, P.created_at), Float)), else_=0.0)
            ).label("close_days"),
        )
        .where(*_where(f))
        .group_by(P.district, P.category, P.severity)
        .order_by(P.district)
    )
    return [dict(r._mapping) for r in (await session.execute(stmt)).all()]


async def overdue_problems(
    session: AsyncSession, f: ProblemFilter, *, now: datetime, limit: int, offset: int
) -> tuple[list[Problem], int]:
    where = [*_where(f), P.status.in_(ACTIVE), P.deadline_at < now]
    total = (await session.execute(select(func.count()).select_from(Problem).where(*where))).scalar_one()
    stmt = select(Problem).where(*where).order_by(P.district, P.deadline_at, P.id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars()), int(total)


async def follow_up_sites(
    session: AsyncSession, *, now: datetime, round_code: str | None, district: str | None, visible: Visibility
) -> list[dict[str, Any]]:
    where = [P.status.in_(ACTIVE), P.deadline_at < now, visible_clause(visible)]
    if round_code:
        where.append(P.round_code == round_code)
    if district:
        where.append(P.district == district)
    stmt = (
        select(P.site_code, P.district, func.count().label("overdue_count"))
        .where(*where)
        .group_by(P.site_code, P.district)
        .order_by(func.count().desc(), P.site_code)
    )
    return [dict(r._mapping) for r in (await session.execute(stmt)).all()]


async def token_owner(session: AsyncSession, token_hash: str) -> tuple[str, str] | None:
    """The (user id, scope) a feed token was issued to."""
    C = CalendarToken.__table__.c  # type: ignore[attr-defined]
    row = (await session.execute(select(C.user_id, C.scope).where(C.token_hash == token_hash))).first()
    return None if row is None else (row.user_id, row.scope)


async def open_problems_of_person(session: AsyncSession, v: Visibility) -> list[Problem]:
    """The open problems `v`'s person is responsible for, inside the scope the feed was issued for."""
    stmt = (
        select(Problem)
        .where(P.responsible_person_id == v.own_person_id, P.status != "closed", visible_clause(v))
        .order_by(P.deadline_at)
    )
    return list((await session.execute(stmt)).scalars())

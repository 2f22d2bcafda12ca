"""Every query on problems, their milestones and their history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Row, and_, case, cast, delete, false, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.pagination import PageParams, Sort, apply_sort, contains
from services.rectification.enums import ACTIVE, TERMINAL, VOID, Status
from services.rectification.models import Milestone, Problem, ProblemHistory, milestone_table, problem_table
from services.rectification.problems.filters import SORT_FIELDS, ProblemFilter, Visibility

P = problem_table.c


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# The columns of the fields a problem list may be sorted by (``?sort=``).
SORT_COLUMNS = {
    "id": P.id,
    "created_at": P.created_at,
    "deadline_at": P.deadline_at,
    "light_due_at": P.light_due_at,
    "district": P.district,
    "severity": P.severity,
    "status": P.status,
}
assert tuple(SORT_COLUMNS) == SORT_FIELDS


async def get_problem(session: AsyncSession, problem_id: int, *, for_update: bool = False) -> Problem | None:
    stmt = select(Problem).where(P.id == problem_id)
    if for_update and _is_postgres(session):
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def get_problems(
    session: AsyncSession, problem_ids: Sequence[int], *, for_update: bool = False
) -> dict[int, Problem]:
    """The problems with these ids that exist, by id; a write locks them in id order (two batches
    naming the same problems queue up instead of deadlocking)."""
    if not problem_ids:
        return {}
    stmt = select(Problem).where(P.id.in_(sorted(set(problem_ids)))).order_by(P.id)
    if for_update and _is_postgres(session):
        stmt = stmt.with_for_update()
    return {p.id: p for p in (await session.execute(stmt)).scalars().all() if p.id is not None}


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


async def merged_from_of(session: AsyncSession, problem_ids: Sequence[int]) -> dict[int, list[int]]:
    """The problems merged into each of `problem_ids`, by id."""
    out: dict[int, list[int]] = {pid: [] for pid in problem_ids}
    if not problem_ids:
        return out
    stmt = select(P.merged_into_id, P.id).where(P.merged_into_id.in_(problem_ids)).order_by(P.id)
    for into, pid in (await session.execute(stmt)).all():
        out[into].append(pid)
    return out


async def get_problem_by_finding(session: AsyncSession, sheet_id: str, finding_id: str) -> Problem | None:
    """The problem a finding of a score sheet became, if any."""
    stmt = select(Problem).where(P.sheet_id == sheet_id, P.finding_id == finding_id)
    return (await session.execute(stmt)).scalars().first()


async def history_of(
    session: AsyncSession, problem_id: int, page: PageParams
) -> tuple[list[ProblemHistory], int]:
    """One page of a problem's history, oldest first, and how many entries it has."""
    where = col(ProblemHistory.problem_id) == problem_id
    total = (
        await session.execute(select(func.count()).select_from(ProblemHistory).where(where))
    ).scalar_one()
    stmt = page.apply(select(ProblemHistory).where(where).order_by(col(ProblemHistory.id)))
    return list((await session.execute(stmt)).scalars()), int(total)


async def add_problem(session: AsyncSession, problem: Problem) -> int:
    """Insert a problem; returns the id it got."""
    session.add(problem)
    await session.flush()
    assert problem.id is not None
    return problem.id


def add_milestones(session: AsyncSession, milestones: Sequence[Milestone]) -> None:
    session.add_all(milestones)


async def delete_milestone(session: AsyncSession, milestone: Milestone) -> None:
    """Remove a milestone (a returned problem's verification) and forget the object."""
    await session.execute(delete(milestone_table).where(milestone_table.c.id == milestone.id))
    session.expunge(milestone)


async def flush(session: AsyncSession) -> None:
    await session.flush()


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
    for column, value in (
        (P.district, f.district),
        (P.site_code, f.site_code),
        (P.category, f.category),
        (P.severity, f.severity),
        (P.status, f.status),
        (P.responsible_person_id, f.responsible_person_id),
        (P.round_code, f.round_code),
        (P.sheet_id, f.sheet_id),
    ):
        if value is not None:
            where.append(column == value)
    if f.unassigned is not None:
        where.append(
            P.responsible_person_id.is_(None) if f.unassigned else P.responsible_person_id.is_not(None)
        )
    if f.q is not None:
        where.append(contains(f.q, P.item_title, P.description, P.site_name, P.site_code))
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
    session: AsyncSession, f: ProblemFilter, page: PageParams, *, sort: Sort | None = None
) -> tuple[list[Problem], int]:
    """One page of the problems `f` selects, in `sort` order (None: most urgent first), and the total."""
    where = _where(f)
    total = (await session.execute(select(func.count()).select_from(Problem).where(*where))).scalar_one()
    stmt = select(Problem).where(*where)
    if sort is None:
        stmt = stmt.order_by(P.light_due_at.is_(None), P.light_due_at, P.id)
    else:
        stmt = apply_sort(stmt, sort, SORT_COLUMNS, tiebreak=P.id)
    return list((await session.execute(page.apply(stmt))).scalars()), int(total)


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


async def next_revision(session: AsyncSession, problem: Problem) -> int:
    """Count one more change of `problem` and return its new revision.

    Incremented in SQL (the row lock orders concurrent writers), so revisions only ever grow; the
    object learns the value without marking it changed (the ORM never writes it back).
    """
    assert problem.id is not None
    stmt = (
        update(problem_table).where(P.id == problem.id).values(revision=P.revision + 1).returning(P.revision)
    )
    revision = int((await session.execute(stmt)).scalar_one())
    set_committed_value(problem, "revision", revision)
    return revision


async def next_revisions(
    session: AsyncSession, problem_ids: Sequence[int], columns: Sequence[Any]
) -> list[Row[Any]]:
    """Count one more change of each problem; returns their rows (`columns`) as they now stand, by id."""
    if not problem_ids:
        return []
    stmt = (
        update(problem_table)
        .where(P.id.in_(sorted(set(problem_ids))))
        .values(revision=P.revision + 1)
        .returning(*columns)
    )
    return sorted((await session.execute(stmt)).all(), key=lambda r: r.id)


async def provisional_open_problems(session: AsyncSession) -> list[Problem]:
    """Open problems whose schedule was computed across a year nobody knew the holidays of."""
    stmt = select(Problem).where(P.provisional.is_(True), P.status.not_in(TERMINAL))
    return list((await session.execute(stmt)).scalars())


def _days_between(session: AsyncSession, later: Any, earlier: Any) -> Any:
    if _is_postgres(session):
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


async def district_stats_rows(
    session: AsyncSession, f: ProblemFilter, *, now: datetime
) -> list[dict[str, Any]]:
    """Counts per (district, category, severity) in one grouped query.

    Withdrawn and merged problems count nowhere (a mistake, or a duplicate that lives on in the
    problem it was merged into).
    """
    overdue = and_(P.status.in_(ACTIVE), P.deadline_at < now)
    closed = P.status == Status.CLOSED
    stmt = (
        select(
            P.district,
            P.category,
            P.severity,
            func.sum(case((P.status.not_in(TERMINAL), 1), else_=0)).label("open"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
            func.sum(case((and_(closed, P.closed_on_time.is_(True)), 1), else_=0)).label("closed_on_time"),
            func.sum(case((and_(closed, P.closed_on_time.is_(False)), 1), else_=0)).label("closed_late"),
            func.sum(
                case((closed, cast(_days_between(session, P.closed_at, P.created_at), Float)), else_=0.0)
            ).label("close_days"),
        )
        .where(*_where(f), P.status.not_in(VOID))
        .group_by(P.district, P.category, P.severity)
        .order_by(P.district)
    )
    return [dict(r._mapping) for r in (await session.execute(stmt)).all()]


async def overdue_problems(
    session: AsyncSession, f: ProblemFilter, page: PageParams, *, now: datetime
) -> tuple[list[Problem], int]:
    """One page of the active problems past their deadline, by district, most overdue first."""
    where = [*_where(f), P.status.in_(ACTIVE), P.deadline_at < now]
    total = (await session.execute(select(func.count()).select_from(Problem).where(*where))).scalar_one()
    stmt = page.apply(select(Problem).where(*where).order_by(P.district, P.deadline_at, P.id))
    return list((await session.execute(stmt)).scalars()), int(total)


async def follow_up_sites(
    session: AsyncSession,
    page: PageParams,
    *,
    now: datetime,
    round_code: str | None,
    district: str | None,
    visible: Visibility,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the sites with overdue problems (most overdue problems first), and how many there are."""
    where = [P.status.in_(ACTIVE), P.deadline_at < now, visible_clause(visible)]
    if round_code:
        where.append(P.round_code == round_code)
    if district:
        where.append(P.district == district)
    grouped = select(P.site_code, P.district, func.count().label("overdue_count")).where(*where)
    grouped = grouped.group_by(P.site_code, P.district)
    total = (await session.execute(select(func.count()).select_from(grouped.subquery()))).scalar_one()
    stmt = page.apply(grouped.order_by(func.count().desc(), P.site_code))
    return [dict(r._mapping) for r in (await session.execute(stmt)).all()], int(total)


async def open_problems_of_person(session: AsyncSession, v: Visibility) -> list[Problem]:
    """The open problems `v`'s person is responsible for, inside the scope the feed was issued for."""
    stmt = (
        select(Problem)
        .where(P.responsible_person_id == v.own_person_id, P.status.not_in(TERMINAL), visible_clause(v))
        .order_by(P.deadline_at)
    )
    return list((await session.execute(stmt)).scalars())


async def problems_from_findings(
    session: AsyncSession, *, round_code: str, limit: int, except_source_prefix: str
) -> list[Problem]:
    """The first `limit` problems (by id) a round's findings made, leaving out sources with a prefix."""
    stmt = (
        select(Problem)
        .where(
            P.round_code == round_code,
            P.source_event_id.is_not(None),
            ~P.source_event_id.startswith(except_source_prefix, autoescape=True),
        )
        .order_by(P.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())

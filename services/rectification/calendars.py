"""Countdown templates per severity and the working-day calendar a city admin completes."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.rectification import repository, timers
from services.rectification.errors import InvalidSchedule
from services.rectification.models import CalendarYear, ScheduleTemplate
from services.rectification.policy import Policy
from services.rectification.schedule import DEFAULT_TEMPLATES, Template, add_days
from services.rectification.schemas import CalendarYearIn, TemplateIn
from services.rectification.workdays import WorkCalendar, end_of_local_day, entered_year


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    """The working-day calendar with every year a city admin entered."""
    years = await repository.calendar_years(session)
    return WorkCalendar({y.year: entered_year(y.holidays, y.workdays) for y in years})


async def template_for(session: AsyncSession, severity: str) -> Template:
    row = (await repository.templates(session)).get(severity)
    if row is None:
        return DEFAULT_TEMPLATES[severity]
    return Template(
        row.plan_days,
        row.plan_working,
        row.midterm_percent,
        row.completion_days,
        row.completion_working,
        row.verification_days,
        row.verification_working,
    )


async def list_templates(session: AsyncSession) -> list[tuple[str, Template, bool]]:
    rows = await repository.templates(session)
    return [(sev, await template_for(session, sev), sev in rows) for sev in DEFAULT_TEMPLATES]


async def put_template(
    session: AsyncSession, *, severity: str, template_in: TemplateIn, principal: Principal, now: datetime
) -> Template:
    """Replace the countdown template of one severity (applies to problems created from now on)."""
    row = await session.get(ScheduleTemplate, severity)
    values = template_in.model_dump()
    if row is None:
        row = ScheduleTemplate(severity=severity, updated_by=principal.sub, updated_at=now, **values)
        session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_by, row.updated_at = principal.sub, now
    await session.flush()
    return await template_for(session, severity)


async def enter_calendar_year(
    session: AsyncSession,
    *,
    year: int,
    year_in: CalendarYearIn,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> int:
    """Record a year's official holidays and 调休 days, then recompute every provisional schedule."""
    errors = []
    for name, days in (("holidays", year_in.holidays), ("workdays", year_in.workdays)):
        for i, d in enumerate(days):
            if d.year != year:
                errors.append(field_error(["body", name, i], f"{d} is not in {year}"))
    for i, d in enumerate(year_in.workdays):
        if d.weekday() < 5:
            errors.append(
                field_error(["body", "workdays", i], f"{d} is a weekday; adjusted working days are weekends")
            )
        if d in set(year_in.holidays):
            errors.append(field_error(["body", "workdays", i], f"{d} is also listed as a holiday"))
    if errors:
        raise InvalidSchedule("The calendar for this year is inconsistent", errors=errors)
    row = await session.get(CalendarYear, year)
    holidays = sorted({d.isoformat() for d in year_in.holidays})
    workdays = sorted({d.isoformat() for d in year_in.workdays})
    if row is None:
        session.add(
            CalendarYear(
                year=year, holidays=holidays, workdays=workdays, entered_by=principal.sub, entered_at=now
            )
        )
    else:
        row.holidays, row.workdays, row.entered_by, row.entered_at = holidays, workdays, principal.sub, now
    await session.flush()
    calendar = await load_calendar(session)
    recomputed = 0
    for problem in await repository.provisional_open_problems(session):
        assert problem.id is not None
        milestones = (await repository.milestones_of(session, [problem.id]))[problem.id]
        for m in milestones:
            if m.done_at is None and m.provisional and m.base_on and m.days is not None:
                day, prov = add_days(calendar, date.fromisoformat(m.base_on), m.days, m.working)
                m.due_at, m.provisional = end_of_local_day(day), prov
                if m.kind == "completion":
                    problem.deadline_at = m.due_at
        problem.provisional = any(m.provisional for m in milestones if m.done_at is None)
        timers.set_light_due(problem, milestones)
        repository.add_history(
            session,
            problem=problem,
            at=now,
            actor=principal.sub,
            action="schedule_recomputed",
            from_status=problem.status,
            to_status=problem.status,
            detail={"year": year, "deadline_at": problem.deadline_at.isoformat()},
        )
        await timers.resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
        recomputed += 1
    return recomputed

"""Deadlines: the countdown templates, the holiday calendar, and each problem's durable timers
(reminders, the due moment, escalations) with the scheduler tick that fires them (no FastAPI here).

A problem's timers are rescheduled on every change (:func:`resync_timers`); a tick
(:func:`fire_due_timers`) claims the due ones and enqueues their events in the same transaction, so
a timer fires once whatever the number of replicas (see services/rectification/scheduler.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.workdays import (
    FIXED_HOLIDAYS,
    WorkCalendar,
    end_of_local_day,
    entered_year,
    local_date,
    start_of_local_day,
)
from services.rectification import events
from services.rectification.countdown import (
    DEFAULT_TEMPLATES,
    Template,
    add_days,
    clamp_midterm,
    plan_milestones,
    reminder_moment,
)
from services.rectification.deadlines import repository
from services.rectification.deadlines.policy import Policy
from services.rectification.deadlines.schemas import (
    CalendarYearIn,
    CalendarYearRead,
    PreviewMilestone,
    SchedulePreview,
    TemplateIn,
    TemplateRead,
)
from services.rectification.enums import (
    MILESTONE_LABELS,
    SEVERITY_LABELS,
    TERMINAL,
    CalendarSource,
    HistoryAction,
    MilestoneKind,
    Severity,
    Status,
    TimerKind,
    TimerStatus,
)
from services.rectification.errors import InvalidSchedule
from services.rectification.models import CalendarYear, Milestone, Problem, ScheduleTemplate, outbox_event
from services.rectification.problems import repository as problem_repository

TIMER_EVENT_NAMESPACE = uuid.UUID("6f1c63b6-4d0e-4b8e-9d57-8f0f5e6d2a11")


# --- the working-day calendar and the countdown templates ------------------------------------


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    """The working-day calendar with every year a city admin entered."""
    years = await repository.calendar_years(session)
    return WorkCalendar({y.year: entered_year(y.holidays, y.workdays) for y in years})


def _template(row: ScheduleTemplate) -> Template:
    return Template(
        row.plan_days,
        row.plan_working,
        row.midterm_percent,
        row.completion_days,
        row.completion_working,
        row.verification_days,
        row.verification_working,
    )


async def template_for(session: AsyncSession, severity: str) -> Template:
    """The countdown template of `severity`: the city admin's, else the built-in one."""
    row = await repository.get_template(session, severity)
    return DEFAULT_TEMPLATES[severity] if row is None else _template(row)


def template_read(severity: str, template: Template, customised: bool) -> TemplateRead:
    return TemplateRead(
        severity=Severity(severity),
        severity_label=SEVERITY_LABELS[severity],
        customised=customised,
        **template.as_dict(),
    )


async def list_templates(session: AsyncSession) -> list[TemplateRead]:
    """The template of every severity, saying which ones a city admin customised."""
    rows = await repository.templates(session)
    return [
        template_read(sev, _template(rows[sev]) if sev in rows else default, sev in rows)
        for sev, default in DEFAULT_TEMPLATES.items()
    ]


async def put_template(
    session: AsyncSession, *, severity: str, template_in: TemplateIn, principal: Principal, now: datetime
) -> TemplateRead:
    """Replace the countdown template of one severity (applies to problems created from now on)."""
    row = await repository.get_template(session, severity)
    values = template_in.model_dump()
    if row is None:
        row = ScheduleTemplate(severity=severity, updated_by=principal.sub, updated_at=now, **values)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_by, row.updated_at = principal.sub, now
    await repository.save(session, row)
    return template_read(severity, _template(row), True)


def _calendar_errors(year: int, year_in: CalendarYearIn) -> list[dict[str, Any]]:
    errors = []
    for name, days in (("holidays", year_in.holidays), ("workdays", year_in.workdays)):
        for i, d in enumerate(days):
            if d.year != year:
                errors.append(
                    field_error(["body", name, i], f"{d} is not in {year}", zh=f"{d} 不在 {year} 年内")
                )
    for i, d in enumerate(year_in.workdays):
        if d.weekday() < 5:
            errors.append(
                field_error(
                    ["body", "workdays", i],
                    f"{d} is a weekday; adjusted working days are weekends",
                    zh=f"{d} 是周一至周五；调休上班日应在周末",
                )
            )
        if d in set(year_in.holidays):
            errors.append(
                field_error(
                    ["body", "workdays", i], f"{d} is also listed as a holiday", zh=f"{d} 同时被列为节假日"
                )
            )
    return errors


async def enter_calendar_year(
    session: AsyncSession,
    *,
    year: int,
    year_in: CalendarYearIn,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> CalendarYearRead:
    """Record a year's official holidays and 调休 days, then recompute every provisional schedule."""
    errors = _calendar_errors(year, year_in)
    if errors:
        raise InvalidSchedule(
            "The calendar for this year is inconsistent", zh="该年度的日历前后矛盾", errors=errors
        )
    row = await repository.get_calendar_year(session, year)
    holidays = sorted({d.isoformat() for d in year_in.holidays})
    workdays = sorted({d.isoformat() for d in year_in.workdays})
    if row is None:
        row = CalendarYear(
            year=year, holidays=holidays, workdays=workdays, entered_by=principal.sub, entered_at=now
        )
    else:
        row.holidays, row.workdays, row.entered_by, row.entered_at = holidays, workdays, principal.sub, now
    await repository.save(session, row)
    recomputed = await _recompute_provisional(session, year=year, principal=principal, now=now, policy=policy)
    return CalendarYearRead(
        year=year,
        source=CalendarSource.ENTERED,
        holidays=sorted(set(year_in.holidays)),
        workdays=sorted(set(year_in.workdays)),
        recomputed_problems=recomputed,
    )


async def _recompute_provisional(
    session: AsyncSession, *, year: int, principal: Principal, now: datetime, policy: Policy
) -> int:
    calendar = await load_calendar(session)
    recomputed = 0
    for problem in await problem_repository.provisional_open_problems(session):
        assert problem.id is not None
        milestones = (await problem_repository.milestones_of(session, [problem.id]))[problem.id]
        for m in milestones:
            if m.done_at is None and m.provisional and m.base_on and m.days is not None:
                day, prov = add_days(calendar, date.fromisoformat(m.base_on), m.days, m.working)
                m.due_at, m.provisional = end_of_local_day(day), prov
                if m.kind == MilestoneKind.COMPLETION:
                    problem.deadline_at = m.due_at
        _keep_in_order(milestones)
        problem.provisional = any(m.provisional for m in milestones if m.done_at is None)
        set_light_due(problem, milestones)
        problem_repository.add_history(
            session,
            problem=problem,
            at=now,
            actor=principal.sub,
            action=HistoryAction.SCHEDULE_RECOMPUTED,
            from_status=problem.status,
            to_status=problem.status,
            detail={"year": year, "deadline_at": problem.deadline_at.isoformat()},
        )
        await resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
        await emit_fact(session, problem, now=now)
        recomputed += 1
    return recomputed


async def emit_fact(session: AsyncSession, problem: Problem, *, now: datetime) -> None:
    """Count a change of `problem` (its revision) and send reporting its snapshot, in the caller's
    transaction: once per change, after every field of the change is set (problems.service calls it
    from every transition, creation and merge; the scheduler when a problem becomes overdue)."""
    await problem_repository.next_revision(session, problem)
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=events.PROBLEM_CHANGED,
        target=events.FACT_TARGET,
        path=events.FACT_PATH,
        payload=events.problem_changed_fact(problem, changed_at=now),
        now=now,
    )


def _keep_in_order(milestones: list[Milestone]) -> None:
    """After a recomputation: the plan no later than the completion, the mid-term between the two."""
    by_kind = {m.kind: m for m in milestones}
    plan, midterm = by_kind.get(MilestoneKind.PLAN), by_kind.get(MilestoneKind.MIDTERM)
    completion = by_kind.get(MilestoneKind.COMPLETION)
    if completion is None:
        return
    if plan is not None and plan.done_at is None and plan.due_at > completion.due_at:
        plan.due_at = completion.due_at
    if midterm is not None and midterm.done_at is None:
        plan_at = plan.due_at if plan is not None else midterm.due_at
        midterm.due_at = clamp_midterm(midterm.due_at, plan_at, completion.due_at)


async def calendar_year(session: AsyncSession, year: int) -> CalendarYearRead:
    """Where a year's working days come from: entered, the package, or the Mon-Fri fallback."""
    calendar = await load_calendar(session)
    entered = calendar.entered.get(year)
    if entered is not None:
        return CalendarYearRead(
            year=year,
            source=CalendarSource.ENTERED,
            holidays=sorted(entered.holidays),
            workdays=sorted(entered.workdays),
        )
    if not calendar.knows_year(year):
        fixed = sorted(date(year, month, day) for month, day in FIXED_HOLIDAYS)
        return CalendarYearRead(year=year, source=CalendarSource.FALLBACK, holidays=fixed, workdays=[])
    import chinese_calendar

    holidays = sorted(d for d in chinese_calendar.holidays if d.year == year)
    workdays = sorted(d for d in chinese_calendar.workdays if d.year == year)
    return CalendarYearRead(year=year, source=CalendarSource.PACKAGE, holidays=holidays, workdays=workdays)


async def preview_schedule(session: AsyncSession, *, severity: str, issued_on: date) -> SchedulePreview:
    """The schedule a problem of `severity` issued on `issued_on` would get (nothing is created)."""
    template = await template_for(session, severity)
    calendar = await load_calendar(session)
    plans = plan_milestones(
        calendar=calendar, template=template, starts_at=start_of_local_day(issued_on), deadline_at=None
    )
    completion = next(p for p in plans if p.kind == MilestoneKind.COMPLETION)
    return SchedulePreview(
        severity=Severity(severity),
        severity_label=SEVERITY_LABELS[severity],
        issued_on=issued_on,
        deadline_on=local_date(completion.due_at),
        provisional=any(p.provisional for p in plans),
        milestones=[
            PreviewMilestone(
                kind=p.kind,
                label=MILESTONE_LABELS[p.kind],
                due_on=local_date(p.due_at),
                due_at=p.due_at,
                provisional=p.provisional,
            )
            for p in plans
        ],
        verification_days=template.verification_days,
        verification_working=template.verification_working,
    )


# --- a problem's timers ----------------------------------------------------------------------


def set_light_due(problem: Problem, milestones: list[Milestone]) -> None:
    """Point the light at what the problem now counts down to (see `Problem.light_due_at`)."""
    if problem.status in TERMINAL:
        problem.light_due_at = None
    elif problem.status == Status.SUBMITTED:
        verification = next((m for m in milestones if m.kind == MilestoneKind.VERIFICATION), None)
        problem.light_due_at = verification.due_at if verification else problem.deadline_at
    else:
        problem.light_due_at = problem.deadline_at


def _timer_row(
    problem_id: int | None,
    *,
    kind: TimerKind,
    milestone: str,
    fire_at: datetime,
    state_version: int,
    recipient_id: str | None,
    now: datetime,
    offset_days: int = 0,
    sequence: int = 0,
) -> dict[str, Any]:
    return {
        "problem_id": problem_id,
        "kind": kind,
        "milestone": milestone,
        "offset_days": offset_days,
        "sequence": sequence,
        "fire_at": fire_at,
        "status": TimerStatus.PENDING,
        "state_version": state_version,
        "recipient_id": recipient_id,
        "created_at": now,
    }


def timer_rows(
    problem: Problem, milestones: list[Milestone], *, now: datetime, policy: Policy
) -> list[dict[str, Any]]:
    """Every timer a problem needs from `now` on (none in the past: a moved timer is never sent late)."""
    if problem.status in TERMINAL:
        return []
    rows: list[dict[str, Any]] = []

    def add(kind: TimerKind, milestone: str, fire_at: datetime, offset: int = 0, sequence: int = 0) -> None:
        rows.append(
            _timer_row(
                problem.id,
                kind=kind,
                milestone=milestone,
                fire_at=fire_at,
                state_version=problem.state_version,
                recipient_id=problem.responsible_person_id,
                now=now,
                offset_days=offset,
                sequence=sequence,
            )
        )

    for m in milestones:
        if m.done_at is not None:
            continue
        if (m.kind == MilestoneKind.VERIFICATION) != (problem.status == Status.SUBMITTED):
            continue
        for offset in policy.reminder_offsets_days:
            fire_at = reminder_moment(m.due_at, offset)
            if fire_at > now:
                due = offset == 0 and m.kind == MilestoneKind.COMPLETION
                add(TimerKind.DUE if due else TimerKind.REMINDER, m.kind, fire_at, offset)
        # An overdue step escalates: the completion (the responsible side's), and a submitted problem
        # nobody verified in time (the verifying side's) like any other.
        if m.kind in (MilestoneKind.COMPLETION, MilestoneKind.VERIFICATION):
            first = m.due_at + policy.escalation_first_after
            sequence = 1
            if first <= now:
                sequence += int((now - first) / policy.escalation_repeat) + 1
            add(TimerKind.ESCALATION, m.kind, first + (sequence - 1) * policy.escalation_repeat, 0, sequence)
    return rows


async def resync_timers(
    session: AsyncSession,
    *,
    problem: Problem,
    milestones: list[Milestone],
    now: datetime,
    policy: Policy,
    bump: bool = True,
) -> None:
    """Cancel the problem's pending timers and schedule the ones its current state needs."""
    assert problem.id is not None
    if bump:
        problem.state_version += 1
        await problem_repository.flush(session)
    await repository.cancel_pending_timers(session, problem.id)
    await repository.insert_timers(session, timer_rows(problem, milestones, now=now, policy=policy))


# --- the scheduler's tick --------------------------------------------------------------------


def timer_event_id(timer_id: int, *, fact: bool = False) -> str:
    """The outbox event id of a timer (or of the snapshot its firing sends reporting): the same timer
    can never produce two of either."""
    return str(uuid.uuid5(TIMER_EVENT_NAMESPACE, f"timer:{timer_id}" + (":fact" if fact else "")))


@dataclass
class TickResult:
    """What one tick did: timers claimed, of which fired (an event each) and skipped (stale)."""

    claimed: int = 0
    fired: int = 0
    skipped: int = 0


# A reminder at the due moment itself ("due now") later than this speaks of a day that has gone.
REMINDER_GRACE = timedelta(days=1)


def stale_reminder(fire_at: datetime, milestone_due: datetime, now: datetime, latest: datetime) -> bool:
    """Whether a reminder whose moment has passed would say something untrue, and is dropped.

    True when a reminder meant for before the milestone arrives after it (the due moment and the
    escalations speak for it then), when the reminder at the due moment itself is more than
    :data:`REMINDER_GRACE` late, or when a later reminder of the same milestone is due too (after the
    scheduler was down, "7 days left" must not go out beside "1 day left"). A reminder that does go
    out states the days really left, counted when it is sent.
    """
    if fire_at < latest:
        return True
    if fire_at < milestone_due:
        return now >= milestone_due
    return now - fire_at > REMINDER_GRACE


async def fire_due_timers(
    session: AsyncSession, *, now: datetime, batch_size: int, policy: Policy
) -> TickResult:
    """One tick inside the caller's transaction: claim due timers and enqueue their events.

    A timer whose problem changed since it was scheduled (state_version differs) or ended (closed,
    withdrawn, merged) is marked
    ``skipped`` and sends nothing, and so is a stale reminder (:func:`stale_reminder`): a reminder
    always tells the days really left, computed at the moment it goes out. Escalations re-arm themselves: firing one schedules the next.
    Event ids derive from the timer id, a second guard: the outbox's primary key refuses a duplicate.
    """
    claimed = await repository.claim_due_timers(session, now=now, batch_size=batch_size)
    result = TickResult(claimed=len(claimed))
    if not claimed:
        return result
    problem_ids = {t.problem_id for t in claimed}
    problems = await repository.problem_rows(session, problem_ids)
    due_at = await repository.open_milestone_dues(session, problem_ids)
    messages: list[tuple[str, str, str, dict[str, Any]]] = []
    # The first escalation of a missed deadline is when a problem becomes overdue: a change reporting hears of.
    became_overdue: dict[int, int] = {}
    next_timers: list[dict[str, Any]] = []
    skipped: list[int] = []
    # After downtime several reminders of one milestone come due together: only the latest speaks.
    latest_reminder: dict[tuple[int, str], datetime] = {}
    for t in claimed:
        if t.kind == TimerKind.REMINDER:
            key = (t.problem_id, t.milestone)
            latest_reminder[key] = max(t.fire_at, latest_reminder.get(key, t.fire_at))
    for t in claimed:
        problem = problems.get(t.problem_id)
        milestone_due = due_at.get((t.problem_id, t.milestone))
        if (
            problem is None
            or problem.status in TERMINAL
            or problem.state_version != t.state_version
            or milestone_due is None
            or (
                t.kind == TimerKind.REMINDER
                and stale_reminder(
                    t.fire_at, milestone_due, now, latest_reminder[(t.problem_id, t.milestone)]
                )
            )
        ):
            skipped.append(t.id)
            continue
        event_type, payload = events.timer_payload(
            problem,
            kind=t.kind,
            milestone=t.milestone,
            due_at=milestone_due,
            offset_days=t.offset_days,
            sequence=t.sequence,
            timer_id=t.id,
            now=now,
        )
        payload["scheduled_for"] = t.fire_at.isoformat()
        messages.append((timer_event_id(t.id), event_type, events.TARGET, payload))
        if t.kind == TimerKind.ESCALATION and t.milestone == MilestoneKind.COMPLETION and t.sequence == 1:
            became_overdue.setdefault(t.problem_id, t.id)
        if t.kind == TimerKind.ESCALATION:
            next_timers.append(
                _timer_row(
                    t.problem_id,
                    kind=TimerKind.ESCALATION,
                    milestone=t.milestone,
                    fire_at=t.fire_at + policy.escalation_repeat,
                    state_version=t.state_version,
                    recipient_id=problem.responsible_person_id,
                    now=now,
                    sequence=t.sequence + 1,
                )
            )
    await repository.skip_timers(session, skipped)
    await repository.insert_timers(session, next_timers)
    fired = len(messages)
    # Each problem that became overdue counts a change, its snapshot read as it now stands.
    for row in await problem_repository.next_revisions(
        session, list(became_overdue), repository.PROBLEM_COLUMNS
    ):
        messages.append(
            (
                timer_event_id(became_overdue[row.id], fact=True),
                events.PROBLEM_CHANGED,
                events.FACT_TARGET,
                events.problem_changed_fact(row, changed_at=now),
            )
        )
    # One INSERT for the whole batch of events, in the same transaction as the timers' states.
    await outbox.enqueue_many(
        session,
        outbox_event,
        [
            outbox.OutboxMessage(
                event_type=event_type, target=target, path=events.PATH, payload=payload, event_id=event_id
            )
            for event_id, event_type, target, payload in messages
        ],
        now=now,
    )
    result.fired, result.skipped = fired, len(skipped)
    return result

"""Rectification rules: problems, their countdowns, transitions, extensions and timers (no FastAPI here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal, scope_covers
from services.kit.errors import field_error
from services.rectification import events, repository
from services.rectification.errors import (
    ExtensionNotAllowed,
    ExtensionNotFound,
    InvalidSchedule,
    ProblemForbidden,
    TransitionNotAllowed,
)
from services.rectification.models import (
    CalendarYear,
    ExtensionRequest,
    Milestone,
    Problem,
    ScheduleTemplate,
    milestone_table,
    outbox_event,
)
from services.rectification.schedule import (
    DEFAULT_TEMPLATES,
    MILESTONE_LABELS,
    SEVERITY_LABELS,
    MilestonePlan,
    Template,
    add_days,
    days_left,
    light_for,
    plan_milestones,
    plan_verification,
    reminder_moment,
)
from services.rectification.schemas import (
    AssignIn,
    CalendarYearIn,
    ExtensionCreate,
    FindingEnvelope,
    MilestoneRead,
    PersonRead,
    PersonRef,
    ProblemCreate,
    ProblemRead,
    SiteRef,
    TemplateIn,
)
from services.rectification.workdays import WorkCalendar, end_of_local_day, entered_year, local_date

ACTIVE = repository.ACTIVE
UNRESTRICTED_ROLES = ("city_admin", "leader", "system", "district_admin")


@dataclass(frozen=True)
class Policy:
    """The tunable parts of the rules (from settings)."""

    yellow_days: int = 7
    red_days: int = 3
    reminder_offsets_days: tuple[int, ...] = (7, 3, 1, 0)
    escalation_first_after: timedelta = timedelta(hours=9)
    escalation_repeat: timedelta = timedelta(days=7)
    max_extensions: int = 2


def policy_from(settings: Any) -> Policy:
    return Policy(
        yellow_days=settings.light_yellow_days,
        red_days=settings.light_red_days,
        reminder_offsets_days=tuple(sorted(set(settings.reminder_offsets_days), reverse=True)),
        escalation_first_after=timedelta(hours=settings.escalation_first_after_hours),
        escalation_repeat=timedelta(days=settings.escalation_repeat_days),
        max_extensions=settings.max_extensions,
    )


# --- calendar and templates ------------------------------------------------------------------


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
        _set_light_due(problem, milestones)
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
        await resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
        recomputed += 1
    return recomputed


# --- visibility and permissions --------------------------------------------------------------


def visibility_filter(principal: Principal, f: repository.ProblemFilter) -> repository.ProblemFilter:
    """Restrict a list to what `principal` may see."""
    if principal.has_role(*UNRESTRICTED_ROLES) and principal.scope.strip("/") == "":
        return f
    f.only_visible = True
    if principal.has_role(*UNRESTRICTED_ROLES):
        f.scope_units = [principal.scope.strip("/")]
    if principal.has_role("responsible"):
        f.own_person_id = principal.sub
    if principal.has_role("team_leader", "inspector"):
        f.issued_by = principal.sub
    return f


def can_view(principal: Principal, problem: Problem) -> bool:
    if principal.has_role(*UNRESTRICTED_ROLES) and principal.covers(problem.org_unit):
        return True
    if principal.has_role("responsible") and problem.responsible_person_id == principal.sub:
        return True
    return principal.has_role("team_leader", "inspector") and problem.issued_by == principal.sub


def _is_admin_over(principal: Principal, problem: Problem) -> bool:
    return principal.has_role("city_admin", "district_admin") and principal.covers(problem.org_unit)


def _require(allowed: bool, action: str, problem: Problem) -> None:
    if not allowed:
        raise ProblemForbidden(
            f"You may not {action} problem {problem.id}", problem_id=problem.id, action=action
        )


def require_responsible(principal: Principal, problem: Problem, action: str) -> None:
    """The responsible person, or an admin above the site acting for them."""
    _require(
        (principal.has_role("responsible") and problem.responsible_person_id == principal.sub)
        or _is_admin_over(principal, problem),
        action,
        problem,
    )


def require_verifier(principal: Principal, problem: Problem, action: str) -> None:
    """The issuing authority, or the district (or city) admin above the site."""
    _require(problem.issued_by == principal.sub or _is_admin_over(principal, problem), action, problem)


def require_issuer(principal: Principal, problem: Problem, action: str) -> None:
    """The issuing authority (the person who issued it, or the city's organisation department)."""
    _require(
        problem.issued_by == principal.sub
        or (principal.has_role("city_admin") and principal.covers(problem.org_unit)),
        action,
        problem,
    )


def _require_state(problem: Problem, allowed: tuple[str, ...], action: str) -> None:
    if problem.status not in allowed:
        raise TransitionNotAllowed(
            f"Cannot {action} a problem that is {problem.status} (allowed from: {', '.join(allowed)})",
            problem_status=problem.status,
            action=action,
            allowed_from=list(allowed),
        )


def _check_person(principal: Principal, district: str, person: PersonRef, loc: list[str | int]) -> None:
    district_unit = f"ningbo/{district}"
    if not scope_covers(district_unit, person.org_unit) or not principal.covers(person.org_unit):
        raise InvalidSchedule(
            f"Responsible person {person.user_id} ({person.org_unit}) is outside the scope of this problem",
            errors=[
                field_error(
                    [*loc, "org_unit"], f"must lie inside {district_unit} and your scope {principal.scope}"
                )
            ],
        )


def _check_site(site: SiteRef, loc: list[str | int]) -> None:
    if not scope_covers(f"ningbo/{site.district}", site.org_unit):
        raise InvalidSchedule(
            f"Site org unit {site.org_unit} is not inside district {site.district}",
            errors=[field_error([*loc, "org_unit"], f"must lie inside ningbo/{site.district}")],
        )


# --- creating problems -----------------------------------------------------------------------


async def _insert_problem(
    session: AsyncSession,
    *,
    problem: Problem,
    plans: list[MilestonePlan],
    actor: str,
    now: datetime,
    policy: Policy,
) -> Problem:
    problem.deadline_at = next(p.due_at for p in plans if p.kind == "completion")
    problem.provisional = any(p.provisional for p in plans)
    problem.light_due_at = problem.deadline_at
    session.add(problem)
    await session.flush()
    assert problem.id is not None
    milestones = [
        Milestone(
            problem_id=problem.id,
            kind=p.kind,
            position=p.position,
            due_at=p.due_at,
            original_due_at=p.due_at,
            base_on=p.base_on.isoformat() if p.base_on else None,
            days=p.days,
            working=p.working,
            provisional=p.provisional,
        )
        for p in plans
    ]
    session.add_all(milestones)
    repository.add_history(
        session,
        problem=problem,
        at=now,
        actor=actor,
        action="created",
        from_status=None,
        to_status=problem.status,
        detail={"deadline_at": problem.deadline_at.isoformat(), "provisional": problem.provisional},
    )
    recipients = events.responsible_recipients(problem)
    if problem.responsible_person_id:
        recipients.append(events.role("district_admin", events.district_unit(problem)))
    await _emit(session, "rectification.problem.created", problem, recipients, now=now)
    await session.flush()
    await resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy, bump=False)
    return problem


async def create_problem_from_finding(
    session: AsyncSession, *, envelope: FindingEnvelope, now: datetime, policy: Policy
) -> tuple[Problem, bool]:
    """The problem for a scoring finding; the same event id always gives the same problem."""
    existing = await repository.get_problem_by_source(session, envelope.id)
    if existing is not None:
        return existing, False
    data = envelope.data
    _check_site(data.site, ["body", "data", "site"])
    template = await template_for(session, data.severity)
    plans = plan_milestones(
        calendar=await load_calendar(session), template=template, starts_at=now, deadline_at=None
    )
    description = f"{data.item_title}：{data.reason}" if data.item_title else data.reason
    problem = Problem(
        source_event_id=envelope.id,
        round_code=data.round_code,
        sheet_id=data.sheet_id,
        item_code=data.item_code,
        item_title=data.item_title,
        site_code=data.site.code,
        site_name=data.site.name,
        site_type=data.site.type,
        org_unit=data.site.org_unit,
        district=data.site.district,
        level=data.level,
        category=data.category,
        severity=data.severity,
        description=description,
        concerns=data.concerns,
        deduction_points=data.deduction_points,
        evidence=[],
        issued_by=data.issued_by,
        issuing_unit="ningbo",
        responsible_unit=data.site.org_unit,
        status="open",
        created_at=now,
        deadline_at=now,
        template=template.as_dict(),
    )
    return await _insert_problem(
        session, problem=problem, plans=plans, actor=data.issued_by, now=now, policy=policy
    ), True


def _moment(on: date | None, at: datetime | None) -> datetime | None:
    if at is not None:
        return at.astimezone(UTC)
    return end_of_local_day(on) if on is not None else None


async def create_problem(
    session: AsyncSession, *, principal: Principal, problem_in: ProblemCreate, now: datetime, policy: Policy
) -> Problem:
    """A problem entered by hand by a city or district admin."""
    _check_site(problem_in.site, ["body", "site"])
    principal.require_scope(problem_in.site.org_unit)
    if problem_in.responsible_person is not None:
        _check_person(
            principal, problem_in.site.district, problem_in.responsible_person, ["body", "responsible_person"]
        )
    if problem_in.deadline_on is not None and problem_in.deadline_at is not None:
        raise InvalidSchedule(
            "Give the deadline as a date or as a moment, not both",
            errors=[field_error(["body", "deadline_at"], "give either deadline_on or deadline_at")],
        )
    deadline = _moment(problem_in.deadline_on, problem_in.deadline_at)
    deadline_loc: list[str | int] = ["body", "deadline_at" if problem_in.deadline_at else "deadline_on"]
    errors = []
    if deadline is not None and deadline <= now:
        errors.append(field_error(deadline_loc, f"the deadline {deadline.isoformat()} is in the past"))
    template = await template_for(session, problem_in.severity)
    plans = plan_milestones(
        calendar=await load_calendar(session),
        template=template,
        starts_at=now,
        deadline_at=deadline,
        plan_due_at=_moment(problem_in.plan_due_on, None),
        midterm_due_at=_moment(problem_in.midterm_due_on, None),
    )
    completion = next(p for p in plans if p.kind == "completion")
    for name, on in (("plan_due_on", problem_in.plan_due_on), ("midterm_due_on", problem_in.midterm_due_on)):
        if on is None:
            continue
        moment = end_of_local_day(on)
        if moment <= now:
            errors.append(field_error(["body", name], f"{on} is in the past"))
        elif moment > completion.due_at:
            errors.append(
                field_error(["body", name], f"{on} is after the deadline {local_date(completion.due_at)}")
            )
    if errors:
        raise InvalidSchedule("The countdown schedule is not possible", errors=errors)
    person = problem_in.responsible_person
    problem = Problem(
        round_code=problem_in.round_code,
        sheet_id=problem_in.sheet_id,
        item_code=problem_in.item_code,
        item_title=problem_in.item_title,
        site_code=problem_in.site.code,
        site_name=problem_in.site.name,
        site_type=problem_in.site.type,
        org_unit=problem_in.site.org_unit,
        district=problem_in.site.district,
        level=problem_in.level,
        category=problem_in.category,
        severity=problem_in.severity,
        description=problem_in.description,
        concerns=problem_in.concerns,
        evidence=[{**e.model_dump(), "stage": "finding"} for e in problem_in.evidence],
        issued_by=principal.sub,
        issuing_unit=principal.scope.strip("/") or "ningbo",
        responsible_unit=problem_in.responsible_unit
        or (person.org_unit if person else problem_in.site.org_unit),
        responsible_person_id=person.user_id if person else None,
        responsible_person_name=person.name if person else None,
        status="open",
        created_at=now,
        deadline_at=completion.due_at,
        template=template.as_dict(),
    )
    return await _insert_problem(
        session, problem=problem, plans=plans, actor=principal.sub, now=now, policy=policy
    )


# --- lifecycle -------------------------------------------------------------------------------


async def _milestones(session: AsyncSession, problem: Problem) -> list[Milestone]:
    assert problem.id is not None
    return (await repository.milestones_of(session, [problem.id]))[problem.id]


def _milestone(milestones: list[Milestone], kind: str) -> Milestone | None:
    return next((m for m in milestones if m.kind == kind), None)


def _set_light_due(problem: Problem, milestones: list[Milestone]) -> None:
    if problem.status == "closed":
        problem.light_due_at = None
    elif problem.status == "submitted":
        verification = _milestone(milestones, "verification")
        problem.light_due_at = verification.due_at if verification else problem.deadline_at
    else:
        problem.light_due_at = problem.deadline_at


async def _emit(
    session: AsyncSession,
    event_type: str,
    problem: Problem,
    recipients: list[dict[str, Any]],
    *,
    now: datetime,
    **extra: Any,
) -> None:
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=event_type,
        target="notify",
        path="/events",
        payload=events.build(event_type, problem, recipients, **extra),
        now=now,
    )


async def _transition(
    session: AsyncSession,
    *,
    problem: Problem,
    milestones: list[Milestone],
    to_status: str,
    action: str,
    principal: Principal,
    now: datetime,
    policy: Policy,
    detail: dict[str, Any] | None = None,
) -> Problem:
    from_status = problem.status
    problem.status = to_status
    _set_light_due(problem, milestones)
    repository.add_history(
        session,
        problem=problem,
        at=now,
        actor=principal.sub,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
    )
    await session.flush()
    await resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
    return problem


async def start(
    session: AsyncSession, *, problem: Problem, plan: str, principal: Principal, now: datetime, policy: Policy
) -> Problem:
    """Begin (or resume after a return) the rectification, with its plan; the plan milestone is met."""
    require_responsible(principal, problem, "start")
    _require_state(problem, ("open", "returned"), "start")
    milestones = await _milestones(session, problem)
    plan_ms = _milestone(milestones, "plan")
    if plan_ms is not None and plan_ms.done_at is None:
        plan_ms.done_at = now
    return await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status="in_progress",
        action="start",
        principal=principal,
        now=now,
        policy=policy,
        detail={"plan": plan},
    )


async def report_progress(
    session: AsyncSession,
    *,
    problem: Problem,
    note: str,
    evidence: list[dict[str, Any]],
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Record a progress report; the first one meets the mid-term milestone."""
    require_responsible(principal, problem, "report progress on")
    _require_state(problem, ("in_progress",), "report progress on")
    milestones = await _milestones(session, problem)
    midterm = _milestone(milestones, "midterm")
    if midterm is not None and midterm.done_at is None:
        midterm.done_at = now
    problem.evidence = [*problem.evidence, *({**e, "stage": "progress"} for e in evidence)]
    return await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status="in_progress",
        action="progress",
        principal=principal,
        now=now,
        policy=policy,
        detail={"note": note, "evidence": evidence},
    )


async def submit(
    session: AsyncSession,
    *,
    problem: Problem,
    note: str,
    evidence: list[dict[str, Any]],
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Submit the rectification for verification, with evidence; the verification countdown starts."""
    require_responsible(principal, problem, "submit")
    _require_state(problem, ("in_progress", "returned"), "submit")
    milestones = await _milestones(session, problem)
    for m in milestones:
        if m.kind in ("plan", "midterm", "completion") and m.done_at is None:
            m.done_at = now
    template = (
        Template(**problem.template) if problem.template else await template_for(session, problem.severity)
    )
    vplan = plan_verification(calendar=await load_calendar(session), template=template, submitted_at=now)
    verification = _milestone(milestones, "verification")
    if verification is None:
        assert problem.id is not None
        verification = Milestone(
            problem_id=problem.id,
            kind="verification",
            position=4,
            due_at=vplan.due_at,
            original_due_at=vplan.due_at,
        )
        session.add(verification)
        milestones.append(verification)
    verification.due_at = verification.original_due_at = vplan.due_at
    verification.base_on = vplan.base_on.isoformat() if vplan.base_on else None
    verification.days, verification.working, verification.provisional = (
        vplan.days,
        vplan.working,
        vplan.provisional,
    )
    verification.done_at = None
    problem.submitted_at = now
    problem.evidence = [*problem.evidence, *({**e, "stage": "completion"} for e in evidence)]
    return await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status="submitted",
        action="submit",
        principal=principal,
        now=now,
        policy=policy,
        detail={"note": note, "evidence": evidence, "on_time": now <= problem.deadline_at},
    )


async def close(
    session: AsyncSession,
    *,
    problem: Problem,
    note: str | None,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Verify and close the problem (销号); every pending timer is cancelled."""
    require_verifier(principal, problem, "close")
    _require_state(problem, ("submitted",), "close")
    milestones = await _milestones(session, problem)
    verification = _milestone(milestones, "verification")
    if verification is not None:
        verification.done_at = now
    problem.closed_at = now
    problem.closed_on_time = problem.submitted_at is not None and problem.submitted_at <= problem.deadline_at
    await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status="closed",
        action="close",
        principal=principal,
        now=now,
        policy=policy,
        detail={"note": note, "on_time": problem.closed_on_time},
    )
    recipients = [
        *events.responsible_recipients(problem),
        events.role("district_admin", events.district_unit(problem)),
    ]
    await _emit(
        session,
        "rectification.problem.closed",
        problem,
        recipients,
        now=now,
        closed_on_time=problem.closed_on_time,
        note=note,
    )
    return problem


async def return_for_rework(
    session: AsyncSession,
    *,
    problem: Problem,
    reason: str,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Send a submitted rectification back for rework; the original countdown continues."""
    require_verifier(principal, problem, "return")
    _require_state(problem, ("submitted",), "return")
    milestones = await _milestones(session, problem)
    completion = _milestone(milestones, "completion")
    if completion is not None:
        completion.done_at = None
    verification = _milestone(milestones, "verification")
    if verification is not None:
        await session.execute(delete(milestone_table).where(milestone_table.c.id == verification.id))
        milestones.remove(verification)
        session.expunge(verification)
    problem.submitted_at = None
    await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status="returned",
        action="return",
        principal=principal,
        now=now,
        policy=policy,
        detail={"reason": reason},
    )
    await _emit(
        session,
        "rectification.problem.returned",
        problem,
        events.responsible_recipients(problem),
        now=now,
        reason=reason,
    )
    return problem


async def assign(
    session: AsyncSession,
    *,
    problem: Problem,
    assign_in: AssignIn,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Assign or reassign the responsible person; reminders move to the new person."""
    _require(_is_admin_over(principal, problem), "assign a responsible person to", problem)
    if problem.status == "closed":
        raise TransitionNotAllowed(
            "A closed problem cannot be reassigned", problem_status=problem.status, action="assign"
        )
    person = assign_in.responsible_person
    _check_person(principal, problem.district, person, ["body", "responsible_person"])
    previous = problem.responsible_person_id
    problem.responsible_person_id = person.user_id
    problem.responsible_person_name = person.name
    problem.responsible_unit = person.org_unit
    milestones = await _milestones(session, problem)
    await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=problem.status,
        action="assign" if previous is None else "reassign",
        principal=principal,
        now=now,
        policy=policy,
        detail={
            "from": previous,
            "to": person.user_id,
            "responsible_unit": person.org_unit,
            "reason": assign_in.reason,
        },
    )
    await _emit(
        session,
        "rectification.problem.assigned",
        problem,
        [events.person(person.user_id)],
        now=now,
        previous_responsible_person_id=previous,
    )
    return problem


# --- extensions ------------------------------------------------------------------------------


async def request_extension(
    session: AsyncSession,
    *,
    problem: Problem,
    ext_in: ExtensionCreate,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> ExtensionRequest:
    """Ask the issuing authority to move the deadline."""
    require_responsible(principal, problem, "request an extension for")
    if problem.status not in ACTIVE:
        raise ExtensionNotAllowed(
            f"No extension can be requested for a problem that is {problem.status}",
            problem_status=problem.status,
        )
    assert problem.id is not None
    existing = await repository.extensions_of(session, problem.id)
    if any(e.status == "pending" for e in existing):
        raise ExtensionNotAllowed("An extension request for this problem is already pending")
    if len(existing) >= policy.max_extensions:
        raise ExtensionNotAllowed(
            f"At most {policy.max_extensions} extension requests per problem",
            max_extensions=policy.max_extensions,
        )
    if (ext_in.new_deadline_on is None) == (ext_in.new_deadline_at is None):
        raise InvalidSchedule(
            "Give the new deadline as a date or as a moment",
            errors=[
                field_error(
                    ["body", "new_deadline_on"], "give exactly one of new_deadline_on, new_deadline_at"
                )
            ],
        )
    new_deadline = _moment(ext_in.new_deadline_on, ext_in.new_deadline_at)
    assert new_deadline is not None
    loc: list[str | int] = ["body", "new_deadline_on" if ext_in.new_deadline_on else "new_deadline_at"]
    if new_deadline <= problem.deadline_at or new_deadline <= now:
        raise InvalidSchedule(
            "The new deadline must be later than the current one",
            errors=[
                field_error(
                    loc, f"must be after the current deadline {problem.deadline_at.isoformat()} and now"
                )
            ],
        )
    ext = ExtensionRequest(
        problem_id=problem.id,
        requested_by=principal.sub,
        reason=ext_in.reason,
        requested_deadline_at=new_deadline,
        previous_deadline_at=problem.deadline_at,
        status="pending",
        created_at=now,
    )
    session.add(ext)
    repository.add_history(
        session,
        problem=problem,
        at=now,
        actor=principal.sub,
        action="extension_requested",
        from_status=problem.status,
        to_status=problem.status,
        detail={"reason": ext_in.reason, "requested_deadline_at": new_deadline.isoformat()},
    )
    await session.flush()
    return ext


async def decide_extension(
    session: AsyncSession,
    *,
    problem: Problem,
    extension_id: int,
    approve: bool,
    note: str | None,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> ExtensionRequest:
    """Approve (the deadline and later milestones move) or reject an extension request."""
    assert problem.id is not None
    ext = await repository.get_extension(session, problem.id, extension_id)
    if ext is None:
        raise ExtensionNotFound(f"No extension request {extension_id} on problem {problem.id}")
    require_issuer(principal, problem, "decide extensions of")
    if ext.status != "pending":
        raise ExtensionNotAllowed(
            f"This extension request was already {ext.status}", extension_status=ext.status
        )
    if problem.status not in ACTIVE:
        raise ExtensionNotAllowed(
            f"The problem is {problem.status}; the extension can no longer apply",
            problem_status=problem.status,
        )
    ext.status = "approved" if approve else "rejected"
    ext.decided_by, ext.decided_at, ext.decision_note = principal.sub, now, note
    old_deadline = problem.deadline_at
    milestones = await _milestones(session, problem)
    if approve:
        if ext.requested_deadline_at <= now:
            raise ExtensionNotAllowed("The requested deadline has already passed; ask for a new date")
        shift = ext.requested_deadline_at - old_deadline
        for m in milestones:
            if m.done_at is None and m.due_at >= old_deadline:
                m.due_at = m.due_at + shift
                m.base_on, m.days, m.provisional = None, None, False
        problem.deadline_at = ext.requested_deadline_at
        problem.extension_count += 1
        problem.provisional = any(m.provisional for m in milestones if m.done_at is None)
    await _transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=problem.status,
        action="extension_approved" if approve else "extension_rejected",
        principal=principal,
        now=now,
        policy=policy,
        detail={
            "extension_id": ext.id,
            "previous_deadline_at": old_deadline.isoformat(),
            "deadline_at": problem.deadline_at.isoformat(),
            "note": note,
        },
    )
    await _emit(
        session,
        "rectification.extension.decided",
        problem,
        [events.person(ext.requested_by)],
        now=now,
        approved=approve,
        previous_deadline_at=old_deadline,
        requested_deadline_at=ext.requested_deadline_at,
        note=note,
    )
    return ext


# --- timers ----------------------------------------------------------------------------------


def timer_rows(
    problem: Problem, milestones: list[Milestone], *, now: datetime, policy: Policy
) -> list[dict[str, Any]]:
    """Every timer a problem needs from `now` on (none in the past: a moved timer is never sent late)."""
    if problem.status == "closed":
        return []
    rows: list[dict[str, Any]] = []

    def add(kind: str, milestone: str, fire_at: datetime, offset: int = 0, sequence: int = 0) -> None:
        rows.append(
            {
                "problem_id": problem.id,
                "kind": kind,
                "milestone": milestone,
                "offset_days": offset,
                "sequence": sequence,
                "fire_at": fire_at,
                "status": "pending",
                "state_version": problem.state_version,
                "recipient_id": problem.responsible_person_id,
                "created_at": now,
            }
        )

    for m in milestones:
        if m.done_at is not None:
            continue
        if (m.kind == "verification") != (problem.status == "submitted"):
            continue
        for offset in policy.reminder_offsets_days:
            fire_at = reminder_moment(m.due_at, offset)
            if fire_at > now:
                add("due" if offset == 0 and m.kind == "completion" else "reminder", m.kind, fire_at, offset)
        if m.kind == "completion":
            first = m.due_at + policy.escalation_first_after
            sequence = 1
            if first <= now:
                sequence += int((now - first) / policy.escalation_repeat) + 1
            add("escalation", m.kind, first + (sequence - 1) * policy.escalation_repeat, 0, sequence)
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
        await session.flush()
    await repository.cancel_pending_timers(session, problem.id)
    await repository.insert_timers(session, timer_rows(problem, milestones, now=now, policy=policy))


# --- reading ---------------------------------------------------------------------------------


def to_read(
    problem: Problem, milestones: list[Milestone], *, now: datetime, calendar: WorkCalendar, policy: Policy
) -> ProblemRead:
    today = local_date(now)
    active = problem.status != "closed"
    due = problem.light_due_at
    return ProblemRead(
        id=problem.id or 0,
        source_event_id=problem.source_event_id,
        round_code=problem.round_code,
        sheet_id=problem.sheet_id,
        item_code=problem.item_code,
        item_title=problem.item_title,
        site=SiteRef(
            code=problem.site_code,
            name=problem.site_name,
            type=problem.site_type,
            org_unit=problem.org_unit,
            district=problem.district,
        ),
        org_unit=problem.org_unit,
        district=problem.district,
        level=problem.level,
        category=problem.category,
        severity=problem.severity,
        severity_label=SEVERITY_LABELS.get(problem.severity, problem.severity),
        description=problem.description,
        concerns=problem.concerns,
        deduction_points=problem.deduction_points,
        evidence=problem.evidence,
        issued_by=problem.issued_by,
        issuing_unit=problem.issuing_unit,
        responsible_unit=problem.responsible_unit,
        responsible_person=(
            PersonRead(user_id=problem.responsible_person_id, name=problem.responsible_person_name)
            if problem.responsible_person_id
            else None
        ),
        status=problem.status,
        created_at=problem.created_at,
        deadline_at=problem.deadline_at,
        deadline_on=local_date(problem.deadline_at),
        days_left=days_left(due, now) if active and due else None,
        working_days_left=calendar.working_days_between(today, local_date(due)) if active and due else None,
        light=light_for(due, now, yellow_days=policy.yellow_days, red_days=policy.red_days)
        if active
        else None,
        provisional=problem.provisional,
        submitted_at=problem.submitted_at,
        closed_at=problem.closed_at,
        closed_on_time=problem.closed_on_time,
        extension_count=problem.extension_count,
        milestones=[
            MilestoneRead(
                kind=m.kind,
                label=MILESTONE_LABELS.get(m.kind, m.kind),
                due_at=m.due_at,
                due_on=local_date(m.due_at),
                original_due_at=m.original_due_at,
                done_at=m.done_at,
                provisional=m.provisional,
                days_left=days_left(m.due_at, now),
                working_days_left=calendar.working_days_between(today, local_date(m.due_at)),
            )
            for m in milestones
        ],
    )

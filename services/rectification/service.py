"""Rectification rules: creating problems, their lifecycle, and how a problem reads (no FastAPI here)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit, outbox
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.rectification import access, calendars, events, repository, timers
from services.rectification.clients import Directory
from services.rectification.errors import InvalidSchedule, TransitionNotAllowed
from services.rectification.models import Milestone, Problem, milestone_table, outbox_event
from services.rectification.policy import Policy
from services.rectification.schedule import (
    MILESTONE_LABELS,
    SEVERITY_LABELS,
    MilestonePlan,
    Template,
    days_left,
    light_for,
    plan_milestones,
    plan_verification,
)
from services.rectification.schemas import (
    AssignIn,
    FindingEnvelope,
    MilestoneRead,
    PersonRead,
    ProblemCreate,
    ProblemRead,
    SiteRead,
)
from services.rectification.workdays import WorkCalendar, end_of_local_day, local_date

ACTIVE = repository.ACTIVE


def require_state(problem: Problem, allowed: tuple[str, ...], action: str) -> None:
    if problem.status not in allowed:
        raise TransitionNotAllowed(
            f"Cannot {action} a problem that is {problem.status} (allowed from: {', '.join(allowed)})",
            problem_status=problem.status,
            action=action,
            allowed_from=list(allowed),
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
    await emit(session, "rectification.problem.created", problem, recipients, now=now)
    await session.flush()
    await timers.resync_timers(
        session, problem=problem, milestones=milestones, now=now, policy=policy, bump=False
    )
    return problem


async def create_problem_from_finding(
    session: AsyncSession, *, envelope: FindingEnvelope, now: datetime, policy: Policy
) -> tuple[Problem, bool]:
    """The problem for a scoring finding; the same event id always gives the same problem."""
    existing = await repository.get_problem_by_source(session, envelope.id)
    if existing is not None:
        return existing, False
    data = envelope.data
    access.check_site(data.site, ["body", "data", "site"])
    template = await calendars.template_for(session, data.severity)
    plans = plan_milestones(
        calendar=await calendars.load_calendar(session), template=template, starts_at=now, deadline_at=None
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
        issuing_unit=orgunit.city_root(),
        responsible_unit=data.site.org_unit,
        status="open",
        created_at=now,
        deadline_at=now,
        template=template.as_dict(),
    )
    return await _insert_problem(
        session, problem=problem, plans=plans, actor=data.issued_by, now=now, policy=policy
    ), True


def deadline_moment(on: date | None, at: datetime | None) -> datetime | None:
    if at is not None:
        return at.astimezone(UTC)
    return end_of_local_day(on) if on is not None else None


async def create_problem(
    session: AsyncSession,
    *,
    principal: Principal,
    problem_in: ProblemCreate,
    directory: Directory,
    now: datetime,
    policy: Policy,
) -> Problem:
    """A problem entered by hand by a city or district admin.

    The site comes from sampling's directory and the responsible person from notify's, both inside
    the caller's scope (422 naming the field otherwise); the body names them by code and user id.
    """
    site = await access.resolve_site(
        directory, principal, code=problem_in.site.code, loc=["body", "site", "code"]
    )
    person = None
    if problem_in.responsible_person is not None:
        person = await access.resolve_person(
            directory,
            principal,
            district=site.district,
            user_id=problem_in.responsible_person.user_id,
            loc=["body", "responsible_person", "user_id"],
        )
    if problem_in.responsible_unit is not None:
        access.check_unit(principal, site.district, problem_in.responsible_unit, ["body", "responsible_unit"])
    if problem_in.deadline_on is not None and problem_in.deadline_at is not None:
        raise InvalidSchedule(
            "Give the deadline as a date or as a moment, not both",
            errors=[field_error(["body", "deadline_at"], "give either deadline_on or deadline_at")],
        )
    deadline = deadline_moment(problem_in.deadline_on, problem_in.deadline_at)
    deadline_loc: list[str | int] = ["body", "deadline_at" if problem_in.deadline_at else "deadline_on"]
    errors = []
    if deadline is not None and deadline <= now:
        errors.append(field_error(deadline_loc, f"the deadline {deadline.isoformat()} is in the past"))
    template = await calendars.template_for(session, problem_in.severity)
    plans = plan_milestones(
        calendar=await calendars.load_calendar(session),
        template=template,
        starts_at=now,
        deadline_at=deadline,
        plan_due_at=deadline_moment(problem_in.plan_due_on, None),
        midterm_due_at=deadline_moment(problem_in.midterm_due_on, None),
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
    problem = Problem(
        round_code=problem_in.round_code,
        sheet_id=problem_in.sheet_id,
        item_code=problem_in.item_code,
        item_title=problem_in.item_title,
        site_code=site.code,
        site_name=site.name,
        site_type=site.type,
        org_unit=site.org_unit,
        district=site.district,
        level=problem_in.level,
        category=problem_in.category,
        severity=problem_in.severity,
        description=problem_in.description,
        concerns=problem_in.concerns,
        evidence=[{**e.model_dump(), "stage": "finding"} for e in problem_in.evidence],
        issued_by=principal.sub,
        issuing_unit=principal.scope or orgunit.city_root(),
        responsible_unit=problem_in.responsible_unit or (person.org_unit if person else site.org_unit),
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


async def milestones_for(session: AsyncSession, problem: Problem) -> list[Milestone]:
    assert problem.id is not None
    return (await repository.milestones_of(session, [problem.id]))[problem.id]


def _milestone(milestones: list[Milestone], kind: str) -> Milestone | None:
    return next((m for m in milestones if m.kind == kind), None)


async def emit(
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


async def transition(
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
    timers.set_light_due(problem, milestones)
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
    await timers.resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
    return problem


async def start(
    session: AsyncSession, *, problem: Problem, plan: str, principal: Principal, now: datetime, policy: Policy
) -> Problem:
    """Begin (or resume after a return) the rectification, with its plan; the plan milestone is met."""
    access.require_responsible(principal, problem, "start")
    require_state(problem, ("open", "returned"), "start")
    milestones = await milestones_for(session, problem)
    plan_ms = _milestone(milestones, "plan")
    if plan_ms is not None and plan_ms.done_at is None:
        plan_ms.done_at = now
    return await transition(
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
    access.require_responsible(principal, problem, "report progress on")
    require_state(problem, ("in_progress",), "report progress on")
    milestones = await milestones_for(session, problem)
    midterm = _milestone(milestones, "midterm")
    if midterm is not None and midterm.done_at is None:
        midterm.done_at = now
    problem.evidence = [*problem.evidence, *({**e, "stage": "progress"} for e in evidence)]
    return await transition(
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
    access.require_responsible(principal, problem, "submit")
    require_state(problem, ("in_progress", "returned"), "submit")
    milestones = await milestones_for(session, problem)
    for m in milestones:
        if m.kind in ("plan", "midterm", "completion") and m.done_at is None:
            m.done_at = now
    template = (
        Template(**problem.template)
        if problem.template
        else await calendars.template_for(session, problem.severity)
    )
    vplan = plan_verification(
        calendar=await calendars.load_calendar(session), template=template, submitted_at=now
    )
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
    return await transition(
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
    access.require_verifier(principal, problem, "close")
    require_state(problem, ("submitted",), "close")
    milestones = await milestones_for(session, problem)
    verification = _milestone(milestones, "verification")
    if verification is not None:
        verification.done_at = now
    problem.closed_at = now
    problem.closed_on_time = problem.submitted_at is not None and problem.submitted_at <= problem.deadline_at
    await transition(
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
    await emit(
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
    access.require_verifier(principal, problem, "return")
    require_state(problem, ("submitted",), "return")
    milestones = await milestones_for(session, problem)
    completion = _milestone(milestones, "completion")
    if completion is not None:
        completion.done_at = None
    verification = _milestone(milestones, "verification")
    if verification is not None:
        await session.execute(delete(milestone_table).where(milestone_table.c.id == verification.id))
        milestones.remove(verification)
        session.expunge(verification)
    problem.submitted_at = None
    await transition(
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
    await emit(
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
    directory: Directory,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Assign or reassign the responsible person; reminders move to the new person.

    The person must be known to notify's directory, lie in the problem's district and in the
    caller's scope; their unit and name come from the directory (422 naming the field otherwise).
    """
    access.require(access.is_admin_over(principal, problem), "assign a responsible person to", problem)
    if problem.status == "closed":
        raise TransitionNotAllowed(
            "A closed problem cannot be reassigned", problem_status=problem.status, action="assign"
        )
    person = await access.resolve_person(
        directory,
        principal,
        district=problem.district,
        user_id=assign_in.responsible_person.user_id,
        loc=["body", "responsible_person", "user_id"],
    )
    previous = problem.responsible_person_id
    problem.responsible_person_id = person.user_id
    problem.responsible_person_name = person.name
    problem.responsible_unit = person.org_unit
    milestones = await milestones_for(session, problem)
    await transition(
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
    await emit(
        session,
        "rectification.problem.assigned",
        problem,
        [events.person(person.user_id)],
        now=now,
        previous_responsible_person_id=previous,
    )
    return problem


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
        site=SiteRead(
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

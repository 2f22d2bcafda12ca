"""Problem rules: creating problems, their lifecycle, and how they read (no FastAPI here)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit, outbox
from services.kit.auth import Principal
from services.kit.errors import ServiceUnavailable, field_error
from services.kit.pagination import Page, PageParams, Sort
from services.kit.workdays import WorkCalendar, end_of_local_day, local_date
from services.rectification import events
from services.rectification.clients import Directory, DirectoryPerson, EvidenceFiles
from services.rectification.countdown import (
    MilestonePlan,
    Template,
    days_left,
    light_bounds,
    light_for,
    plan_milestones,
    plan_verification,
)
from services.rectification.deadlines import service as deadlines
from services.rectification.deadlines.policy import Policy
from services.rectification.enums import (
    MILESTONE_LABELS,
    NOT_TERMINAL,
    SEVERITY_LABELS,
    TERMINAL,
    EvidenceStage,
    HistoryAction,
    Light,
    MilestoneKind,
    Status,
)
from services.rectification.errors import (
    InvalidMerge,
    InvalidSchedule,
    ProblemNotFound,
    TransitionNotAllowed,
    action_zh,
    status_zh,
)
from services.rectification.events import EventType
from services.rectification.models import Milestone, Problem, ProblemHistory, outbox_event
from services.rectification.problems import access, repository
from services.rectification.problems import evidence as evidence_rules
from services.rectification.problems.errors import BatchRejected
from services.rectification.problems.filters import ProblemFilter, Visibility
from services.rectification.problems.schemas import (
    AssignBatchIn,
    AssignIn,
    BulletinItem,
    Counts,
    DistrictStats,
    EvidenceIn,
    FollowUpSite,
    HistoryRead,
    MergeRead,
    MilestoneRead,
    PersonRead,
    ProblemCreate,
    ProblemRead,
    SiteRead,
    WithdrawalRead,
)


def require_state(problem: Problem, allowed: tuple[Status, ...], action: str) -> None:
    """409 naming the states `action` is allowed from, unless the problem is in one."""
    if problem.status not in allowed:
        raise TransitionNotAllowed(
            f"Cannot {action} a problem that is {problem.status} (allowed from: {', '.join(allowed)})",
            zh=f"问题当前为{status_zh(problem.status)}，不能{action_zh(action)}（可{action_zh(action)}的状态：{'、'.join(status_zh(a) for a in allowed)}）",
            problem_status=problem.status,
            action=action,
            allowed=[str(a) for a in allowed],
        )


async def visible_problem(
    session: AsyncSession, principal: Principal, problem_id: int, *, for_update: bool
) -> Problem:
    """The problem if `principal` may see it; a write locks it for its transaction (one change at a time).

    A problem the caller may not see is answered exactly like a missing one: neither its existence
    nor its place leaks.
    """
    problem = access.visible_to(
        principal, await repository.get_problem(session, problem_id, for_update=for_update)
    )
    if problem is None:
        raise ProblemNotFound(
            f"No problem with id {problem_id}", zh=f"没有编号为 {problem_id} 的问题", problem_id=problem_id
        )
    return problem


# --- creating problems -----------------------------------------------------------------------


async def insert_problem(
    session: AsyncSession,
    *,
    problem: Problem,
    plans: list[MilestonePlan],
    actor: str,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Record a new problem with its milestones, its history, its event and its timers."""
    problem.deadline_at = next(p.due_at for p in plans if p.kind == MilestoneKind.COMPLETION)
    problem.provisional = any(p.provisional for p in plans)
    problem.light_due_at = problem.deadline_at
    problem_id = await repository.add_problem(session, problem)
    milestones = [
        Milestone(
            problem_id=problem_id,
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
    repository.add_milestones(session, milestones)
    repository.add_history(
        session,
        problem=problem,
        at=now,
        actor=actor,
        action=HistoryAction.CREATED,
        from_status=None,
        to_status=problem.status,
        detail={"deadline_at": problem.deadline_at.isoformat(), "provisional": problem.provisional},
    )
    await emit_payload(session, EventType.PROBLEM_CREATED, events.created_payload(problem), now=now)
    await repository.flush(session)
    await deadlines.emit_fact(session, problem, now=now)
    await deadlines.resync_timers(
        session, problem=problem, milestones=milestones, now=now, policy=policy, bump=False
    )
    return problem


def deadline_moment(on: date | None, at: datetime | None) -> datetime | None:
    """A deadline given as a day (it ends 23:59:59 Beijing time) or as a moment, in UTC."""
    if at is not None:
        return at.astimezone(UTC)
    return end_of_local_day(on) if on is not None else None


async def create_problem(
    session: AsyncSession,
    *,
    principal: Principal,
    problem_in: ProblemCreate,
    directory: Directory,
    files: EvidenceFiles,
    now: datetime,
    policy: Policy,
) -> Problem:
    """A problem entered by hand by a city or district admin.

    The site comes from sampling's directory and the responsible person from notify's, both inside
    the caller's scope (422 naming the field otherwise); the body names them by code and user id. A
    name, type, unit or district the body repeats must be the directory's (422 naming it otherwise).
    Evidence is named by file id at the evidence service, inside the caller's scope (422 naming it).
    """
    site = await access.resolve_site(
        directory, principal, code=problem_in.site.code, loc=["body", "site", "code"]
    )
    wrong = access.site_fact_errors(
        problem_in.site.model_dump(include={"name", "type", "org_unit", "district"}), site, ["body", "site"]
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
        wrong += access.person_fact_errors(
            problem_in.responsible_person.model_dump(include={"name", "org_unit"}),
            person,
            ["body", "responsible_person"],
        )
    access.refuse_facts(wrong)
    found = await evidence_rules.resolve(files, problem_in.evidence, principal=principal)
    if problem_in.responsible_unit is not None:
        access.check_unit(principal, site.district, problem_in.responsible_unit, ["body", "responsible_unit"])
    if problem_in.deadline_on is not None and problem_in.deadline_at is not None:
        raise InvalidSchedule(
            "Give the deadline as a date or as a moment, not both",
            zh="整改期限请给出日期或时刻，不能同时给出",
            errors=[
                field_error(
                    ["body", "deadline_at"],
                    "give either deadline_on or deadline_at",
                    zh="deadline_on 与 deadline_at 只能给出一个",
                )
            ],
        )
    deadline = deadline_moment(problem_in.deadline_on, problem_in.deadline_at)
    deadline_loc: list[str | int] = ["body", "deadline_at" if problem_in.deadline_at else "deadline_on"]
    errors = []
    if deadline is not None and deadline <= now:
        errors.append(
            field_error(
                deadline_loc,
                f"the deadline {deadline.isoformat()} is in the past",
                zh=f"整改期限 {deadline.isoformat()} 已经过去",
            )
        )
    template = await deadlines.template_for(session, problem_in.severity)
    plans = plan_milestones(
        calendar=await deadlines.load_calendar(session),
        template=template,
        starts_at=now,
        deadline_at=deadline,
        plan_due_at=deadline_moment(problem_in.plan_due_on, None),
        midterm_due_at=deadline_moment(problem_in.midterm_due_on, None),
    )
    completion = next(p for p in plans if p.kind == MilestoneKind.COMPLETION)
    for name, on in (("plan_due_on", problem_in.plan_due_on), ("midterm_due_on", problem_in.midterm_due_on)):
        if on is None:
            continue
        moment = end_of_local_day(on)
        if moment <= now:
            errors.append(field_error(["body", name], f"{on} is in the past", zh=f"{on} 已经过去"))
        elif moment > completion.due_at:
            errors.append(
                field_error(
                    ["body", name],
                    f"{on} is after the deadline {local_date(completion.due_at)}",
                    zh=f"{on} 晚于整改期限 {local_date(completion.due_at)}",
                )
            )
    if errors:
        raise InvalidSchedule(
            "The countdown schedule is not possible", zh="倒排时间表无法成立", errors=errors
        )
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
        evidence=evidence_rules.stored(
            problem_in.evidence, found, stage=EvidenceStage.FINDING, actor=principal.sub, now=now
        ),
        issued_by=principal.sub,
        issuing_unit=principal.scope or orgunit.city_root(),
        responsible_unit=problem_in.responsible_unit or (person.org_unit if person else site.org_unit),
        responsible_person_id=person.user_id if person else None,
        responsible_person_name=person.name if person else None,
        status=Status.OPEN,
        created_at=now,
        deadline_at=completion.due_at,
        template=template.as_dict(),
    )
    return await insert_problem(
        session, problem=problem, plans=plans, actor=principal.sub, now=now, policy=policy
    )


# --- lifecycle -------------------------------------------------------------------------------


async def milestones_for(session: AsyncSession, problem: Problem) -> list[Milestone]:
    """The problem's milestones, in order."""
    assert problem.id is not None
    return (await repository.milestones_of(session, [problem.id]))[problem.id]


def _milestone(milestones: list[Milestone], kind: MilestoneKind) -> Milestone | None:
    return next((m for m in milestones if m.kind == kind), None)


async def emit_payload(
    session: AsyncSession, event_type: EventType, payload: dict[str, Any], *, now: datetime
) -> None:
    """Enqueue an event whose payload an `events` builder made, in the caller's transaction."""
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=event_type,
        target=events.TARGET,
        path=events.PATH,
        payload=payload,
        now=now,
    )


async def transition(
    session: AsyncSession,
    *,
    problem: Problem,
    milestones: list[Milestone],
    to_status: str,
    action: HistoryAction,
    principal: Principal,
    now: datetime,
    policy: Policy,
    detail: dict[str, Any] | None = None,
) -> Problem:
    """Move the problem to `to_status`, record it, reschedule its timers and send reporting its snapshot."""
    from_status = problem.status
    problem.status = to_status
    deadlines.set_light_due(problem, milestones)
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
    await repository.flush(session)
    await deadlines.resync_timers(session, problem=problem, milestones=milestones, now=now, policy=policy)
    await deadlines.emit_fact(session, problem, now=now)
    return problem


async def start(
    session: AsyncSession, *, problem: Problem, plan: str, principal: Principal, now: datetime, policy: Policy
) -> Problem:
    """Begin (or resume after a return) the rectification, with its plan; the plan milestone is met."""
    access.require_responsible(principal, problem, "start")
    require_state(problem, (Status.OPEN, Status.RETURNED), "start")
    milestones = await milestones_for(session, problem)
    plan_ms = _milestone(milestones, MilestoneKind.PLAN)
    if plan_ms is not None and plan_ms.done_at is None:
        plan_ms.done_at = now
    return await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.IN_PROGRESS,
        action=HistoryAction.START,
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
    evidence: Sequence[EvidenceIn],
    files: EvidenceFiles,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Record a progress report; the first one meets the mid-term milestone."""
    access.require_responsible(principal, problem, "report progress on")
    require_state(problem, (Status.IN_PROGRESS,), "report progress on")
    found = await evidence_rules.resolve(files, evidence, principal=principal)
    milestones = await milestones_for(session, problem)
    midterm = _milestone(milestones, MilestoneKind.MIDTERM)
    if midterm is not None and midterm.done_at is None:
        midterm.done_at = now
    given = evidence_rules.stored(evidence, found, stage=EvidenceStage.PROGRESS, actor=principal.sub, now=now)
    problem.evidence = [*problem.evidence, *given]
    return await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.IN_PROGRESS,
        action=HistoryAction.PROGRESS,
        principal=principal,
        now=now,
        policy=policy,
        detail={"note": note, "evidence": given},
    )


async def submit(
    session: AsyncSession,
    *,
    problem: Problem,
    note: str,
    evidence: Sequence[EvidenceIn],
    files: EvidenceFiles,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Submit the rectification for verification, with evidence; the verification countdown starts."""
    access.require_responsible(principal, problem, "submit")
    require_state(problem, (Status.IN_PROGRESS, Status.RETURNED), "submit")
    found = await evidence_rules.resolve(files, evidence, principal=principal)
    milestones = await milestones_for(session, problem)
    for m in milestones:
        if m.kind != MilestoneKind.VERIFICATION and m.done_at is None:
            m.done_at = now
    template = (
        Template(**problem.template)
        if problem.template
        else await deadlines.template_for(session, problem.severity)
    )
    vplan = plan_verification(
        calendar=await deadlines.load_calendar(session), template=template, submitted_at=now
    )
    verification = _milestone(milestones, MilestoneKind.VERIFICATION)
    if verification is None:
        assert problem.id is not None
        verification = Milestone(
            problem_id=problem.id,
            kind=MilestoneKind.VERIFICATION,
            position=4,
            due_at=vplan.due_at,
            original_due_at=vplan.due_at,
        )
        repository.add_milestones(session, [verification])
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
    given = evidence_rules.stored(
        evidence, found, stage=EvidenceStage.COMPLETION, actor=principal.sub, now=now
    )
    problem.evidence = [*problem.evidence, *given]
    await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.SUBMITTED,
        action=HistoryAction.SUBMIT,
        principal=principal,
        now=now,
        policy=policy,
        detail={"note": note, "evidence": given, "on_time": now <= problem.deadline_at},
    )
    await emit_payload(
        session, EventType.PROBLEM_SUBMITTED, events.submitted_payload(problem, note=note, now=now), now=now
    )
    return problem


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
    require_state(problem, (Status.SUBMITTED,), "close")
    milestones = await milestones_for(session, problem)
    verification = _milestone(milestones, MilestoneKind.VERIFICATION)
    if verification is not None:
        verification.done_at = now
    problem.closed_at = now
    problem.closed_on_time = problem.submitted_at is not None and problem.submitted_at <= problem.deadline_at
    await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.CLOSED,
        action=HistoryAction.CLOSE,
        principal=principal,
        now=now,
        policy=policy,
        detail={
            "note": note,
            "on_time": problem.closed_on_time,
            "evidence_sha256": evidence_rules.hashes(problem.evidence),
        },
    )
    await emit_payload(
        session,
        EventType.PROBLEM_CLOSED,
        events.closed_payload(problem, closed_on_time=problem.closed_on_time, note=note),
        now=now,
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
    require_state(problem, (Status.SUBMITTED,), "return")
    milestones = await milestones_for(session, problem)
    completion = _milestone(milestones, MilestoneKind.COMPLETION)
    if completion is not None:
        completion.done_at = None
    verification = _milestone(milestones, MilestoneKind.VERIFICATION)
    if verification is not None:
        await repository.delete_milestone(session, verification)
        milestones.remove(verification)
    problem.submitted_at = None
    await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.RETURNED,
        action=HistoryAction.RETURN,
        principal=principal,
        now=now,
        policy=policy,
        detail={"reason": reason},
    )
    await emit_payload(
        session, EventType.PROBLEM_RETURNED, events.returned_payload(problem, reason=reason), now=now
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
    caller's scope; their unit and name come from the directory (422 naming the field otherwise, and
    when the body repeats a name or unit that is not the directory's).
    """
    access.require(access.is_admin_over(principal, problem), "assign a responsible person to", problem)
    require_state(problem, NOT_TERMINAL, "assign")
    person = await access.resolve_person(
        directory,
        principal,
        district=problem.district,
        user_id=assign_in.responsible_person.user_id,
        loc=["body", "responsible_person", "user_id"],
    )
    access.refuse_facts(
        access.person_fact_errors(
            assign_in.responsible_person.model_dump(include={"name", "org_unit"}),
            person,
            ["body", "responsible_person"],
        )
    )
    return await _assign_person(
        session,
        problem=problem,
        person=person,
        reason=assign_in.reason,
        principal=principal,
        now=now,
        policy=policy,
    )


async def _assign_person(
    session: AsyncSession,
    *,
    problem: Problem,
    person: DirectoryPerson,
    reason: str | None,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Make `person` responsible: their unit, the history entry, the timers, the assigned event."""
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
        action=HistoryAction.ASSIGN if previous is None else HistoryAction.REASSIGN,
        principal=principal,
        now=now,
        policy=policy,
        detail={
            "from": previous,
            "to": person.user_id,
            "responsible_unit": person.org_unit,
            "reason": reason,
        },
    )
    await emit_payload(
        session, EventType.PROBLEM_ASSIGNED, events.assigned_payload(problem, previous=previous), now=now
    )
    return problem


# The finished states, as people read them in a batch's errors.
_FINISHED_ZH = {Status.CLOSED: "已销号", Status.WITHDRAWN: "已撤销", Status.MERGED: "已合并"}
# Directory lookups of one batch in flight at once: enough to be quick, few enough for notify.
_LOOKUPS_AT_ONCE = 8


def _item_error(index: int, field: str, msg: str, kind: str, problem_id: int) -> dict[str, Any]:
    return {**field_error(["body", "items", index, field], msg, kind, zh=msg), "problem_id": problem_id}


async def _people(directory: Directory, user_ids: set[str]) -> dict[str, DirectoryPerson | None]:
    """Each person once from notify's directory (a batch names the same few people many times)."""
    gate = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

    async def one(user_id: str) -> tuple[str, DirectoryPerson | None]:
        async with gate:
            return user_id, await directory.person(user_id)

    return dict(await asyncio.gather(*(one(u) for u in sorted(user_ids))))


async def assign_batch(
    session: AsyncSession,
    *,
    batch: AssignBatchIn,
    principal: Principal,
    directory: Directory,
    now: datetime,
    policy: Policy,
) -> tuple[list[Problem], list[int], list[int]]:
    """Assign many problems at once with the rules of one assignment: all of them or none (422 naming
    each refused item). A problem that already has that person is left as it is.

    Returns the problems in the order given, the ids assigned and the ids left unchanged.
    """
    ids = [item.problem_id for item in batch.items]
    found = await repository.get_problems(session, ids, for_update=True)
    people = await _people(directory, {item.user_id for item in batch.items})
    errors: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(batch.items):
        pid = item.problem_id
        problem = access.visible_to(principal, found.get(pid))
        if pid in seen:
            errors.append(
                _item_error(i, "problem_id", f"与第 {seen[pid] + 1} 项是同一问题", "duplicate", pid)
            )
            continue
        seen[pid] = i
        if problem is None:  # missing and out of sight read the same
            errors.append(
                _item_error(
                    i, "problem_id", f"没有编号为 {pid} 的问题，或不在您的范围内", "problem_not_found", pid
                )
            )
            continue
        if not access.is_admin_over(principal, problem):
            errors.append(_item_error(i, "problem_id", f"您不能为问题 {pid} 指定责任人", "forbidden", pid))
            continue
        if problem.status not in NOT_TERMINAL:
            finished = _FINISHED_ZH.get(Status(problem.status), problem.status)
            errors.append(
                _item_error(
                    i, "problem_id", f"问题 {pid} {finished}，不能再指定责任人", "transition_not_allowed", pid
                )
            )
            continue
        refused = access.person_refusal(people[item.user_id], principal, district=problem.district)
        if refused == access.PERSON_UNKNOWN:
            errors.append(
                _item_error(i, "user_id", f"通讯录中您的范围内没有在岗人员 {item.user_id}", refused, pid)
            )
        elif refused is not None:
            unit = orgunit.district_unit(problem.district)
            errors.append(
                _item_error(i, "user_id", f"{item.user_id} 不属于问题 {pid} 所在区县（{unit}）", refused, pid)
            )
    if errors:
        raise BatchRejected(
            f"{len(errors)} of {len(batch.items)} item(s) refused; nothing was assigned",
            zh=f"{len(batch.items)} 项中有 {len(errors)} 项被拒绝；未指定任何责任人",
            errors=errors,
        )
    problems, assigned, unchanged = [], [], []
    for item in batch.items:
        problem, person = found[item.problem_id], people[item.user_id]
        assert person is not None
        problems.append(problem)
        if problem.responsible_person_id == person.user_id:
            unchanged.append(item.problem_id)
            continue
        await _assign_person(
            session,
            problem=problem,
            person=person,
            reason=batch.reason,
            principal=principal,
            now=now,
            policy=policy,
        )
        assigned.append(item.problem_id)
    return problems, assigned, unchanged


async def withdraw(
    session: AsyncSession,
    *,
    problem: Problem,
    reason: str,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Withdraw a duplicate or mistaken problem (撤销) from any state but a final one.

    The issuing side's admin only (access.py). Its timers are cancelled (no reminder or escalation
    after), it leaves every count, and the responsible side and the district's admins are told.
    """
    access.require_issuing_admin(principal, problem, "withdraw")
    require_state(problem, NOT_TERMINAL, "withdraw")
    milestones = await milestones_for(session, problem)
    problem.withdrawn_at, problem.withdrawn_by, problem.withdraw_reason = now, principal.sub, reason
    await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.WITHDRAWN,
        action=HistoryAction.WITHDRAW,
        principal=principal,
        now=now,
        policy=policy,
        detail={"reason": reason},
    )
    await emit_payload(
        session,
        EventType.PROBLEM_WITHDRAWN,
        events.withdrawn_payload(problem, reason=reason, withdrawn_by=principal.sub),
        now=now,
    )
    return problem


def _merge_refused(into: int, why: str, why_zh: str) -> InvalidMerge:
    return InvalidMerge(
        f"Problem cannot be merged into problem {into}: {why}",
        zh=f"该问题不能合并到问题 {into}：{why_zh}",
        errors=[field_error(["body", "into"], why, zh=why_zh)],
    )


def _is_deadlock(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code == "40P01"


async def _merge_target(session: AsyncSession, principal: Principal, into: int) -> Problem | None:
    """The problem to merge into, locked; a merge the other way round at the same moment is a 503."""
    try:
        target = await repository.get_problem(session, into, for_update=True)
    except DBAPIError as exc:
        if not _is_deadlock(exc):
            raise
        raise ServiceUnavailable(
            "These problems are being merged the other way round at this moment; retry",
            zh="这些问题此刻正以相反方向合并，请重试",
            headers={"retry-after": "1"},
        ) from exc
    return access.visible_to(principal, target)


async def merge(
    session: AsyncSession,
    *,
    problem: Problem,
    into: int,
    reason: str,
    principal: Principal,
    now: datetime,
    policy: Policy,
) -> Problem:
    """Merge a duplicate (`problem`) into another problem of the same site and round (合并).

    The same rule as withdrawing, on the problem merged away; the problem merged into needs only be
    visible to the caller. The duplicate becomes ``merged`` (final, its timers cancelled) with
    `merged_into`; the other keeps its own status and deadline and gains the duplicate's evidence
    (each piece once, marked `merged_from`). Both histories record it.

    422 ``invalid-merge`` naming `into`: itself, a problem the caller cannot see (the same answer as
    a missing one), another site or another round. 409 when either problem is closed, withdrawn or
    merged.
    """
    access.require_issuing_admin(principal, problem, "merge")
    assert problem.id is not None
    if into == problem.id:
        raise _merge_refused(into, "a problem cannot be merged into itself", "问题不能合并到其自身")
    require_state(problem, NOT_TERMINAL, "merge")
    target = await _merge_target(session, principal, into)
    if target is None:
        raise _merge_refused(into, f"no problem {into} that you may see", f"没有您可查看的问题 {into}")
    if target.site_code != problem.site_code:
        raise _merge_refused(
            into,
            f"problem {into} is at site {target.site_code}, this one at {problem.site_code}",
            f"问题 {into} 属于单位 {target.site_code}，本问题属于 {problem.site_code}",
        )
    if target.round_code != problem.round_code:
        raise _merge_refused(
            into,
            f"problem {into} belongs to round {target.round_code or '(none)'}, "
            f"this one to {problem.round_code or '(none)'}",
            f"问题 {into} 属于督查轮次 {target.round_code or '（无）'}，本问题属于 {problem.round_code or '（无）'}",
        )
    if target.status in TERMINAL:
        raise TransitionNotAllowed(
            f"Cannot merge into problem {into}, which is {target.status} (allowed: {', '.join(NOT_TERMINAL)})",
            zh=f"不能合并到问题 {into}，它当前为{status_zh(target.status)}（可合并的状态：{'、'.join(status_zh(a) for a in NOT_TERMINAL)}）",
            problem_id=into,
            problem_status=target.status,
            action="merge",
            allowed=[str(a) for a in NOT_TERMINAL],
        )
    held = {evidence_rules.key_of(e) for e in target.evidence}
    moved: list[dict[str, Any]] = []
    for e in problem.evidence:
        if evidence_rules.key_of(e) not in held:
            held.add(evidence_rules.key_of(e))
            moved.append({**e, "merged_from": problem.id})
    target.evidence = [*target.evidence, *moved]
    repository.add_history(
        session,
        problem=target,
        at=now,
        actor=principal.sub,
        action=HistoryAction.MERGE_RECEIVED,
        from_status=target.status,
        to_status=target.status,
        detail={"merged_from": problem.id, "reason": reason, "evidence": moved},
    )
    await deadlines.emit_fact(session, target, now=now)
    problem.merged_into_id, problem.merged_at = target.id, now
    problem.merged_by, problem.merge_reason = principal.sub, reason
    milestones = await milestones_for(session, problem)
    await transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=Status.MERGED,
        action=HistoryAction.MERGE,
        principal=principal,
        now=now,
        policy=policy,
        detail={"merged_into": target.id, "reason": reason},
    )
    await emit_payload(
        session,
        EventType.PROBLEM_MERGED,
        events.merged_payload(problem, into=target, reason=reason, merged_by=principal.sub),
        now=now,
    )
    return problem


# --- reading ---------------------------------------------------------------------------------


def person_read(user_id: str | None, name: str | None) -> PersonRead | None:
    return PersonRead(user_id=user_id, name=name) if user_id else None


def to_read(
    problem: Problem,
    milestones: list[Milestone],
    *,
    now: datetime,
    calendar: WorkCalendar,
    policy: Policy,
    merged_from: list[int] | None = None,
) -> ProblemRead:
    """How a problem reads at `now`: its countdown, days left and light."""
    today = local_date(now)
    active = problem.status not in TERMINAL
    due = problem.light_due_at
    return ProblemRead(
        id=problem.id or 0,
        source_event_id=problem.source_event_id,
        round_code=problem.round_code,
        sheet_id=problem.sheet_id,
        finding_id=problem.finding_id,
        item_code=problem.item_code,
        item_title=problem.item_title,
        title=events.title_of(problem),
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
        evidence=[
            evidence_rules.view(e, issued_at=problem.created_at, submitted_at=problem.submitted_at)
            for e in problem.evidence
        ],
        issued_by=problem.issued_by,
        issuing_unit=problem.issuing_unit,
        responsible_unit=problem.responsible_unit,
        responsible_person=person_read(problem.responsible_person_id, problem.responsible_person_name),
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
        withdrawal=WithdrawalRead(
            at=problem.withdrawn_at, by=problem.withdrawn_by or "", reason=problem.withdraw_reason or ""
        )
        if problem.withdrawn_at is not None
        else None,
        merged_into=MergeRead(
            problem_id=problem.merged_into_id,
            at=problem.merged_at or problem.created_at,
            by=problem.merged_by or "",
            reason=problem.merge_reason or "",
        )
        if problem.merged_into_id is not None
        else None,
        merged_from=merged_from or [],
    )


async def read(session: AsyncSession, problem: Problem, *, now: datetime, policy: Policy) -> ProblemRead:
    """One problem as it reads at `now`."""
    return (await read_many(session, [problem], now=now, policy=policy))[0]


async def read_many(
    session: AsyncSession, problems: Sequence[Problem], *, now: datetime, policy: Policy
) -> list[ProblemRead]:
    """Problems as they read at `now` (their milestones in one query)."""
    ids = [p.id for p in problems if p.id is not None]
    milestones = await repository.milestones_of(session, ids)
    merged_from = await repository.merged_from_of(session, ids)
    calendar = await deadlines.load_calendar(session)
    return [
        to_read(p, milestones[p.id], now=now, calendar=calendar, policy=policy, merged_from=merged_from[p.id])
        for p in problems
        if p.id is not None
    ]


async def list_problems(
    session: AsyncSession,
    *,
    principal: Principal,
    problem_filter: ProblemFilter,
    light: Light | None,
    page: PageParams,
    sort: Sort,
    now: datetime,
    policy: Policy,
) -> Page[ProblemRead]:
    """The problems `principal` may see that the filter (and the light at `now`) selects."""
    if light is not None:
        problem_filter.light_range = light_bounds(
            light, now, yellow_days=policy.yellow_days, red_days=policy.red_days
        )
    problems, total = await repository.list_problems(
        session, access.visibility_filter(principal, problem_filter), page, sort=sort
    )
    return Page.of(await read_many(session, problems, now=now, policy=policy), total, page)


async def list_my_problems(
    session: AsyncSession,
    *,
    principal: Principal,
    include_closed: bool,
    page: PageParams,
    now: datetime,
    policy: Policy,
) -> Page[ProblemRead]:
    """The problems `principal` is responsible for, most urgent first (closed ones last, if asked for)."""
    f = ProblemFilter(
        responsible_person_id=principal.sub,
        visible=Visibility(principal=principal, own_person_id=principal.sub),
    )
    if not include_closed:
        f.light_range = (None, None)
    problems, total = await repository.list_problems(session, f, page)
    return Page.of(await read_many(session, problems, now=now, policy=policy), total, page)


async def history(session: AsyncSession, problem: Problem, page: PageParams) -> Page[HistoryRead]:
    """One page of the problem's history, oldest first."""
    assert problem.id is not None
    rows, total = await repository.history_of(session, problem.id, page)
    return Page.of([_history_read(h) for h in rows], total, page)


def _history_read(entry: ProblemHistory) -> HistoryRead:
    return HistoryRead.model_validate(
        {
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "detail": entry.detail,
        }
    )


# --- statistics, bulletin, follow-up ---------------------------------------------------------

_COUNT_KEYS = ("open", "overdue", "closed_on_time", "closed_late")


def district_stats_from_rows(rows: Sequence[dict[str, Any]]) -> list[DistrictStats]:
    """Per-district totals (and by category and severity) from the grouped counts, by district."""
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        d = totals.setdefault(
            r["district"],
            {
                "counts": dict.fromkeys(_COUNT_KEYS, 0),
                "close_days": 0.0,
                "cat": defaultdict(Counts),
                "sev": defaultdict(Counts),
            },
        )
        for k in _COUNT_KEYS:
            n = int(r[k] or 0)
            d["counts"][k] += n
            setattr(d["cat"][r["category"]], k, getattr(d["cat"][r["category"]], k) + n)
            setattr(d["sev"][r["severity"]], k, getattr(d["sev"][r["severity"]], k) + n)
        d["close_days"] += float(r["close_days"] or 0.0)
    items = []
    for district, d in sorted(totals.items()):
        closed = d["counts"]["closed_on_time"] + d["counts"]["closed_late"]
        items.append(
            DistrictStats(
                district=district,
                **d["counts"],
                average_days_to_close=round(d["close_days"] / closed, 2) if closed else None,
                by_category=dict(d["cat"]),
                by_severity=dict(d["sev"]),
            )
        )
    return items


async def district_stats(
    session: AsyncSession, *, principal: Principal, round_code: str | None, page: PageParams, now: datetime
) -> Page[DistrictStats]:
    """Open, overdue and closed (on time / late) problems per district that `principal` may see."""
    f = access.visibility_filter(principal, ProblemFilter(round_code=round_code))
    rows = await repository.district_stats_rows(session, f, now=now)
    return Page.slice(district_stats_from_rows(rows), page)


async def overdue_bulletin(
    session: AsyncSession,
    *,
    principal: Principal,
    district: str | None,
    round_code: str | None,
    page: PageParams,
    now: datetime,
) -> Page[BulletinItem]:
    """The overdue problems for the bulletin (问题通报), by district, most overdue first."""
    f = access.visibility_filter(principal, ProblemFilter(district=district, round_code=round_code))
    problems, total = await repository.overdue_problems(session, f, page, now=now)
    items = [
        BulletinItem(
            problem_id=p.id or 0,
            district=p.district,
            site_code=p.site_code,
            site_name=p.site_name,
            org_unit=p.org_unit,
            category=p.category,
            severity=p.severity,
            severity_label=SEVERITY_LABELS.get(p.severity, p.severity),
            description=p.description,
            responsible_unit=p.responsible_unit,
            responsible_person=person_read(p.responsible_person_id, p.responsible_person_name),
            deadline_at=p.deadline_at,
            days_overdue=(local_date(now) - local_date(p.deadline_at)).days,
            status=p.status,
        )
        for p in problems
    ]
    return Page.of(items, total, page)


async def follow_up_sites(
    session: AsyncSession,
    *,
    principal: Principal,
    round_code: str | None,
    district: str | None,
    page: PageParams,
    now: datetime,
) -> Page[FollowUpSite]:
    """Sites with overdue problems, most first, for the follow-up visit (回头看)."""
    rows, total = await repository.follow_up_sites(
        session, page, now=now, round_code=round_code, district=district, visible=access.visibility(principal)
    )
    return Page.of([FollowUpSite.model_validate(r) for r in rows], total, page)

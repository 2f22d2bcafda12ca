"""Extension requests (延期申请): asked by the responsible person, decided by the issuing authority."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.pagination import Page, PageParams
from services.rectification import events
from services.rectification.deadlines.policy import Policy
from services.rectification.enums import ACTIVE, ExtensionStatus, HistoryAction
from services.rectification.errors import ExtensionNotAllowed, ExtensionNotFound, InvalidSchedule, status_zh
from services.rectification.events import EventType
from services.rectification.extensions import access, repository
from services.rectification.extensions.schemas import ExtensionCreate, ExtensionRead
from services.rectification.models import ExtensionRequest, Problem
from services.rectification.problems import repository as problem_repository
from services.rectification.problems import service as problem_service


async def list_extensions(
    session: AsyncSession, *, problem: Problem, status: ExtensionStatus | None, page: PageParams
) -> Page[ExtensionRead]:
    """One page of a problem's extension requests (in `status`, if given), oldest first."""
    assert problem.id is not None
    rows, total = await repository.page_of(session, problem.id, page, status=status)
    return Page.of([ExtensionRead.model_validate(e) for e in rows], total, page)


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
    access.require_requester(principal, problem)
    if problem.status not in ACTIVE:
        raise ExtensionNotAllowed(
            f"No extension can be requested for a problem that is {problem.status}",
            zh=f"问题当前为{status_zh(problem.status)}，不能申请延期",
            problem_status=problem.status,
        )
    assert problem.id is not None
    existing = await repository.extensions_of(session, problem.id)
    if any(e.status == ExtensionStatus.PENDING for e in existing):
        raise ExtensionNotAllowed(
            "An extension request for this problem is already pending", zh="该问题已有一份待审批的延期申请"
        )
    if len(existing) >= policy.max_extensions:
        raise ExtensionNotAllowed(
            f"At most {policy.max_extensions} extension requests per problem",
            zh=f"每个问题至多申请延期 {policy.max_extensions} 次",
            max_extensions=policy.max_extensions,
        )
    if (ext_in.new_deadline_on is None) == (ext_in.new_deadline_at is None):
        raise InvalidSchedule(
            "Give the new deadline as a date or as a moment",
            zh="新的整改期限请给出日期或时刻（二选一）",
            errors=[
                field_error(
                    ["body", "new_deadline_on"],
                    "give exactly one of new_deadline_on, new_deadline_at",
                    zh="new_deadline_on 与 new_deadline_at 须且只能给出一个",
                )
            ],
        )
    new_deadline = problem_service.deadline_moment(ext_in.new_deadline_on, ext_in.new_deadline_at)
    assert new_deadline is not None
    loc: list[str | int] = ["body", "new_deadline_on" if ext_in.new_deadline_on else "new_deadline_at"]
    if new_deadline <= problem.deadline_at or new_deadline <= now:
        raise InvalidSchedule(
            "The new deadline must be later than the current one",
            zh="新的整改期限须晚于当前期限",
            errors=[
                field_error(
                    loc,
                    f"must be after the current deadline {problem.deadline_at.isoformat()} and now",
                    zh=f"须晚于当前期限 {problem.deadline_at.isoformat()} 和当前时间",
                )
            ],
        )
    ext = ExtensionRequest(
        problem_id=problem.id,
        requested_by=principal.sub,
        reason=ext_in.reason,
        requested_deadline_at=new_deadline,
        previous_deadline_at=problem.deadline_at,
        status=ExtensionStatus.PENDING,
        created_at=now,
    )
    await repository.add(session, ext)
    problem_repository.add_history(
        session,
        problem=problem,
        at=now,
        actor=principal.sub,
        action=HistoryAction.EXTENSION_REQUESTED,
        from_status=problem.status,
        to_status=problem.status,
        detail={"reason": ext_in.reason, "requested_deadline_at": new_deadline.isoformat()},
    )
    await problem_repository.flush(session)
    await problem_service.emit_payload(
        session,
        EventType.EXTENSION_REQUESTED,
        events.extension_requested_payload(
            problem,
            extension_id=ext.id,
            requested_by=principal.sub,
            reason=ext_in.reason,
            new_deadline_at=new_deadline,
        ),
        now=now,
    )
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
        raise ExtensionNotFound(
            f"No extension request {extension_id} on problem {problem.id}",
            zh=f"问题 {problem.id} 没有延期申请 {extension_id}",
        )
    access.require_issuer(principal, problem)
    if ext.status != ExtensionStatus.PENDING:
        raise ExtensionNotAllowed(
            f"This extension request was already {ext.status}",
            zh=f"该延期申请已{status_zh(ext.status)}",
            extension_status=ext.status,
        )
    if problem.status not in ACTIVE:
        raise ExtensionNotAllowed(
            f"The problem is {problem.status}; the extension can no longer apply",
            zh=f"问题当前为{status_zh(problem.status)}，该延期申请已不再适用",
            problem_status=problem.status,
        )
    ext.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    ext.decided_by, ext.decided_at, ext.decision_note = principal.sub, now, note
    old_deadline = problem.deadline_at
    milestones = await problem_service.milestones_for(session, problem)
    if approve:
        if ext.requested_deadline_at <= now:
            raise ExtensionNotAllowed(
                "The requested deadline has already passed; ask for a new date",
                zh="申请的期限已经过去；请申请新的日期",
            )
        shift = ext.requested_deadline_at - old_deadline
        for m in milestones:
            if m.done_at is None and m.due_at >= old_deadline:
                m.due_at = m.due_at + shift
                m.base_on, m.days, m.provisional = None, None, False
        problem.deadline_at = ext.requested_deadline_at
        problem.extension_count += 1
        problem.provisional = any(m.provisional for m in milestones if m.done_at is None)
    await problem_service.transition(
        session,
        problem=problem,
        milestones=milestones,
        to_status=problem.status,
        action=HistoryAction.EXTENSION_APPROVED if approve else HistoryAction.EXTENSION_REJECTED,
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
    await problem_service.emit_payload(
        session,
        EventType.EXTENSION_DECIDED,
        events.extension_decided_payload(
            problem,
            requested_by=ext.requested_by,
            approved=approve,
            previous_deadline_at=old_deadline,
            requested_deadline_at=ext.requested_deadline_at,
            note=note,
        ),
        now=now,
    )
    return ext

"""A problem's durable timers: what it needs from now on, rescheduled on every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rectification import repository
from services.rectification.models import Milestone, Problem
from services.rectification.policy import Policy
from services.rectification.schedule import reminder_moment


def set_light_due(problem: Problem, milestones: list[Milestone]) -> None:
    """Point the light at what the problem now counts down to (see `Problem.light_due_at`)."""
    if problem.status == "closed":
        problem.light_due_at = None
    elif problem.status == "submitted":
        verification = next((m for m in milestones if m.kind == "verification"), None)
        problem.light_due_at = verification.due_at if verification else problem.deadline_at
    else:
        problem.light_due_at = problem.deadline_at


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

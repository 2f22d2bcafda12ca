"""Visits of a drawn round: moving them between teams and windows, and each inspector's own list."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.sampling import errors, events, repository
from services.sampling.models import Assignment, Round, Team, outbox_event
from services.sampling.rounds import DRAWN, PUBLISHED, require_status


async def change_assignment(
    session: AsyncSession,
    *,
    rnd: Round,
    assignment: Assignment,
    team_id: int | None,
    visit_from: date | None,
    visit_to: date | None,
    reason: str,
    now: datetime,
) -> Assignment:
    """Move a visit to another team or window; recusal still holds, and a published round tells the teams."""
    require_status(rnd, DRAWN, PUBLISHED, action="change an assignment")
    assert rnd.current_draw_id is not None
    teams = {t.id: t for t in await repository.teams_of_draw(session, rnd.current_draw_id)}
    old_team = teams[assignment.team_id]
    new_team = old_team
    if team_id is not None:
        if team_id not in teams:
            raise errors.TeamNotFound(
                f"No team {team_id} in round {rnd.code}'s current draw", team_id=team_id
            )
        new_team = teams[team_id]
        pool = await repository.all_inspectors(session)
        clash = [
            u
            for u in [new_team.leader_user_id, *new_team.member_user_ids]
            if u in pool and pool[u].home_district == assignment.district
        ]
        if clash:
            raise errors.RecusalViolation(
                f"{new_team.name} cannot visit {assignment.site_code}: {', '.join(clash)} come(s) from {assignment.district} (回避)",
                members=clash,
            )
    vf = visit_from or assignment.visit_from
    vt = visit_to or assignment.visit_to
    if vf > vt:
        raise UnprocessableEntity(
            "visit_from is after visit_to", errors=[field_error(["body", "visit_to"], "before visit_from")]
        )
    old_window = (assignment.visit_from, assignment.visit_to)
    assignment.team_id = new_team.id  # type: ignore[assignment]
    assignment.visit_from, assignment.visit_to = vf, vt
    assignment.changed_at = now
    assignment.change_reason = reason
    session.add(assignment)
    if rnd.status == PUBLISHED:
        await outbox.enqueue(
            session,
            outbox_event,
            event_type=events.ASSIGNMENT_CHANGED,
            target="notify",
            path="/events",
            payload=events.assignment_changed(rnd, assignment, old_team, new_team, old_window),
            now=now,
        )
    await session.flush()
    return assignment


async def assignments_of_user(
    session: AsyncSession, *, principal: Principal
) -> list[tuple[Round, Team, Assignment]]:
    """Visits inside the principal's scope of every published round in which it sits on a team."""
    user_id = principal.sub
    out = []
    for rnd in await repository.published_rounds(session):
        assert rnd.current_draw_id is not None
        mine = [
            t
            for t in await repository.teams_of_draw(session, rnd.current_draw_id)
            if user_id == t.leader_user_id or user_id in t.member_user_ids
        ]
        if not mine:
            continue
        by_id = {t.id: t for t in mine}
        rows, _ = await repository.list_assignments(
            session,
            rnd.current_draw_id,
            team_ids=list(by_id),  # type: ignore[arg-type]
            visible_to=principal,
        )
        out += [(rnd, by_id[a.team_id], a) for a in rows]
    return out

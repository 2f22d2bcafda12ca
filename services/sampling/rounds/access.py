"""Who may see and do what with rounds: role says what, scope says where.

* Rounds' actions, frames and draw records are city-wide: the role is not enough, the caller's
  scope must be the whole city (``deps.city_wide``). Only a city admin runs a round.
* Before a round is published, which sites will be visited and by which team is known only to
  city-wide overseers; a district (its admin, its leader, its integration key) must not learn which
  villages will be visited. After publication a district-scoped overseer sees its own district's
  visits, and inspectors their own team's.
* Which sites a round revisits (follow-ups) only city-wide overseers learn before the visits.
* The lookup scoring uses is an internal route: only the services' own principal reaches it
  (``kit.auth.internal``); that principal is city-wide.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.db import SessionDep
from services.kit.errors import Forbidden
from services.sampling.deps import city_wide
from services.sampling.enums import PUBLISHED_STATUSES
from services.sampling.errors import AssignmentNotFound, RoundNotFound
from services.sampling.models import Assignment, Round, Team
from services.sampling.rounds import repository
from services.sampling.rounds.schemas import RoundRead

OVERSEER_ROLES = ("city_admin", "leader", "system")
TEAM_ROLES = ("inspector", "team_leader")
READERS = (*OVERSEER_ROLES, *TEAM_ROLES)
MY_ASSIGNMENTS = (*TEAM_ROLES, "city_admin")


def run_round() -> dict[str, Any]:
    """Route kwargs of a round's actions: a city admin whose scope is the whole city."""
    return city_wide("city_admin", what="Running a round")


def oversight() -> dict[str, Any]:
    """Route kwargs of a round's frame and draw records: a city-wide overseer."""
    return city_wide(*OVERSEER_ROLES, what="A round's frame and draw records")


def oversees(principal: Principal) -> bool:
    """A city-wide overseer: city admin, leader or integration whose scope is the whole city."""
    return principal.has_role(*OVERSEER_ROLES) and principal.city_wide


def is_published(rnd: Round) -> bool:
    return rnd.status in PUBLISHED_STATUSES


def require_round_visible(principal: Principal, rnd: Round) -> None:
    """403 for a district-scoped caller before publication: the draw must not reach a district early."""
    if not oversees(principal) and not is_published(rnd) and not principal.has_role(*TEAM_ROLES):
        raise Forbidden(
            f"Round {rnd.code} is not published yet: until then only city-wide overseers see its draw, "
            "teams and visits",
            zh=f"督查轮次 {rnd.code} 尚未发布：发布前只有全市范围的督查管理人员能看到其抽签结果、督查组和督查日程",
            round_code=rnd.code,
        )


def shown_to(principal: Principal, read: RoundRead) -> RoundRead:
    """Hide which sites will be revisited from everyone but city-wide overseers: a district must not learn them early."""
    if oversees(principal):
        return read
    plan = read.plan.model_copy(
        update={"follow_up": read.plan.follow_up.model_copy(update={"site_codes": []})}
    )
    return read.model_copy(update={"follow_ups": [], "plan": plan})


async def visible_teams(session: AsyncSession, rnd: Round, principal: Principal) -> list[Team]:
    """The teams of the current draw this caller may see.

    City-wide overseers see every team at any time. Before publication a district-scoped overseer is
    refused (403) and an inspector sees none; after it, a district-scoped overseer sees the teams
    visiting its scope and an inspector its own team.
    """
    if rnd.current_draw_id is None:
        return []
    teams = await repository.teams_of_draw(session, rnd.current_draw_id)
    if oversees(principal):
        return teams
    require_round_visible(principal, rnd)
    if not is_published(rnd):
        return []
    ids: set[int | None] = set()
    if principal.has_role(*OVERSEER_ROLES):
        rows, _ = await repository.list_assignments(session, rnd.current_draw_id, visible_to=principal)
        ids = {a.team_id for a in rows}
    return [
        t
        for t in teams
        if t.id in ids or principal.sub == t.leader_user_id or principal.sub in t.member_user_ids
    ]


async def visible_assignment(
    session: AsyncSession, rnd: Round, site_code: str, principal: Principal
) -> tuple[Team, Assignment]:
    """The site's visit in the current draw, or 404 (the same answer whether missing or not yours)."""
    a = (
        await repository.get_assignment(session, rnd.current_draw_id, site_code)
        if rnd.current_draw_id
        else None
    )
    teams = {t.id: t for t in await visible_teams(session, rnd, principal)}
    if a is None or a.team_id not in teams or not principal.covers(a.org_unit):
        raise AssignmentNotFound(
            f"Site {site_code} was not drawn in round {rnd.code}",
            zh=f"单位 {site_code} 未在督查轮次 {rnd.code} 中抽中",
            round_code=rnd.code,
            site_code=site_code,
        )
    return teams[a.team_id], a


RoundCodePath = Annotated[str, Path(max_length=20, description="The round's code, e.g. 2026Q1")]


async def valid_round_code(session: SessionDep, round_code: RoundCodePath) -> Round:
    """The round with this code (else 404)."""
    rnd = await repository.get_round_by_code(session, round_code)
    if rnd is None:
        raise RoundNotFound(f"No round {round_code}", zh=f"没有督查轮次 {round_code}", round_code=round_code)
    return rnd


async def locked_round_code(session: SessionDep, round_code: RoundCodePath) -> Round:
    """The round, locked for this transaction (state changes of one round are serialised)."""
    rnd = await repository.get_round_by_code(session, round_code, for_update=True)
    if rnd is None:
        raise RoundNotFound(f"No round {round_code}", zh=f"没有督查轮次 {round_code}", round_code=round_code)
    return rnd


ValidRound = Annotated[Round, Depends(valid_round_code)]
LockedRound = Annotated[Round, Depends(locked_round_code)]

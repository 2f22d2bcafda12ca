"""Who sees which visit calendar.

* A team's calendar: the teams a caller may see are those of ``rounds.access.visible_teams``
  (city-wide overseers: every team, at any time after the draw; a district-scoped overseer: after
  publication the teams visiting its scope, 403 before; an inspector: its own team once the round
  is published). Any other team is a 404, the same answer as a team that does not exist. Visits
  outside the caller's scope are left out.
* A person's calendar: a city-wide overseer reads anyone's (drawn rounds too); an inspector or team
  leader reads their own (published rounds only, inside their scope); a district-scoped overseer is
  refused (403: the pool is city-wide); anyone else's is a 404, the same as an unknown person.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import Forbidden
from services.sampling.errors import InspectorNotFound, TeamNotFound
from services.sampling.models import Round, Team
from services.sampling.rounds import access as rounds_access


async def visible_team(session: AsyncSession, rnd: Round, number: int, principal: Principal) -> Team:
    """Team `number` of the draw in force, if the caller may see it (else 404; 403 for a district before publication)."""
    for t in await rounds_access.visible_teams(session, rnd, principal):
        if t.number == number:
            return t
    raise TeamNotFound(
        f"Round {rnd.code} has no team {number}",
        zh=f"督查轮次 {rnd.code} 没有第 {number} 督查组",
        round_code=rnd.code,
        number=number,
    )


def person_reader(principal: Principal, user_id: str) -> bool:
    """Whether the caller reads `user_id`'s calendar as an overseer (True) or as that person (False).

    Raises 403 for a district-scoped overseer and 404 for anyone else's calendar.
    """
    if rounds_access.oversees(principal):
        return True
    if principal.has_role(*rounds_access.TEAM_ROLES) and principal.sub == user_id:
        return False
    if principal.has_role(*rounds_access.OVERSEER_ROLES):
        raise Forbidden(
            "A person's visit calendar needs a city-wide scope (the inspector pool is city-wide); "
            f"yours is {principal.scope!r}",
            zh=f"查看个人的督查日程需要全市范围的管辖权限（督查人员库是全市统一的）；您的管辖范围为 {principal.scope!r}",
            scope=principal.scope,
        )
    raise InspectorNotFound(f"No inspector {user_id}", zh=f"没有督查人员 {user_id}", user_id=user_id)

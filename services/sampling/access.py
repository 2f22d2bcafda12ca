"""Who may see and do what in sampling: role says what, scope says where.

* The directory is scoped: every caller (``system`` API keys and city admins included) lists, reads,
  exports and edits only sites whose org unit lies inside its scope; a site outside it is answered
  like a missing one.
* The inspector pool (people with their home districts), rounds' actions, frames and draw records
  are city-wide resources: the role is not enough, the caller's scope must be the whole city.
* Before a round is published, which sites will be visited and by which team is known only to
  city-wide overseers; a district (its admin, its leader, its integration key) must not learn which
  villages will be visited. After publication a district-scoped overseer sees its own district's
  visits, and inspectors their own team's.
* The lookup scoring uses is an internal route: only the services' own principal reaches it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from services.kit.auth import Principal, PrincipalDep, allow
from services.kit.errors import Forbidden
from services.sampling.models import Round

OVERSEER_ROLES = ("city_admin", "leader", "system")
TEAM_ROLES = ("inspector", "team_leader")
PUBLISHED_STATUSES = ("published", "closed")


def oversees(principal: Principal) -> bool:
    """A city-wide overseer: city admin, leader or integration whose scope is the whole city."""
    return principal.has_role(*OVERSEER_ROLES) and principal.city_wide


def is_published(rnd: Round) -> bool:
    return rnd.status in PUBLISHED_STATUSES


def require_city_wide(principal: Principal, what: str) -> None:
    """403 unless the caller's scope is the whole city (for city-wide resources and actions)."""
    if not principal.city_wide:
        raise Forbidden(
            f"{what} needs a city-wide scope; yours is {principal.scope!r}", scope=principal.scope
        )


def require_round_visible(principal: Principal, rnd: Round) -> None:
    """403 for a district-scoped caller before publication: the draw must not reach a district early."""
    if not oversees(principal) and not is_published(rnd) and not principal.has_role(*TEAM_ROLES):
        raise Forbidden(
            f"Round {rnd.code} is not published yet: until then only city-wide overseers see its draw, "
            "teams and visits",
            round_code=rnd.code,
        )


class _CityWide:
    def __init__(self, what: str) -> None:
        self.what = what

    async def __call__(self, principal: PrincipalDep) -> Principal:
        require_city_wide(principal, self.what)
        return principal


def city_wide(*roles: str, what: str) -> dict[str, Any]:
    """Route kwargs: one of `roles`, and a scope that is the whole city."""
    kw = allow(*roles)
    kw["dependencies"] = [*kw["dependencies"], Depends(_CityWide(what))]
    return kw

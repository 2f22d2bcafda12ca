"""The roles scoring knows, grouped by what they may do, and the one rule every entity shares.

Role says WHAT a caller may do; scope says WHERE (see each entity's ``access.py``).
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.kit.errors import Forbidden

ANY_READER = ("city_admin", "inspector", "team_leader", "district_admin", "leader", "system")
RESULT_READERS = ("city_admin", "district_admin", "leader", "system")
# Roles that read sheets by scope (WHERE they may look is their principal's scope, for every one of
# them: a city admin scoped to a district, or a district's API key, sees that district only).
SCOPED_READERS = ("city_admin", "district_admin", "leader", "system")
# Roles that read sheets by team: an assignment from sampling is the grant (teams never inspect their
# home district, so an inspector's own scope says nothing about the sites they score).
TEAM = ("inspector", "team_leader")
CITY_ADMIN = "city_admin"


def require_city_wide(principal: Principal, action: str) -> None:
    """Rubric versions, round bindings and publication concern the whole city: a district's scope is not enough."""
    if not principal.city_wide:
        raise Forbidden(
            f"{action} is a city-wide action; your scope {principal.scope!r} is not the whole city",
            scope=principal.scope,
        )

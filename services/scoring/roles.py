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


# The actions require_city_wide names, in Chinese (for the Chinese detail of its 403).
ACTIONS_ZH = {
    "Publishing a round's results": "发布本轮督查结果",
    "Drafting a rubric version": "起草测评体系版本",
    "Editing a rubric version": "修改测评体系版本",
    "Publishing a rubric version": "发布测评体系版本",
    "Binding a round to a rubric version": "为督查轮次指定测评体系版本",
}


def require_city_wide(principal: Principal, action: str) -> None:
    """Rubric versions, round bindings and publication concern the whole city: a district's scope is not enough."""
    if not principal.city_wide:
        raise Forbidden(
            f"{action} is a city-wide action; your scope {principal.scope!r} is not the whole city",
            zh=f"{ACTIONS_ZH.get(action, action)}是全市范围的操作；您的管辖范围 {principal.scope!r} 不是全市",
            scope=principal.scope,
        )

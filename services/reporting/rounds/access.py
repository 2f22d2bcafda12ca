"""Who may read a round's dashboard, and how much of it.

The role says what: city admins, leaders, district admins and integrations (``system`` keys) read
dashboards. The scope says where: a city-wide scope sees the whole round; a district's scope sees
``stats.for_district`` of it (its own visits, sheets and problems; the published ranking stays whole).
A scope below a district (a town) has no dashboard: 403.
"""

from __future__ import annotations

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import Forbidden

READERS = ("city_admin", "leader", "district_admin", "system")


def district_scope(principal: Principal) -> str | None:
    """None: the whole round; else the district slug the caller's dashboard is cut to."""
    if principal.city_wide:
        return None
    scope = principal.scope.strip("/")
    district = orgunit.district_of(scope)
    if district is None or scope != orgunit.district_unit(district):
        raise Forbidden(
            f"Dashboards are per city or per district; your scope {principal.scope!r} is neither",
            zh=f"看板按全市或区县（市）提供；您的范围 {principal.scope!r} 两者都不是",
            scope=principal.scope,
        )
    return district


def require_city_wide(principal: Principal, action: str, action_zh: str) -> None:
    if not principal.city_wide:
        raise Forbidden(
            f"{action} concerns the whole city; your scope {principal.scope!r} is not the whole city",
            zh=f"{action_zh}涉及全市；您的范围 {principal.scope!r} 不是全市",
            scope=principal.scope,
        )

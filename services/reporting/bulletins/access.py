"""Who reads the quarterly bulletin: it is published to the whole city (every district sees every
district's standing, as the printed 通报 shows it), so city admins, leaders, district admins and
``system`` integrations read it; a scope below a district's (a town) or no scope gets 403."""

from __future__ import annotations

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import Forbidden

READERS = ("city_admin", "leader", "district_admin", "system")


def require_readable(principal: Principal) -> None:
    if principal.city_wide:
        return
    scope = principal.scope.strip("/")
    district = orgunit.district_of(scope) if scope else None
    if district is None or scope != orgunit.district_unit(district):
        raise Forbidden(
            f"The bulletin goes to the city and its districts; your scope {principal.scope!r} is neither",
            zh=f"通报发至全市和各区县市；您的管辖范围 {principal.scope!r} 两者都不是",
            scope=principal.scope,
        )

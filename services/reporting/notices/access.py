"""Who reads a district's problem list: city admins, leaders and city-wide integrations any district;
a district admin (or a key scoped to a district) only their own — another district's list is answered
like a missing one (404), as the project answers out-of-scope reads."""

from __future__ import annotations

from services.kit import orgunit
from services.kit.auth import Principal

READERS = ("city_admin", "leader", "district_admin", "system")


def require_district(principal: Principal, district: str) -> None:
    principal.require_visible(
        orgunit.district_unit(district), f"District {district!r} not found in this round"
    )

"""Who may see results (publishing is services/scoring/publications/access.py).

Overseers (city and district admins, leaders, `system` keys) read results, each only for the
districts and sites inside their scope (a row keeps its city-wide rank). Previewing reviewed sheets
that are not locked yet is for city admins.
"""

from __future__ import annotations

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import Forbidden
from services.scoring.roles import CITY_ADMIN, RESULT_READERS

READERS = RESULT_READERS


def require_preview_allowed(preview: bool, principal: Principal) -> None:
    """Results that are not locked yet are for a city admin's eyes only."""
    if preview and not principal.has_role(CITY_ADMIN):
        raise Forbidden(
            "Only a city admin may preview results that are not locked yet",
            zh="只有市级管理员可以预览尚未锁定的督查结果",
        )


def covers_district(principal: Principal, district: str) -> bool:
    """Whether the caller's scope covers the district (its row, its trend)."""
    return principal.covers(orgunit.district_unit(district))

"""Who may act where, for every notify entity: the role says what, the caller's org-unit scope says where.

Every caller except the services' own principal is bound to its scope, whatever its role: a
``system`` API key scoped to ``ningbo/yinzhou`` is Yinzhou's integration and nothing more. An object
outside the scope is answered exactly like a missing one (404, same body); a request body naming a
unit or a person outside it is 422 naming the field, before anything is written. Re-driving dead
letters and saving templates act on the whole city, so they need a city-wide scope (403 otherwise).
Each entity's ``access.py`` applies these rules to its own objects.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import Forbidden, field_error
from services.notify.enums import Role
from services.notify.errors import OutOfScope

# Send notifications; read notifications, deliveries and webhook subscriptions; manage webhooks.
ADMIN = (Role.CITY_ADMIN.value, Role.SYSTEM.value)
# Keep the recipient directory and people's preferences.
DIRECTORY = (Role.CITY_ADMIN.value, Role.DISTRICT_ADMIN.value, Role.SYSTEM.value)
# Delivery statistics.
STATS = (*ADMIN, Role.LEADER.value)
# Saving templates.
TEMPLATE_EDITORS = (Role.CITY_ADMIN.value,)
# Directory roles that reach city-level messages: only a city-wide caller grants them.
CITY_ROLES = (Role.CITY_ADMIN.value, Role.LEADER.value)


def own_scope(principal: Principal) -> str:
    """The unit a caller acts for: its scope, or the whole city for the services themselves."""
    return orgunit.city_root() if principal.is_service else principal.scope


def require_unit(principal: Principal, unit: str, loc: Sequence[str | int]) -> None:
    """422 naming `loc` unless `unit` lies inside the caller's scope."""
    if not principal.covers(unit):
        raise OutOfScope(
            f"{unit!r} lies outside your scope {principal.scope!r}",
            zh=f"{unit!r} 超出您的管辖范围 {principal.scope!r}",
            errors=[
                field_error(
                    list(loc),
                    f"must lie inside your scope {principal.scope!r}",
                    zh=f"须位于您的管辖范围 {principal.scope!r} 之内",
                )
            ],
        )


_ACTIONS_ZH = {"Re-driving deliveries": "重新投递", "Saving a template": "保存模板"}


def require_city_wide(principal: Principal, action: str) -> None:
    """403 unless the caller's scope is the whole city (actions on city-wide resources)."""
    if not principal.city_wide:
        raise Forbidden(
            f"{action} acts on the whole city; your scope is {principal.scope!r}",
            zh=f"{_ACTIONS_ZH.get(action, action)}涉及全市；您的管辖范围为 {principal.scope!r}",
            scope=principal.scope,
        )

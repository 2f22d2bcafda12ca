"""Whom a sender may reach and which place a notification concerns.

Every recipient unit must lie inside the sender's scope (422 naming the field otherwise); a person
outside it is refused with the same words as a missing one (see ``service.resolve_recipients``).
The place decides who may read the notification and which webhook subscriptions receive it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.notify.errors import OutOfScope
from services.notify.intake.schemas import OrgUnitRecipient, Recipient, RoleRecipient
from services.notify.scope import own_scope, require_unit


def check_recipient_units(
    principal: Principal, recipients: Sequence[Recipient], loc: Sequence[str | int]
) -> None:
    """422 naming every role or org-unit recipient whose unit lies outside the caller's scope."""
    errors = [
        field_error(
            [*loc, i, "org_unit"],
            f"must lie inside your scope {principal.scope!r}",
            zh=f"须位于您的管辖范围 {principal.scope!r} 之内",
        )
        for i, r in enumerate(recipients)
        if isinstance(r, RoleRecipient | OrgUnitRecipient) and not principal.covers(r.org_unit)
    ]
    if errors:
        raise OutOfScope(
            f"A recipient lies outside your scope {principal.scope!r}: {'.'.join(map(str, errors[0]['loc']))}",
            zh=f"有接收人超出您的管辖范围 {principal.scope!r}：{'.'.join(map(str, errors[0]['loc']))}",
            errors=errors,
        )


def can_reach(principal: Principal, person_org_unit: str) -> bool:
    """Whether the caller may address a person of that unit."""
    return principal.covers(person_org_unit)


def event_place(data: Mapping[str, Any]) -> str:
    """The place an event from a service concerns: its ``org_unit``, or the whole city."""
    unit = data.get("org_unit")
    return unit if isinstance(unit, str) and orgunit.is_valid(unit) else orgunit.city_root()


def request_place(principal: Principal, data: Mapping[str, Any], loc: Sequence[str | int]) -> str:
    """The place a notification request concerns: ``data.org_unit`` inside the caller's scope, else that scope."""
    unit = data.get("org_unit")
    if unit is None:
        return own_scope(principal)
    if not isinstance(unit, str) or not orgunit.is_valid(unit):
        raise OutOfScope(
            "data.org_unit is not an org unit of this city",
            zh="data.org_unit 不是本市的组织单元",
            errors=[
                field_error(
                    [*loc, "org_unit"],
                    "must be an org-unit path such as 'ningbo/yinzhou'",
                    zh="须为组织单元路径，例如 'ningbo/yinzhou'",
                )
            ],
        )
    require_unit(principal, unit, [*loc, "org_unit"])
    return unit

"""Who may see and change people of the directory and their preferences."""

from __future__ import annotations

from collections.abc import Sequence

from services.kit.auth import Principal
from services.kit.errors import Forbidden, field_error
from services.notify.errors import OutOfScope, PersonNotFound
from services.notify.models import Person
from services.notify.scope import CITY_ROLES, DIRECTORY, require_unit


def person_not_found(user_id: str) -> PersonNotFound:
    """The one answer for a person who is missing or outside the caller's scope."""
    return PersonNotFound(
        f"No person {user_id!r} in the directory", zh=f"通讯录中没有人员 {user_id!r}", user_id=user_id
    )


def is_self(principal: Principal, user_id: str) -> bool:
    return principal.kind == "user" and principal.sub == user_id


def can_see_person(principal: Principal, person: Person) -> bool:
    return is_self(principal, person.user_id) or principal.covers(person.org_unit)


def require_preferences_access(principal: Principal, person: Person) -> None:
    """The person themself, or a directory keeper whose scope covers them (the caller already sees them)."""
    if is_self(principal, person.user_id):
        return
    if not principal.has_role(*DIRECTORY):
        raise Forbidden(
            "Only the person or an administrator over them may see or change these preferences",
            zh="只有本人或其上级管理员可以查看或修改这些偏好设置",
        )


def check_person_write(
    principal: Principal, *, user_id: str, existing: Person | None, org_unit: str, roles: Sequence[str]
) -> None:
    """Creating or replacing a person: the stored one and the new place both inside the caller's scope."""
    if existing is not None and not principal.covers(existing.org_unit):
        raise person_not_found(user_id)
    require_unit(principal, org_unit, ["body", "org_unit"])
    if not principal.city_wide:
        for i, role in enumerate(roles):
            if role in CITY_ROLES:
                raise OutOfScope(
                    f"Only a city-wide caller may give the role {role!r}",
                    zh=f"只有全市范围的调用方可以授予角色 {role!r}",
                    errors=[
                        field_error(
                            ["body", "roles", i], f"{role!r} is a city-level role", zh=f"{role!r} 是市级角色"
                        )
                    ],
                )

"""Who may see and do what in notify: the role says what, the caller's org-unit scope says where.

Every caller except the services' own principal is bound to its scope, whatever its role: a
``system`` API key scoped to ``ningbo/yinzhou`` is Yinzhou's integration and nothing more. An object
outside the scope is answered exactly like a missing one (404, same body); a request body naming a
unit or a person outside it is 422 naming the field, before anything is written. Re-driving dead
letters and saving templates act on the whole city, so they need a city-wide scope (403 otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import Forbidden, field_error
from services.notify import repository
from services.notify.errors import (
    NotificationNotFound,
    OutOfScope,
    PersonNotFound,
    SubscriptionNotFound,
)
from services.notify.models import Delivery, Notification, Person, WebhookSubscription
from services.notify.schemas import OrgUnitRecipient, Recipient, RoleRecipient

# Send notifications; read notifications, deliveries and webhook subscriptions; manage webhooks.
ADMIN = ("city_admin", "system")
# Keep the recipient directory and people's preferences.
DIRECTORY = ("city_admin", "district_admin", "system")
# Delivery statistics.
STATS = (*ADMIN, "leader")
# Directory roles that reach city-level messages: only a city-wide caller grants them.
CITY_ROLES = ("city_admin", "leader")


def _own_scope(principal: Principal) -> str:
    """The unit a caller acts for: its scope, or the whole city for the services themselves."""
    return orgunit.city_root() if principal.is_service else principal.scope


def require_unit(principal: Principal, unit: str, loc: Sequence[str | int]) -> None:
    """422 naming `loc` unless `unit` lies inside the caller's scope."""
    if not principal.covers(unit):
        raise OutOfScope(
            f"{unit!r} lies outside your scope {principal.scope!r}",
            errors=[field_error(list(loc), f"must lie inside your scope {principal.scope!r}")],
        )


def require_city_wide(principal: Principal, action: str) -> None:
    """403 unless the caller's scope is the whole city (actions on city-wide resources)."""
    if not principal.city_wide:
        raise Forbidden(
            f"{action} acts on the whole city; your scope is {principal.scope!r}", scope=principal.scope
        )


# ---- people


def person_not_found(user_id: str) -> PersonNotFound:
    """The one answer for a person who is missing or outside the caller's scope."""
    return PersonNotFound(f"No person {user_id!r} in the directory", user_id=user_id)


def is_self(principal: Principal, user_id: str) -> bool:
    return principal.kind == "user" and principal.sub == user_id


def can_see_person(principal: Principal, person: Person) -> bool:
    return is_self(principal, person.user_id) or principal.covers(person.org_unit)


def require_preferences_access(principal: Principal, person: Person) -> None:
    """The person themself, or a directory keeper whose scope covers them (the caller already sees them)."""
    if is_self(principal, person.user_id):
        return
    if not principal.has_role(*DIRECTORY):
        raise Forbidden("Only the person or an administrator over them may see or change these preferences")


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
                    errors=[field_error(["body", "roles", i], f"{role!r} is a city-level role")],
                )


# ---- notifications and their recipients


def check_recipient_units(
    principal: Principal, recipients: Sequence[Recipient], loc: Sequence[str | int]
) -> None:
    """422 naming the first role or org-unit recipient whose unit lies outside the caller's scope."""
    errors = [
        field_error([*loc, i, "org_unit"], f"must lie inside your scope {principal.scope!r}")
        for i, r in enumerate(recipients)
        if isinstance(r, RoleRecipient | OrgUnitRecipient) and not principal.covers(r.org_unit)
    ]
    if errors:
        raise OutOfScope(
            f"A recipient lies outside your scope {principal.scope!r}: {'.'.join(map(str, errors[0]['loc']))}",
            errors=errors,
        )


def event_place(data: Mapping[str, Any]) -> str:
    """The place an event from a service concerns: its ``org_unit``, or the whole city."""
    unit = data.get("org_unit")
    return unit if isinstance(unit, str) and orgunit.is_valid(unit) else orgunit.city_root()


def request_place(principal: Principal, data: Mapping[str, Any], loc: Sequence[str | int]) -> str:
    """The place a notification request concerns: ``data.org_unit`` inside the caller's scope, else that scope."""
    unit = data.get("org_unit")
    if unit is None:
        return _own_scope(principal)
    if not isinstance(unit, str) or not orgunit.is_valid(unit):
        raise OutOfScope(
            "data.org_unit is not an org unit of this city",
            errors=[field_error([*loc, "org_unit"], "must be an org-unit path such as 'ningbo/yinzhou'")],
        )
    require_unit(principal, unit, [*loc, "org_unit"])
    return unit


def notification_not_found(notification_id: str) -> NotificationNotFound:
    return NotificationNotFound(f"No notification {notification_id}", notification_id=notification_id)


def can_see_notification(
    principal: Principal, n: Notification, visible_deliveries: Sequence[Delivery]
) -> bool:
    """Its place lies inside the caller's scope, or it went to someone (or a subscription) inside it."""
    return principal.covers(n.org_unit) or bool(visible_deliveries)


def delivery_scope(principal: Principal) -> Any | None:
    """SQL for the deliveries a caller may see (to people or subscriptions in its scope); None = all."""
    if principal.city_wide:
        return None
    return repository.deliveries_within(principal.scope_filter)


# ---- webhooks


def subscription_scope(principal: Principal, requested: str | None) -> str:
    """The scope a new subscription records: the one asked for (inside the caller's), else the caller's."""
    if requested is None:
        return _own_scope(principal)
    require_unit(principal, requested, ["body", "scope"])
    return requested


def require_subscription_visible(principal: Principal, sub: WebhookSubscription) -> None:
    if not principal.covers(sub.scope):
        raise subscription_not_found(sub.id or 0)


def subscription_not_found(subscription_id: int) -> SubscriptionNotFound:
    return SubscriptionNotFound(f"No webhook subscription {subscription_id}", subscription_id=subscription_id)


def subscription_receives(sub: WebhookSubscription, place: str) -> bool:
    """A subscription receives only events whose place lies inside its scope."""
    return orgunit.covers(sub.scope, place)

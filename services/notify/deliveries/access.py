"""Who may see and re-drive deliveries.

A caller sees the deliveries to people or webhook subscriptions inside its scope; re-driving dead
letters acts on the whole city, so it needs a city-wide scope (403 otherwise).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from services.kit.auth import Principal
from services.notify.deliveries import repository
from services.notify.scope import require_city_wide


def delivery_scope(principal: Principal) -> ColumnElement[bool] | None:
    """SQL for the deliveries a caller may see (to people or subscriptions in its scope); None = all."""
    if principal.city_wide:
        return None
    return repository.deliveries_within(principal.scope_filter)


def require_redrive(principal: Principal) -> None:
    """403 unless the caller may re-drive dead letters (a city-wide action)."""
    require_city_wide(principal, "Re-driving deliveries")

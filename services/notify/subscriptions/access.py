"""Who may see and manage webhook subscriptions, and which events each receives.

A subscription records a scope (its creator's, or a part of it): only callers whose scope covers
it see it (others get the 404 of a missing one), and it receives only events whose place lies
inside it.
"""

from __future__ import annotations

from services.kit import orgunit
from services.kit.auth import Principal
from services.notify.errors import SubscriptionNotFound
from services.notify.models import WebhookSubscription
from services.notify.scope import own_scope, require_unit


def subscription_scope(principal: Principal, requested: str | None) -> str:
    """The scope a new subscription records: the one asked for (inside the caller's), else the caller's."""
    if requested is None:
        return own_scope(principal)
    require_unit(principal, requested, ["body", "scope"])
    return requested


def subscription_not_found(subscription_id: int) -> SubscriptionNotFound:
    return SubscriptionNotFound(
        f"No webhook subscription {subscription_id}",
        zh=f"没有 Webhook 订阅 {subscription_id}",
        subscription_id=subscription_id,
    )


def require_visible(principal: Principal, sub: WebhookSubscription) -> None:
    """404 as if missing unless the subscription's scope lies inside the caller's."""
    if not principal.covers(sub.scope):
        raise subscription_not_found(sub.id or 0)


def receives(sub: WebhookSubscription, place: str) -> bool:
    """A subscription receives only events whose place lies inside its scope."""
    return orgunit.covers(sub.scope, place)

"""Errors of webhook subscriptions beyond the service-wide ones in services/notify/errors.py."""

from __future__ import annotations

from services.kit.errors import Conflict


class SubscriptionDisabled(Conflict):
    slug = "webhook-subscription-disabled"
    title = "Webhook subscription disabled"

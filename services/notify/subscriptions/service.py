"""Webhook subscriptions' rules: valid targets, which events each receives, health and disabling."""

from __future__ import annotations

import fnmatch
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.logs import get_logger
from services.notify.config import Settings
from services.notify.deliveries import repository as delivery_repository
from services.notify.errors import InvalidWebhookTarget
from services.notify.events import CATALOG
from services.notify.models import WebhookSubscription
from services.notify.signing import check_url_shape, new_secret, refuse_private, secret_key
from services.notify.subscriptions import access, repository
from services.notify.subscriptions.schemas import SubscriptionCreate

log = get_logger("notify.subscriptions")


def subscribed(sub: WebhookSubscription, event_type: str) -> bool:
    """Whether one of the subscription's patterns matches `event_type`."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in sub.event_types)


async def receivers(session: AsyncSession) -> list[WebhookSubscription]:
    """The enabled subscriptions (an intake batch reads them once)."""
    return await repository.subscriptions(session, enabled_only=True)


def receives(sub: WebhookSubscription, event_type: str, place: str) -> bool:
    """Whether `sub` receives an event of `event_type` concerning `place`."""
    return subscribed(sub, event_type) and access.receives(sub, place)


async def create_subscription(
    session: AsyncSession,
    *,
    sub_in: SubscriptionCreate,
    settings: Settings,
    principal: Principal,
    now: datetime,
) -> WebhookSubscription:
    """Subscribe a URL to event types within a scope (the caller's, or a part of it)."""
    scope = access.subscription_scope(principal, sub_in.scope)
    errors = []
    reason = check_url_shape(sub_in.url)
    if reason is None and not settings.webhook_allow_private:
        reason = await refuse_private(sub_in.url)
    if reason:
        errors.append(field_error(["body", "url"], reason))
    secret = sub_in.secret or new_secret()
    try:
        secret_key(secret)
    except ValueError as exc:
        errors.append(field_error(["body", "secret"], str(exc)))
    for i, t in enumerate(sub_in.event_types):
        if not any(fnmatch.fnmatchcase(known, t) for known in CATALOG):
            errors.append(field_error(["body", "event_types", i], f"{t!r} matches no known event type"))
    if errors:
        raise InvalidWebhookTarget(errors[0]["msg"], errors=errors)
    sub = WebhookSubscription(
        name=sub_in.name,
        url=sub_in.url,
        secret=secret,
        event_types=sub_in.event_types,
        scope=scope,
        created_by=principal.sub,
        created_at=now,
    )
    repository.add(session, sub)
    await session.flush()
    return sub


async def get_visible(
    session: AsyncSession, *, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    """The subscription, if its scope lies inside the caller's; else 404 as if missing."""
    sub = await repository.get(session, subscription_id)
    if sub is None:
        raise access.subscription_not_found(subscription_id)
    access.require_visible(principal, sub)
    return sub


async def list_visible(session: AsyncSession, *, principal: Principal) -> list[WebhookSubscription]:
    """The subscriptions of the caller's scope, oldest first."""
    return await repository.subscriptions(session, visible=principal.scope_filter(WebhookSubscription.scope))


async def enable(session: AsyncSession, sub: WebhookSubscription) -> WebhookSubscription:
    """Send to it again, its failure count cleared; its dead letters are re-driven separately."""
    sub.enabled = True
    sub.disabled_at = None
    sub.disabled_reason = None
    sub.consecutive_failures = 0
    sub.failing_since = None
    await session.flush()
    return sub


async def disable(session: AsyncSession, sub: WebhookSubscription, *, now: datetime) -> WebhookSubscription:
    """Stop sending to it; its pending deliveries go to the dead-letter list."""
    sub.enabled = False
    sub.disabled_at = now
    sub.disabled_reason = "disabled by an administrator"
    await session.flush()
    await delivery_repository.fail_pending_for_subscription(
        session, sub.id or 0, "subscription disabled by an administrator"
    )
    return sub


async def record_results(
    session: AsyncSession, settings: Settings, results: dict[int, list[bool]], now: datetime
) -> None:
    """Count failures in a row per subscription; disable one that keeps failing for long enough."""
    subs = await repository.subscriptions_by_ids(session, list(results))
    for sub_id, oks in results.items():
        sub = subs.get(sub_id)
        if sub is None or not sub.enabled:
            continue
        for ok in oks:
            if ok:
                sub.consecutive_failures = 0
                sub.failing_since = None
            else:
                sub.consecutive_failures += 1
                sub.failing_since = sub.failing_since or now
        if (
            sub.failing_since is not None
            and sub.consecutive_failures >= settings.webhook_disable_after_failures
            and (now - sub.failing_since).total_seconds() >= settings.webhook_disable_after_seconds
        ):
            sub.enabled = False
            sub.disabled_at = now
            sub.disabled_reason = (
                f"{sub.consecutive_failures} failed attempts in a row since {sub.failing_since.isoformat()}"
            )
            n = await delivery_repository.fail_pending_for_subscription(
                session, sub_id, "subscription disabled after repeated failure"
            )
            log.warning("webhook subscription disabled", subscription_id=sub_id, dead_lettered=n)
    await session.flush()

"""Routes of webhook subscriptions and their delivery logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.kit.params import IdPath
from services.notify.deliveries import service as delivery_service
from services.notify.deliveries.schemas import DeliveryRead
from services.notify.delivery import webhook_session
from services.notify.deps import SettingsDep
from services.notify.enums import DeliveryStatus
from services.notify.models import WebhookSubscription
from services.notify.scope import ADMIN
from services.notify.subscriptions import service
from services.notify.subscriptions.schemas import (
    PingResult,
    Replayed,
    ReplayRange,
    SecretRotated,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
)

TAG = "notify.subscriptions"
router = APIRouter(tags=[TAG])


async def valid_subscription_id(
    session: SessionDep,
    principal: PrincipalDep,
    subscription_id: IdPath,
) -> WebhookSubscription:
    """The subscription, if its scope lies inside the caller's; else 404 as if missing."""
    return await service.get_visible(session, principal=principal, subscription_id=subscription_id)


ValidSubscription = Annotated[WebhookSubscription, Depends(valid_subscription_id)]


@router.post("/webhooks/subscriptions", status_code=201, response_model=SubscriptionCreated, **allow(*ADMIN))
async def create_subscription(
    sub_in: SubscriptionCreate,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> SubscriptionCreated:
    """Subscribe another system to event types in your scope; the secret to verify signatures is shown only here."""
    sub = await service.create_subscription(
        session, sub_in=sub_in, settings=settings, principal=principal, now=clock.now()
    )
    return SubscriptionCreated.model_validate(sub)


@router.get("/webhooks/subscriptions", response_model=Page[SubscriptionRead], **allow(*ADMIN))
async def list_subscriptions(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[SubscriptionRead]:
    """List the webhook subscriptions of your scope (secrets are never shown again)."""
    subs = await service.list_visible(session, principal=principal)
    return Page.slice([SubscriptionRead.model_validate(s) for s in subs], page)


@router.get("/webhooks/subscriptions/{subscription_id}", response_model=SubscriptionRead, **allow(*ADMIN))
async def get_subscription(sub: ValidSubscription) -> SubscriptionRead:
    """Read one webhook subscription and its health."""
    return SubscriptionRead.model_validate(sub)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/enable", response_model=SubscriptionRead, **allow(*ADMIN)
)
async def enable_subscription(sub: ValidSubscription, session: SessionDep) -> SubscriptionRead:
    """Re-enable a subscription (after it was disabled for failing); retry its dead letters separately."""
    return SubscriptionRead.model_validate(await service.enable(session, sub))


@router.post(
    "/webhooks/subscriptions/{subscription_id}/disable", response_model=SubscriptionRead, **allow(*ADMIN)
)
async def disable_subscription(
    sub: ValidSubscription, session: SessionDep, clock: ClockDep
) -> SubscriptionRead:
    """Stop sending to a subscription; its pending deliveries go to the dead-letter list."""
    return SubscriptionRead.model_validate(await service.disable(session, sub, now=clock.now()))


@router.get(
    "/webhooks/subscriptions/{subscription_id}/deliveries", response_model=Page[DeliveryRead], **allow(*ADMIN)
)
async def list_subscription_deliveries(
    sub: ValidSubscription,
    session: SessionDep,
    page: PageDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this status")] = None,
) -> Page[DeliveryRead]:
    """The delivery log of one subscription, newest first, with every attempt."""
    views, total = await delivery_service.list_deliveries(
        session, subscription_id=sub.id, status=status, limit=page.limit, offset=page.offset
    )
    return Page.of([DeliveryRead.of(v) for v in views], total, page)


@router.patch("/webhooks/subscriptions/{subscription_id}", response_model=SubscriptionRead, **allow(*ADMIN))
async def update_subscription(
    sub: ValidSubscription,
    sub_in: SubscriptionUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> SubscriptionRead:
    """Change a subscription's name, URL, event types or scope (only the fields sent); deliveries still to come go to a new URL."""
    sub = await service.update_subscription(
        session, sub, sub_in=sub_in, settings=settings, principal=principal
    )
    return SubscriptionRead.model_validate(sub)


@router.delete("/webhooks/subscriptions/{subscription_id}", status_code=204, **allow(*ADMIN))
async def delete_subscription(sub: ValidSubscription, session: SessionDep) -> Response:
    """Delete a subscription: nothing more is sent to it, its pending deliveries are dead-lettered."""
    await service.delete_subscription(session, sub)
    return Response(status_code=204)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/rotate-secret", response_model=SecretRotated, **allow(*ADMIN)
)
async def rotate_subscription_secret(
    sub: ValidSubscription,
    rotation: SecretRotation,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> SecretRotated:
    """Sign with a new secret (shown only here); the old one keeps signing beside it for the overlap."""
    secret, expires = await service.rotate_secret(
        session, sub, rotation=rotation, settings=settings, now=clock.now()
    )
    return SecretRotated(id=sub.id or 0, secret=secret, previous_secret_expires_at=expires)


@router.post("/webhooks/subscriptions/{subscription_id}/ping", response_model=PingResult, **allow(*ADMIN))
async def ping_subscription(
    sub: ValidSubscription, request: Request, settings: SettingsDep, clock: ClockDep
) -> PingResult:
    """Send a signed test event to the subscription's URL now and answer what the receiver said."""
    outcome, webhook_id, signatures = await service.ping(
        webhook_session(request.app), settings, sub, now=clock.now()
    )
    return PingResult(
        ok=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        webhook_id=webhook_id,
        signatures=signatures,
    )


@router.post(
    "/webhooks/subscriptions/{subscription_id}/replay",
    response_model=Replayed,
    responses=errors(409),
    **allow(*ADMIN),
)
async def replay_subscription_deliveries(
    sub: ValidSubscription,
    window: ReplayRange,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    request: Request,
) -> Replayed:
    """Send again the deliveries queued for the subscription in a time range (sent or dead-lettered; same webhook-id)."""
    n = await service.replay(session, sub, window=window, settings=settings, now=clock.now())
    request.app.state.delivery_wake.set()
    return Replayed(replayed=n)

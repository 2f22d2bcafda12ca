"""Routes of webhook subscriptions and their delivery logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.pagination import Page, PageDep
from services.kit.params import IdPath
from services.notify.deliveries import service as delivery_service
from services.notify.deliveries.schemas import DeliveryRead
from services.notify.deps import SettingsDep
from services.notify.enums import DeliveryStatus
from services.notify.models import WebhookSubscription
from services.notify.scope import ADMIN
from services.notify.subscriptions import service
from services.notify.subscriptions.schemas import SubscriptionCreate, SubscriptionCreated, SubscriptionRead

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

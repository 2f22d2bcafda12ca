"""Routes of the delivery log: the dead-letter list, re-drives and statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.pagination import Page, PageDep, Sort, sort_param
from services.kit.params import IdPath
from services.notify.deliveries import service
from services.notify.deliveries.schemas import ChannelStats, DeliveryRead, Updated
from services.notify.enums import Channel, DeliveryStatus
from services.notify.scope import ADMIN, STATS

TAG = "notify.deliveries"
router = APIRouter(tags=[TAG])

DeliverySort = Annotated[
    Sort, Depends(sort_param(["id", "created_at", "next_attempt_at", "attempts"], default="-id"))
]
StatusQuery = Annotated[
    DeliveryStatus | None,
    Query(description="Only deliveries in this status (default: failed, the dead letters)"),
]
ChannelQuery = Annotated[Channel | None, Query(description="Only deliveries on this channel")]


@router.get("/deliveries", response_model=Page[DeliveryRead], **allow(*ADMIN))
async def list_deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: DeliverySort,
    status: StatusQuery = DeliveryStatus.FAILED,
    channel: ChannelQuery = None,
) -> Page[DeliveryRead]:
    """List the deliveries of your scope (the dead-letter list by default: status=failed), newest first."""
    views, total = await service.list_deliveries(
        session,
        principal=principal,
        status=status,
        channel=channel,
        sort=sort.field,
        descending=sort.descending,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of([DeliveryRead.of(v) for v in views], total, page)


@router.post("/deliveries/{delivery_id}/retry", response_model=Updated, **allow(*ADMIN))
async def retry_delivery(
    delivery_id: IdPath, session: SessionDep, clock: ClockDep, request: Request, principal: PrincipalDep
) -> Updated:
    """Send a dead-lettered delivery again (its attempt count starts over; a city-wide action)."""
    n = await service.retry_delivery(session, principal=principal, delivery_id=delivery_id, now=clock.now())
    request.app.state.delivery_wake.set()
    return Updated(updated=n)


@router.post("/deliveries/retry-failed", response_model=Updated, **allow(*ADMIN))
async def retry_failed_deliveries(
    session: SessionDep,
    clock: ClockDep,
    request: Request,
    principal: PrincipalDep,
    channel: Annotated[Channel | None, Query(description="Only dead letters of this channel")] = None,
) -> Updated:
    """Send every dead-lettered delivery (of one channel, if given) again (a city-wide action)."""
    n = await service.retry_failed(session, principal=principal, channel=channel, now=clock.now())
    request.app.state.delivery_wake.set()
    return Updated(updated=n)


@router.get("/deliveries/stats", response_model=Page[ChannelStats], **allow(*STATS))
async def delivery_statistics(session: SessionDep, principal: PrincipalDep) -> Page[ChannelStats]:
    """Count the deliveries of your scope per channel and status, with attempts spent (one item per channel)."""
    return Page.whole([ChannelStats.of(c) for c in await service.channel_stats(session, principal=principal)])

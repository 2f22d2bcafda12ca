"""Deliveries: what a caller may read of them, re-drives of dead letters, statistics per channel."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.notify.deliveries import access, repository
from services.notify.enums import Channel, DeliveryStatus
from services.notify.errors import DeliveryNotFound
from services.notify.models import Delivery, DeliveryAttempt
from services.notify.people.service import mask_email, mask_phone


@dataclass
class DeliveryView:
    """A delivery as a caller sees it: contact points masked, with its attempts."""

    delivery: Delivery
    destination: str | None
    attempts: list[DeliveryAttempt] = field(default_factory=list)


@dataclass
class ChannelCounts:
    """One channel's deliveries counted by status, with the attempts spent."""

    channel: Channel
    by_status: dict[str, int]
    attempts: int
    mean_attempts_when_sent: float | None


def masked_destination(d: Delivery) -> str | None:
    """Email and phone are masked; a webhook URL is shown as is."""
    if d.channel == Channel.EMAIL:
        return mask_email(d.destination)
    if d.channel == Channel.SMS:
        return mask_phone(d.destination)
    return d.destination


async def views(session: AsyncSession, deliveries: list[Delivery]) -> list[DeliveryView]:
    """Each delivery with its attempts and masked destination."""
    attempts = await repository.attempts_of(session, [d.id for d in deliveries if d.id is not None])
    return [DeliveryView(d, masked_destination(d), attempts.get(d.id or 0, [])) for d in deliveries]


async def visible_deliveries_of(
    session: AsyncSession, *, principal: Principal, notification_id: str
) -> list[Delivery]:
    """The deliveries of one notification to people or subscriptions inside the caller's scope."""
    return await repository.deliveries_of(session, notification_id, visible=access.delivery_scope(principal))


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal | None = None,
    subscription_id: int | None = None,
    status: DeliveryStatus | None,
    channel: Channel | None = None,
    sort: str = "id",
    descending: bool = True,
    limit: int,
    offset: int,
) -> tuple[list[DeliveryView], int]:
    """Deliveries in the caller's scope (or of one subscription), filtered, newest first by default."""
    items, total = await repository.list_deliveries(
        session,
        status=status,
        channel=channel,
        subscription_id=subscription_id,
        visible=access.delivery_scope(principal) if principal is not None else None,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return await views(session, items), total


async def retry_delivery(
    session: AsyncSession, *, principal: Principal, delivery_id: int, now: datetime
) -> int:
    """Send one dead-lettered delivery again (its attempt count starts over)."""
    access.require_redrive(principal)
    n = await repository.retry_failed_deliveries(session, now=now, delivery_id=delivery_id)
    if n == 0:
        raise DeliveryNotFound(
            f"No failed delivery {delivery_id}",
            zh=f"没有投递失败的记录 {delivery_id}",
            delivery_id=delivery_id,
        )
    return n


async def retry_failed(
    session: AsyncSession, *, principal: Principal, channel: Channel | None, now: datetime
) -> int:
    """Send every dead-lettered delivery (of one channel, if given) again."""
    access.require_redrive(principal)
    return await repository.retry_failed_deliveries(session, now=now, channel=channel)


async def channel_stats(session: AsyncSession, *, principal: Principal) -> list[ChannelCounts]:
    """Deliveries of the caller's scope per channel and status, with attempts spent."""
    by: dict[str, dict[str, int]] = defaultdict(dict)
    attempts: dict[str, int] = defaultdict(int)
    sent_attempts: dict[str, int] = {}
    for channel, status, count, tries in await repository.delivery_stats(
        session, visible=access.delivery_scope(principal)
    ):
        by[channel][status] = count
        attempts[channel] += tries
        if status == DeliveryStatus.SENT:
            sent_attempts[channel] = tries
    return [
        ChannelCounts(
            channel=c,
            by_status=by.get(c, {}),
            attempts=attempts.get(c, 0),
            mean_attempts_when_sent=(
                round(sent_attempts[c] / by[c][DeliveryStatus.SENT], 3)
                if by.get(c, {}).get(DeliveryStatus.SENT)
                else None
            ),
        )
        for c in Channel
    ]

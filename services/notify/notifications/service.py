"""Reading notifications and inboxes: what each caller may see, read state, the live stream's reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.notify.deliveries import service as delivery_service
from services.notify.deliveries.service import DeliveryView
from services.notify.models import InboxMessage, Notification
from services.notify.notifications import access, repository


async def get_notification(
    session: AsyncSession, *, principal: Principal, notification_id: str
) -> tuple[Notification, list[DeliveryView]]:
    """One notification with each of its deliveries inside the caller's scope; 404 when it may not see it."""
    n = await repository.get_notification(session, notification_id)
    if n is None:
        raise access.notification_not_found(notification_id)
    deliveries = await delivery_service.visible_deliveries_of(
        session, principal=principal, notification_id=notification_id
    )
    if not access.can_see_notification(principal, n, deliveries):
        raise access.notification_not_found(notification_id)
    return n, await delivery_service.views(session, deliveries)


async def list_inbox(
    session: AsyncSession,
    *,
    principal: Principal,
    event_type: str | None,
    unread_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[InboxMessage], int]:
    """The caller's messages, unread first, newest first."""
    return await repository.list_inbox(
        session,
        user_id=principal.sub,
        event_type=event_type,
        unread_only=unread_only,
        limit=limit,
        offset=offset,
    )


async def unread_count(session: AsyncSession, *, principal: Principal) -> int:
    return await repository.unread_count(session, principal.sub)


async def mark_read(session: AsyncSession, *, principal: Principal, message_id: int, now: datetime) -> int:
    """Mark one of the caller's messages read (0 when it already was); 404 when it is not theirs."""
    n = await repository.mark_read(session, user_id=principal.sub, now=now, message_id=message_id)
    if n == 0:
        access.require_own_message(
            principal, await repository.get_inbox_message(session, message_id), message_id
        )
    return n


async def mark_all_read(session: AsyncSession, *, principal: Principal, now: datetime) -> int:
    return await repository.mark_read(session, user_id=principal.sub, now=now, message_id=None)


async def stream_start(session: AsyncSession, *, user_id: str, last_event_id: str | None) -> int:
    """The message id a stream starts after: the client's Last-Event-ID, else the newest message now."""
    if last_event_id and last_event_id.isdigit() and len(last_event_id) <= 18:
        return int(last_event_id)
    return await repository.latest_inbox_id(session, user_id)


async def messages_after(session: AsyncSession, *, user_id: str, after_id: int) -> list[InboxMessage]:
    """The user's messages newer than `after_id`, oldest first."""
    return await repository.inbox_after(session, user_id=user_id, after_id=after_id)

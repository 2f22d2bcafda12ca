"""Who may read a notification and whose inbox is whose.

A notification is visible when its place lies inside the caller's scope, or when it went to someone
(or a subscription) inside it; otherwise it is answered like a missing one. An inbox is its owner's
alone: another person's message is answered like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.kit.auth import Principal
from services.notify.errors import InboxMessageNotFound, NotificationNotFound
from services.notify.models import Delivery, InboxMessage, Notification


def notification_not_found(notification_id: str) -> NotificationNotFound:
    return NotificationNotFound(
        f"No notification {notification_id}",
        zh=f"没有通知 {notification_id}",
        notification_id=notification_id,
    )


def can_see_notification(
    principal: Principal, n: Notification, visible_deliveries: Sequence[Delivery]
) -> bool:
    """Its place lies inside the caller's scope, or it went to someone (or a subscription) inside it."""
    return principal.covers(n.org_unit) or bool(visible_deliveries)


def require_own_message(principal: Principal, message: InboxMessage | None, message_id: int) -> None:
    """404 unless the message is in the caller's inbox."""
    if message is None or message.user_id != principal.sub:
        raise InboxMessageNotFound(
            f"No message {message_id} in your inbox",
            zh=f"您的站内消息中没有 {message_id}",
            message_id=message_id,
        )

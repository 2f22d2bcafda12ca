"""API shapes of notifications and in-app messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.notify.deliveries.schemas import DELIVERY_EXAMPLE, DeliveryRead
from services.notify.enums import Priority

_DATA_EXAMPLE: JsonDict = {
    "title": "党员活动室台账记录不完整",
    "deadline": "2026-04-30",
    "org_unit": "ningbo/yinzhou/dongwu/tiantong",
    "district": "yinzhou",
}


class NotificationRead(OutputModel):
    """One accepted notification, with each delivery the caller may see."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
                    "event_type": "rectification.problem.assigned",
                    "source": "rectification",
                    "priority": "normal",
                    "not_before": None,
                    "occurred_at": "2026-03-02T02:00:00Z",
                    "data": _DATA_EXAMPLE,
                    "org_unit": "ningbo/yinzhou/dongwu/tiantong",
                    "created_at": "2026-03-02T02:00:00Z",
                    "deliveries": [DELIVERY_EXAMPLE],
                }
            ]
        }
    )

    id: str
    """The event id (or, for a request, an id derived from its Idempotency-Key)."""
    event_type: str
    """The event type (its templates)."""
    source: str
    """Who sent it: a service, or the user or integration that asked."""
    priority: Priority
    """Urgent notifications skip quiet hours and digests."""
    not_before: datetime | None = None
    """Nothing is sent before this moment."""
    occurred_at: datetime
    """When the event happened."""
    data: dict[str, JsonValue]
    """The event's fields, as the templates see them."""
    org_unit: str = Field(description="The place it concerns: the event's org_unit, or the sender's scope.")
    created_at: datetime
    """When notify accepted it."""
    deliveries: list[DeliveryRead] = Field(default_factory=list)
    """Its deliveries to people and subscriptions inside your scope, with their attempts."""


_MESSAGE_EXAMPLE: JsonDict = {
    "id": 42,
    "notification_id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
    "event_type": "rectification.problem.assigned",
    "priority": "normal",
    "title": "整改任务：党员活动室台账记录不完整",
    "body": "您被指定为“党员活动室台账记录不完整”的整改责任人，请于 2026-04-30 前完成整改。",
    "data": _DATA_EXAMPLE,
    "created_at": "2026-03-02T02:00:01Z",
    "read_at": None,
}


class InboxMessageRead(OutputModel):
    """An in-app message."""

    model_config = ConfigDict(json_schema_extra={"examples": [_MESSAGE_EXAMPLE]})

    id: int
    """The message id (increasing: the Server-Sent Events id)."""
    notification_id: str
    """The notification it comes from."""
    event_type: str
    """The notification's event type."""
    priority: Priority
    """normal or urgent."""
    title: str
    """The rendered title."""
    body: str
    """The rendered text."""
    data: dict[str, JsonValue]
    """The event's fields, for clients that link to what it concerns."""
    created_at: datetime
    """When it arrived."""
    read_at: datetime | None = None
    """When you marked it read, or null."""


class UnreadCount(OutputModel):
    """How many of your in-app messages are unread."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"unread": 3}]})

    unread: int
    """Unread messages."""

"""API shapes of deliveries, their attempts and their statistics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.notify.enums import Channel, DeliveryStatus, Priority

if TYPE_CHECKING:
    from services.notify.deliveries.service import ChannelCounts, DeliveryView

_ATTEMPT_EXAMPLE: JsonDict = {
    "number": 1,
    "attempted_at": "2026-03-02T02:00:01Z",
    "ok": True,
    "status_code": 200,
    "error": None,
    "duration_ms": 35.2,
}
DELIVERY_EXAMPLE: JsonDict = {
    "id": 7,
    "notification_id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
    "event_type": "rectification.problem.assigned",
    "channel": "sms",
    "recipient": "u-li-na",
    "destination": "138****0002",
    "priority": "normal",
    "status": "sent",
    "attempts": 1,
    "next_attempt_at": "2026-03-02T02:00:00Z",
    "last_error": None,
    "created_at": "2026-03-02T02:00:00Z",
    "sent_at": "2026-03-02T02:00:01Z",
    "attempt_log": [_ATTEMPT_EXAMPLE],
}


class DeliveryAttemptRead(OutputModel):
    """One try of a delivery."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ATTEMPT_EXAMPLE]})

    number: int
    """1 for the first try, then counting up (a re-drive starts over)."""
    attempted_at: datetime
    """When it was tried."""
    ok: bool
    """Whether the channel accepted it."""
    status_code: int | None = None
    """The HTTP status the webhook receiver or SMS provider answered, if any."""
    error: str | None = None
    """Why it failed, if it did."""
    duration_ms: float
    """How long the try took, in milliseconds."""


class DeliveryRead(OutputModel):
    """One notification to one recipient on one channel, with every attempt."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: int
    """The delivery's id."""
    notification_id: str
    """The notification (event id) it delivers."""
    event_type: str
    """The notification's event type."""
    channel: Channel
    """The channel it goes out on."""
    recipient: str
    """A user id, or ``webhook:<subscription id>``."""
    destination: str | None = None
    """Email address or phone (masked), webhook URL, or null for the inbox."""
    priority: Priority
    """Urgent deliveries skip quiet hours and digests."""
    status: DeliveryStatus
    """pending, sent, failed (dead letter), held (for a digest) or digested."""
    attempts: int
    """Tries so far (since the last re-drive)."""
    next_attempt_at: datetime
    """When it is (or was) due next."""
    last_error: str | None = None
    """The error of the last failed try."""
    created_at: datetime
    """When it was queued."""
    sent_at: datetime | None = None
    """When the channel accepted it."""
    attempt_log: list[DeliveryAttemptRead] = Field(default_factory=list)
    """Every try, first to last."""

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryRead:
        read = cls.model_validate(view.delivery)
        read.destination = view.destination
        read.attempt_log = [DeliveryAttemptRead.model_validate(a) for a in view.attempts]
        return read


class ChannelStats(OutputModel):
    """Deliveries of one channel counted by status."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "email",
                    "by_status": {"sent": 120, "failed": 2, "pending": 3},
                    "attempts": 131,
                    "mean_attempts_when_sent": 1.05,
                }
            ]
        }
    )

    channel: Channel
    """The channel."""
    by_status: dict[DeliveryStatus, int]
    """How many deliveries are in each status (statuses with none are left out)."""
    attempts: int
    """Tries spent on the channel in all."""
    mean_attempts_when_sent: float | None = None
    """Mean tries per sent delivery, or null when none was sent."""

    @classmethod
    def of(cls, counts: ChannelCounts) -> ChannelStats:
        return cls.model_validate(counts)


class Updated(OutputModel):
    """How many objects an action changed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"updated": 3}]})

    updated: int
    """How many objects changed."""

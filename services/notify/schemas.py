"""API shapes of the notify service."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.kit.orgunit import OrgUnit
from services.kit.text import InputModel, check_value

Priority = Literal["normal", "urgent"]
MessageChannel = Literal["inbox", "email", "sms"]
Channel = Literal["inbox", "email", "sms", "webhook"]
DeliveryStatus = Literal["pending", "sent", "failed", "held", "digested"]

T = TypeVar("T")

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ROLE_PATTERN = r"^[a-z][a-z_]{0,39}$"
USER_ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
EVENT_TYPE_PATTERN = r"^[A-Za-z0-9_.\-]+$"


class PersonRecipient(InputModel):
    kind: Literal["person"]
    user_id: str = Field(min_length=1, max_length=100, pattern=USER_ID_PATTERN)


class RoleRecipient(InputModel):
    kind: Literal["role"]
    role: str = Field(pattern=ROLE_PATTERN)
    org_unit: OrgUnit


class OrgUnitRecipient(InputModel):
    kind: Literal["org_unit"]
    org_unit: OrgUnit


Recipient = Annotated[PersonRecipient | RoleRecipient | OrgUnitRecipient, Field(discriminator="kind")]


class EventData(InputModel):
    """The part of an event's `data` notify reads; every other field is for the templates."""

    model_config = ConfigDict(extra="allow")

    recipients: list[Recipient] = Field(default_factory=list, max_length=500)
    priority: Priority = "normal"
    not_before: datetime | None = None

    @model_validator(mode="after")
    def _safe_extra(self) -> EventData:
        # InputModel checks declared fields; the free-form rest of `data` goes to templates and
        # webhooks, so it is held to the same rules.
        for name, value in (self.model_extra or {}).items():
            try:
                check_value(name)
                check_value(value, depth=1)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self


class EventEnvelope(InputModel):
    """The outbox envelope every service POSTs to `/events`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
                    "type": "rectification.problem.assigned",
                    "source": "rectification",
                    "occurred_at": "2026-03-02T08:00:00Z",
                    "data": {
                        "recipients": [{"kind": "person", "user_id": "u-li-na"}],
                        "priority": "normal",
                        "title": "党员活动室台账记录不完整",
                        "deadline": "2026-04-30",
                        "org_unit": "ningbo/yinzhou/dongwu/tiantong",
                        "district": "yinzhou",
                    },
                }
            ]
        }
    )

    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=100)
    source: str = Field(min_length=1, max_length=100)
    occurred_at: datetime
    data: EventData


class EventBatch(BaseModel):
    """Several envelopes at once (the outbox relay's batch mode).

    Not an InputModel on purpose: each envelope is validated on its own (as an `EventEnvelope`),
    so one bad event is refused alone and the rest of the batch goes through.
    """

    events: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class EventResult(BaseModel):
    id: str | None
    status: int = Field(description="What POST /events would have answered for this event.")
    body: dict[str, Any]


class EventBatchResults(BaseModel):
    results: list[EventResult]


class NotificationCreate(InputModel):
    """A notification request: an event type (its templates), its fields, and who should hear it."""

    event_type: str = Field("notify.message", min_length=1, max_length=100)
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="Template fields. `org_unit`, when given, is the place it concerns (inside your "
        "scope): webhook subscriptions whose scope covers it receive it. Default: your scope.",
    )
    recipients: list[Recipient] = Field(min_length=1, max_length=500)
    priority: Priority = "normal"
    not_before: datetime | None = None


class NotificationAccepted(BaseModel):
    id: str
    event_type: str
    recipients: list[str]
    deliveries: dict[str, int]


class DeliveryAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: str
    event_type: str
    channel: str
    recipient: str
    destination: str | None
    priority: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attempt_log: list[DeliveryAttemptRead] = Field(default_factory=list)


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: str
    source: str
    priority: str
    not_before: datetime | None
    occurred_at: datetime
    data: dict[str, Any]
    org_unit: str = Field(description="The place it concerns: the event's org_unit, or the sender's scope.")
    created_at: datetime
    deliveries: list[DeliveryRead] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# ---- directory and preferences


def _hhmm(v: str | None) -> str | None:
    if v is not None and not _HHMM.match(v):
        raise ValueError("use 24-hour HH:MM, e.g. 22:00")
    return v


class PreferencesUpdate(InputModel):
    channels: dict[str, list[MessageChannel]] | None = Field(
        None, description='Channels per event type; key "*" is the fallback for every other type.'
    )
    quiet_start: str | None = Field(None, examples=["22:00"])
    quiet_end: str | None = Field(None, examples=["07:00"])
    timezone: str | None = Field(None, examples=["Asia/Shanghai"])
    digest_enabled: bool | None = None
    digest_at: str | None = Field(None, examples=["18:00"])

    _v_hhmm = field_validator("quiet_start", "quiet_end", "digest_at")(_hhmm)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class PreferencesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channels: dict[str, list[str]]
    quiet_start: str | None
    quiet_end: str | None
    timezone: str
    digest_enabled: bool
    digest_at: str


class PersonUpsert(InputModel):
    name: str = Field(min_length=1, max_length=100)
    org_unit: Annotated[OrgUnit, Field(max_length=300)] = Field(description="Inside your scope.")
    roles: list[Annotated[str, Field(pattern=ROLE_PATTERN)]] = Field(
        default_factory=list,
        max_length=10,
        description="Roles reached by role recipients; city_admin and leader only from a city-wide caller.",
    )
    is_contact: bool = False
    phone: str | None = Field(None, pattern=r"^\+?[0-9]{6,20}$")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    active: bool = True


class PersonRead(BaseModel):
    """A directory entry; contact points are masked (e.g. ``138****5678``, ``z***@example.cn``)."""

    user_id: str
    name: str
    org_unit: str
    roles: list[str]
    is_contact: bool
    phone: str | None
    email: str | None
    active: bool
    preferences: PreferencesRead


# ---- templates


class TemplateUpdate(InputModel):
    subject: str | None = Field(
        None, max_length=2000, description="Email subject or inbox title (not for SMS)."
    )
    body: str = Field(min_length=1, max_length=20000)


class TemplateRead(BaseModel):
    event_type: str
    channel: str
    version: int = Field(description="0 is the built-in default; saved versions count from 1.")
    subject: str | None
    body: str
    created_by: str | None = None
    created_at: datetime | None = None
    preview: dict[str, str | None] | None = Field(None, description="The sample payload rendered.")


class EventTypeRead(BaseModel):
    type: str
    title: str
    sample: dict[str, Any]


# ---- webhooks


class SubscriptionCreate(InputModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description='Event types, or "*" for all.'
    )
    secret: str | None = Field(None, description="whsec_ + base64 (24-64 bytes); generated when omitted.")
    scope: OrgUnit | None = Field(
        None,
        description="Only events whose org_unit lies inside it are sent; inside your scope, default your scope.",
    )


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    event_types: list[str]
    scope: str = Field(description="Only events whose org_unit lies inside it are sent.")
    enabled: bool
    consecutive_failures: int
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="Shown once: keep it to verify signatures.")


# ---- inbox


class InboxMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: str
    event_type: str
    priority: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class Updated(BaseModel):
    updated: int


class ChannelStats(BaseModel):
    channel: str
    by_status: dict[str, int]
    attempts: int
    mean_attempts_when_sent: float | None

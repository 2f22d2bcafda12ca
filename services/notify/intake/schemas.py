"""API shapes of intake: event envelopes, batches, notification requests and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic.config import JsonDict

from services.kit.events import schema
from services.kit.orgunit import OrgUnit
from services.kit.schema import OutputModel
from services.kit.text import InputModel, check_value
from services.notify.enums import Channel, Priority, Role
from services.notify.events import MESSAGE
from services.notify.people.schemas import USER_ID_PATTERN


class PersonRecipient(InputModel):
    """One person of the directory."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kind": "person", "user_id": "u-li-na"}]})

    kind: Literal["person"]
    """Names a person."""
    user_id: str = Field(min_length=1, max_length=100, pattern=USER_ID_PATTERN)
    """The person's user id."""


class RoleRecipient(InputModel):
    """Every active holder of a role in an org unit and the units below it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"}]
        }
    )

    kind: Literal["role"]
    """Names the holders of a role."""
    role: Role
    """The role."""
    org_unit: OrgUnit
    """Where: this unit and every unit below it."""


class OrgUnitRecipient(InputModel):
    """The contacts of one org unit (people marked ``is_contact`` in it)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kind": "org_unit", "org_unit": "ningbo/yinzhou/dongwu"}]}
    )

    kind: Literal["org_unit"]
    """Names an org unit's contacts."""
    org_unit: OrgUnit
    """The org unit (its own contacts, not those of the units below)."""


Recipient = Annotated[PersonRecipient | RoleRecipient | OrgUnitRecipient, Field(discriminator="kind")]


class EventData(InputModel):
    """The part of an event's `data` notify reads; every other field is for the templates."""

    model_config = ConfigDict(extra="allow")

    recipients: list[Recipient] = Field(default_factory=list, max_length=500)
    """Who should hear it."""
    priority: Priority = Priority.NORMAL
    """Urgent events skip quiet hours and digests, and add SMS by default."""
    not_before: datetime | None = None
    """Send nothing before this moment."""

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


_ENVELOPE_EXAMPLE: JsonDict = {
    "id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
    "type": "rectification.problem.assigned",
    "source": "rectification",
    "occurred_at": "2026-03-02T08:00:00Z",
    "version": 1,
    "data": cast(JsonDict, schema("rectification.problem.assigned").examples[0]),
}


class EventEnvelope(InputModel):
    """The outbox envelope every service POSTs to `/events`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENVELOPE_EXAMPLE]})

    id: str = Field(min_length=1, max_length=64)
    """The event id (also its Idempotency-Key)."""
    type: str = Field(min_length=1, max_length=100)
    """The event type (see GET /event-types)."""
    source: str = Field(min_length=1, max_length=100)
    """The service that sent it."""
    occurred_at: datetime
    """When it happened."""
    version: int | None = Field(default=None, ge=1, le=1000)
    """The version of the event type's schema `data` follows (see GET /event-types); none: the newest."""
    data: EventData
    """Recipients, priority, and the fields the templates use (exactly what the type's schema describes)."""


class EventBatch(BaseModel):
    """Several envelopes at once (the outbox relay's batch mode).

    Not an InputModel on purpose: each envelope is validated on its own (as an `EventEnvelope`),
    so one bad event is refused alone and the rest of the batch goes through.
    """

    model_config = ConfigDict(
        use_attribute_docstrings=True, json_schema_extra={"examples": [{"events": [_ENVELOPE_EXAMPLE]}]}
    )

    events: list[dict[str, JsonValue]] = Field(min_length=1, max_length=500)
    """The envelopes (each as POST /events takes it), accepted or refused one by one."""


_ACCEPTED_EXAMPLE: JsonDict = {
    "id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
    "event_type": "rectification.problem.assigned",
    "recipients": ["u-li-na"],
    "deliveries": {"inbox": 1, "email": 1, "sms": 0, "webhook": 1},
}


class EventResult(OutputModel):
    """What became of one event of a batch."""

    id: str | None = None
    """The event id (null when the event had no usable id)."""
    status: int = Field(description="What POST /events would have answered for this event.")
    body: dict[str, JsonValue]
    """What POST /events would have answered: the acceptance, or a problem document."""


class EventBatchResults(OutputModel):
    """One result per event, in the order sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"results": [{"id": _ACCEPTED_EXAMPLE["id"], "status": 202, "body": _ACCEPTED_EXAMPLE}]}
            ]
        }
    )

    results: list[EventResult]
    """One per event, in the order sent."""


class NotificationCreate(InputModel):
    """A notification request: an event type (its templates), its fields, and who should hear it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_type": "notify.message",
                    "data": {"title": "关于开展季度督查的通知", "body": "请各单位做好迎检准备。"},
                    "recipients": [{"kind": "role", "role": "district_admin", "org_unit": "ningbo"}],
                    "priority": "normal",
                }
            ]
        }
    )

    event_type: str = Field(MESSAGE, min_length=1, max_length=100)
    """The event type whose templates render it (default: a plain message with title and body)."""
    data: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Template fields. `org_unit`, when given, is the place it concerns (inside your "
        "scope): webhook subscriptions whose scope covers it receive it. Default: your scope.",
    )
    recipients: list[Recipient] = Field(min_length=1, max_length=500)
    """Who should hear it: people, role holders, org units' contacts (all inside your scope)."""
    priority: Priority = Priority.NORMAL
    """Urgent notifications skip quiet hours and digests, and add SMS by default."""
    not_before: datetime | None = None
    """Send nothing before this moment."""


class NotificationAccepted(OutputModel):
    """An accepted notification: who it reaches and how many deliveries were queued per channel."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ACCEPTED_EXAMPLE]})

    id: str
    """The notification's id (the event id)."""
    event_type: str
    """Its event type."""
    recipients: list[str]
    """The user ids it reaches."""
    deliveries: dict[Channel, int]
    """Deliveries queued per channel."""

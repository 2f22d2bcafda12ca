"""API shapes of webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field
from pydantic.config import JsonDict

from services.kit.orgunit import OrgUnit
from services.kit.schema import OutputModel
from services.kit.text import InputModel

_CREATE_EXAMPLE: JsonDict = {
    "name": "鄞州区OA系统",
    "url": "https://oa.yinzhou.example.gov.cn/hooks/dangjian",
    "event_types": ["rectification.problem.*"],
    "scope": "ningbo/yinzhou",
}
_READ_EXAMPLE: JsonDict = {
    "id": 3,
    "name": "鄞州区OA系统",
    "url": "https://oa.yinzhou.example.gov.cn/hooks/dangjian",
    "event_types": ["rectification.problem.*"],
    "scope": "ningbo/yinzhou",
    "enabled": True,
    "consecutive_failures": 0,
    "failing_since": None,
    "disabled_at": None,
    "disabled_reason": None,
    "created_at": "2026-03-02T02:00:00Z",
}


class SubscriptionCreate(InputModel):
    """A new webhook subscription."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100)
    """A name for people: which system this is."""
    url: str = Field(min_length=1, max_length=2000)
    """Where events are POSTed (https; private addresses are refused unless allowed)."""
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description='Event types, or "*" for all.'
    )
    secret: str | None = Field(None, description="whsec_ + base64 (24-64 bytes); generated when omitted.")
    scope: OrgUnit | None = Field(
        None,
        description="Only events whose org_unit lies inside it are sent; inside your scope, default your scope.",
    )


class SubscriptionRead(OutputModel):
    """A webhook subscription and its health (its secret is never shown again)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_READ_EXAMPLE]})

    id: int
    """The subscription's id."""
    name: str
    """Which system this is."""
    url: str
    """Where events are POSTed."""
    event_types: list[str]
    """Event types (glob patterns; "*" for all)."""
    scope: str = Field(description="Only events whose org_unit lies inside it are sent.")
    enabled: bool
    """Whether events are sent to it."""
    consecutive_failures: int
    """Failed attempts in a row since the last success."""
    failing_since: datetime | None = None
    """When the current run of failures began."""
    disabled_at: datetime | None = None
    """When it was disabled (by an administrator, or after failing too long)."""
    disabled_reason: str | None = None
    """Why it was disabled."""
    created_at: datetime
    """When it was created."""


class SubscriptionCreated(SubscriptionRead):
    """A new subscription, with the secret to verify signatures (shown only here)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_READ_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}
    )

    secret: str = Field(description="Shown once: keep it to verify signatures.")


_UPDATE_EXAMPLE: JsonDict = {
    "url": "https://oa2.yinzhou.example.gov.cn/hooks/dangjian",
    "event_types": ["rectification.problem.*", "scoring.results.published"],
}


class SubscriptionUpdate(InputModel):
    """Changes to a webhook subscription: only the fields sent change (its secret is rotated separately)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_UPDATE_EXAMPLE]})

    name: str | None = Field(None, min_length=1, max_length=100)
    """A new name for people."""
    url: str | None = Field(None, min_length=1, max_length=2000)
    """A new target URL, checked like a new subscription's; deliveries still to come go there."""
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, min_length=1, max_length=50, description='New event types (replacing the old), or "*" for all.'
    )
    scope: OrgUnit | None = Field(None, description="A new scope, inside your own.")


class SecretRotation(InputModel):
    """A new signing secret; the old one keeps signing beside it for the overlap."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"overlap_seconds": 86400}, {"secret": "whsec_" + "A" * 32}]}
    )

    secret: str | None = Field(None, description="whsec_ + base64 (24-64 bytes); generated when omitted.")
    overlap_seconds: int | None = Field(
        None,
        ge=0,
        description=(
            "How long the old secret keeps signing beside the new one (0: stop at once); "
            "default NOTIFY_WEBHOOK_SECRET_OVERLAP_SECONDS (24 h), at most NOTIFY_WEBHOOK_SECRET_OVERLAP_MAX_SECONDS."
        ),
    )


class SecretRotated(OutputModel):
    """The new signing secret (shown only here) and until when the old one still signs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "previous_secret_expires_at": "2026-03-03T02:00:00Z",
                }
            ]
        }
    )

    id: int
    """The subscription's id."""
    secret: str = Field(description="The new secret, shown once: keep it to verify signatures.")
    previous_secret_expires_at: datetime | None = Field(
        None, description="Until then requests carry a second signature made with the old secret; null: none."
    )


class PingResult(OutputModel):
    """What the receiver answered to a signed test event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "status_code": 200,
                    "error": None,
                    "duration_ms": 38.2,
                    "webhook_id": "ping-5b0e6f2c9d7a4e1f8c3b2a1d0e9f8a7b",
                    "signatures": 1,
                }
            ]
        }
    )

    ok: bool
    """Whether the receiver answered 2xx."""
    status_code: int | None = None
    """The HTTP status it answered; null when it could not be reached."""
    error: str | None = None
    """What went wrong: the status and the start of the receiver's answer, a refused address, a timeout."""
    duration_ms: float
    """How long the request took."""
    webhook_id: str
    """The test event's webhook-id (it begins with ping-)."""
    signatures: int
    """How many signatures webhook-signature carried (2 while a rotated-out secret still signs)."""


class ReplayRange(InputModel):
    """The time range whose deliveries are sent again."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "2026-03-01T16:00:00Z", "to": "2026-03-02T16:00:00Z"}]},
    )

    from_: AwareDatetime = Field(
        alias="from", description="Deliveries queued at or after this time (with zone)."
    )
    to: AwareDatetime = Field(description="... and before this time (with zone).")


class Replayed(OutputModel):
    """How many deliveries were queued again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"replayed": 42}]})

    replayed: int
    """Sent and dead-lettered deliveries of the range queued again (same webhook-id, new attempts)."""

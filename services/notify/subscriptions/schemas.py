"""API shapes of webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field
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

"""API shapes of the recipient directory and people's preferences."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from services.kit.orgunit import OrgUnit
from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.notify.enums import MessageChannel, Role

USER_ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

_PREFERENCES_EXAMPLE: JsonDict = {
    "channels": {"rectification.problem.overdue": ["inbox", "sms"], "*": ["inbox", "email"]},
    "quiet_start": "22:00",
    "quiet_end": "07:00",
    "timezone": "Asia/Shanghai",
    "digest_enabled": False,
    "digest_at": "18:00",
}


# A local time of day, 24-hour HH:MM: documented as a pattern (the validator words the error).
_HHMM_DOC: dict[str, Any] = {"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}


def _hhmm(v: str | None) -> str | None:
    if v is not None and not _HHMM.match(v):
        raise ValueError("use 24-hour HH:MM, e.g. 22:00")
    return v


class PreferencesUpdate(InputModel):
    """A change to a person's preferences: only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PREFERENCES_EXAMPLE]})

    channels: dict[str, list[MessageChannel]] | None = None
    """Channels per event type; key "*" is the fallback for every other type."""
    quiet_start: str | None = Field(None, examples=["22:00"], json_schema_extra=_HHMM_DOC)
    """Start of the quiet hours (local HH:MM): email and SMS wait until they end; null clears them."""
    quiet_end: str | None = Field(None, examples=["07:00"], json_schema_extra=_HHMM_DOC)
    """End of the quiet hours (local HH:MM); set with quiet_start, or clear both."""
    timezone: str | None = Field(None, examples=["Asia/Shanghai"])
    """The IANA time zone the quiet hours and the digest time are in."""
    digest_enabled: bool | None = None
    """Gather non-urgent email and SMS into one daily digest instead of sending each."""
    digest_at: str | None = Field(None, examples=["18:00"], json_schema_extra=_HHMM_DOC)
    """Local time of day (HH:MM) the daily digest goes out."""

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


class PreferencesRead(OutputModel):
    """A person's notification preferences."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PREFERENCES_EXAMPLE]})

    channels: dict[str, list[MessageChannel]]
    """Channels per event type; key "*" is the fallback; empty means the defaults (inbox and email, plus SMS when urgent)."""
    quiet_start: str | None = Field(None, json_schema_extra=_HHMM_DOC)
    """Start of the quiet hours (local HH:MM), or null for none."""
    quiet_end: str | None = Field(None, json_schema_extra=_HHMM_DOC)
    """End of the quiet hours (local HH:MM), or null for none."""
    timezone: str
    """The IANA time zone of the quiet hours and the digest time."""
    digest_enabled: bool
    """Whether non-urgent email and SMS are gathered into a daily digest."""
    digest_at: str = Field(json_schema_extra=_HHMM_DOC)
    """Local time of day (HH:MM) the daily digest goes out."""


_PERSON_UPSERT_EXAMPLE: JsonDict = {
    "name": "李娜",
    "org_unit": "ningbo/yinzhou/dongwu",
    "roles": ["responsible"],
    "is_contact": False,
    "phone": "13800000002",
    "email": "lina@example.gov.cn",
    "active": True,
}


class PersonUpsert(InputModel):
    """A person of the directory, created or replaced whole."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PERSON_UPSERT_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100)
    """The person's name as shown in messages."""
    org_unit: Annotated[OrgUnit, Field(max_length=300)] = Field(description="Inside your scope.")
    roles: list[Role] = Field(
        default_factory=list,
        max_length=10,
        description="Roles reached by role recipients; city_admin and leader only from a city-wide caller.",
    )
    is_contact: bool = False
    """One of the org unit's contacts (reached by org-unit recipients)."""
    phone: str | None = Field(None, pattern=r"^\+?[0-9]{6,20}$")
    """Mobile number for SMS; without it no SMS is sent."""
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    """Email address; without it no email is sent."""
    active: bool = True
    """An inactive person receives nothing."""


class PersonRead(OutputModel):
    """A directory entry; contact points are masked (e.g. ``138****5678``, ``z***@example.cn``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "u-li-na",
                    **_PERSON_UPSERT_EXAMPLE,
                    "phone": "138****0002",
                    "email": "l***@example.gov.cn",
                    "preferences": _PREFERENCES_EXAMPLE,
                }
            ]
        }
    )

    user_id: str
    """The person's user id (the key of the directory)."""
    name: str
    """The person's name."""
    org_unit: str
    """The org unit the person belongs to."""
    roles: list[Role]
    """Roles reached by role recipients."""
    is_contact: bool
    """One of the org unit's contacts."""
    phone: str | None = None
    """Mobile number, masked."""
    email: str | None = None
    """Email address, masked."""
    active: bool
    """An inactive person receives nothing."""
    preferences: PreferencesRead
    """Channels, quiet hours and digest."""

"""API shapes of the inspector pool (人员库)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.sampling.importing import USER_ID_RE

INSPECTOR_EXAMPLE: dict[str, Any] = {
    "user_id": "u-insp-07",
    "name": "陈晓东",
    "home_district": "haishu",
    "can_lead": True,
    "active": True,
    "tags": ["组织部"],
}


class InspectorBase(InputModel):
    name: str = Field(min_length=1, max_length=100)
    """The person's name."""
    home_district: str
    """Slug of the district or zone the person comes from (never inspected by them: 回避)."""
    can_lead: bool = False
    """Whether the person may lead a team (组长)."""
    active: bool = True
    """Whether the person may be drawn into teams."""
    tags: list[str] = Field(default_factory=list, max_length=50)
    """Free labels."""


class InspectorCreate(InspectorBase):
    """A new person of the pool."""

    model_config = ConfigDict(json_schema_extra={"examples": [INSPECTOR_EXAMPLE]})

    user_id: str
    """The person's user id (what they sign in as)."""

    @field_validator("user_id")
    @classmethod
    def _uid(cls, v: str) -> str:
        if not USER_ID_RE.match(v):
            raise ValueError("must be 1-64 letters, digits or ._:@-")
        return v


class InspectorUpdate(InputModel):
    """The fields of a person that change; the ones left out stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"home_district": "yinzhou", "can_lead": False}]}
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    """A new name."""
    home_district: str | None = None
    """A new home district (slug)."""
    can_lead: bool | None = None
    """Whether the person may lead a team."""
    active: bool | None = None
    """Whether the person may be drawn."""
    tags: list[str] | None = None
    """The new set of labels."""


class InspectorRead(OutputModel):
    """One person of the inspector pool."""

    # Not an InputModel: a row stored before control characters were refused must still be readable.
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 7, **INSPECTOR_EXAMPLE}]})

    id: int
    """The inspector's id."""
    user_id: str
    """The person's user id."""
    name: str
    """The person's name."""
    home_district: str
    """Slug of the district or zone the person comes from."""
    can_lead: bool = False
    """Whether the person may lead a team."""
    active: bool = True
    """Whether the person may be drawn."""
    tags: list[str] = []
    """Free labels."""


@dataclass(frozen=True)
class InspectorFilter:
    """What a list of the pool keeps."""

    home_district: str | None = None
    can_lead: bool | None = None
    active: bool | None = None
    q: str | None = None

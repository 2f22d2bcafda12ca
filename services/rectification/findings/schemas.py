"""API shapes of the intake of scoring's findings (the event ``scoring.finding.created``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from services.kit.orgunit import OrgUnit
from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.rectification.enums import Level, Severity, SiteType
from services.rectification.problems.schemas import DISTRICT, SITE_CODE, SITE_EXAMPLE

FINDING_EXAMPLE: dict[str, Any] = {
    "id": "0b6f3c1e-2f4a-4d7e-9a51-6c1d2e3f4a5b",
    "type": "scoring.finding.created",
    "source": "scoring",
    "occurred_at": "2026-01-05T03:00:00Z",
    "data": {
        "round_code": "2026Q1",
        "sheet_id": "118",
        "finding_id": "611",
        "item_code": "C-07",
        "item_title": "组织生活制度落实",
        "site": SITE_EXAMPLE,
        "deduction_points": 1.5,
        "reason": "支部委员会会议记录不全",
        "category": "三会一课",
        "severity": "general",
        "level": "village_community",
        "issued_by": "u-team-leader",
        "team_id": "3",
    },
}


class SiteRef(InputModel):
    """A site as scoring's finding carries it (scoring read it from sampling's directory)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SITE_EXAMPLE]})

    code: str = Field(pattern=SITE_CODE)
    """The site's code in sampling's directory"""
    name: str = Field(min_length=1, max_length=200)
    """The site's name"""
    type: SiteType | None = None
    """The site's type"""
    org_unit: OrgUnit
    """The site's org unit"""
    district: str = Field(pattern=DISTRICT)
    """The district or zone the site lies in"""


class FindingData(InputModel):
    """What scoring found on one rubric item of a sheet."""

    model_config = ConfigDict(json_schema_extra={"examples": [FINDING_EXAMPLE["data"]]})

    round_code: str = Field(min_length=1, max_length=40)
    """The inspection round"""
    sheet_id: str = Field(max_length=64)
    """The score sheet"""
    finding_id: str | None = Field(default=None, max_length=64)
    """The deduction on the sheet the finding records (scoring's id)"""
    item_code: str = Field(max_length=20)
    """The rubric item"""
    item_title: str | None = Field(default=None, max_length=200)
    """The rubric item's title"""
    site: SiteRef
    """The inspected site"""
    deduction_points: float | None = None
    """Points deducted"""
    reason: str = Field(min_length=1, max_length=5000)
    """What is wrong"""
    category: str = Field(min_length=1, max_length=100)
    """The kind of problem"""
    severity: Severity
    """How serious it is"""
    level: Level
    """Recorded down to a village/community, a unit or an individual"""
    concerns: str | None = Field(default=None, max_length=400)
    """Who or what it concerns, when narrower than the site"""
    issued_by: str = Field(min_length=1, max_length=100)
    """The inspector who scored it"""
    team_id: str | None = Field(default=None, max_length=64)
    """The inspection team"""

    @field_validator("sheet_id", "finding_id", "team_id", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class FindingEnvelope(InputModel):
    """The event envelope scoring's outbox relay delivers."""

    model_config = ConfigDict(json_schema_extra={"examples": [FINDING_EXAMPLE]})

    id: str = Field(min_length=1, max_length=64)
    """The event id (the same event always gives the same problem)"""
    type: Literal["scoring.finding.created"]
    """The event type"""
    source: str = Field(max_length=100)
    """The service that sent it"""
    occurred_at: datetime
    """When the finding was recorded"""
    version: Literal[1] | None = None
    """The version of `data`'s schema in the event catalogue (docs/events.md); only 1 exists"""
    data: FindingData
    """The finding"""


class FindingAccepted(OutputModel):
    """The problem a finding became."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"problem_id": 42, "created": True}]})

    problem_id: int
    """The problem's id"""
    created: bool
    """false when this event had already been turned into that problem"""

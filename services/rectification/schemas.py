"""Rectification's API shapes.

Request bodies inherit :class:`~services.kit.text.InputModel` (no control characters, 64-bit
integers, bounded nesting). A person's unit and name, and a site's name and unit, are looked up in
notify's and sampling's directories: in a request they are named by id or code only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.kit.auth import ORG_UNIT_PATTERN
from services.kit.orgunit import OrgUnit
from services.kit.text import InputModel

Severity = Literal["general", "serious", "severe"]
Level = Literal["village_community", "unit", "individual"]
Status = Literal["open", "in_progress", "submitted", "returned", "closed"]
Light = Literal["green", "yellow", "red", "overdue"]
SHA256 = r"^[0-9a-f]{64}$"
ORG_UNIT = ORG_UNIT_PATTERN
# Sampling's site codes and notify's user ids (the same grammars those services accept).
SITE_CODE = r"^[A-Za-z0-9._\-]{1,64}$"
USER_ID = r"^[A-Za-z0-9._:\-]{1,100}$"
DISTRICT = r"^[a-z0-9_\-]{1,40}$"
IGNORED = "Ignored: taken from the directory"


class SiteRef(InputModel):
    """A site as scoring's finding carries it (scoring read it from sampling's directory)."""

    code: str = Field(pattern=SITE_CODE)
    name: str = Field(min_length=1, max_length=200)
    type: str | None = Field(default=None, max_length=20)
    org_unit: OrgUnit
    district: str = Field(pattern=DISTRICT)


class SiteIn(InputModel):
    """The site of a problem entered by hand: its code in sampling's directory (名录库)."""

    code: str = Field(pattern=SITE_CODE, description="the site's code in sampling's directory")
    name: str | None = Field(default=None, max_length=200, description=IGNORED)
    type: str | None = Field(default=None, max_length=20, description=IGNORED)
    org_unit: str | None = Field(default=None, max_length=400, description=IGNORED)
    district: str | None = Field(default=None, max_length=40, description=IGNORED)


class SiteRead(BaseModel):
    code: str
    name: str
    type: str | None
    org_unit: str
    district: str


class Evidence(InputModel):
    """A file that proves something: the file store keeps it, we keep its SHA-256."""

    file_hash: str = Field(pattern=SHA256, description="SHA-256 of the file, lowercase hex")
    name: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=1000)


class PersonIn(InputModel):
    """A responsible person (责任人), named by their user id in notify's directory."""

    user_id: str = Field(pattern=USER_ID, description="the person's user id in notify's directory")
    name: str | None = Field(default=None, max_length=100, description=IGNORED)
    org_unit: str | None = Field(default=None, max_length=400, description=IGNORED)


# --- findings from scoring -------------------------------------------------------------------


class FindingData(InputModel):
    round_code: str = Field(min_length=1, max_length=40)
    sheet_id: str = Field(max_length=64)
    item_code: str = Field(max_length=20)
    item_title: str | None = Field(default=None, max_length=200)
    site: SiteRef
    deduction_points: float | None = None
    reason: str = Field(min_length=1, max_length=5000)
    category: str = Field(min_length=1, max_length=100)
    severity: Severity
    level: Level
    concerns: str | None = Field(default=None, max_length=400)
    issued_by: str = Field(min_length=1, max_length=100)
    team_id: str | None = Field(default=None, max_length=64)

    @field_validator("sheet_id", "team_id", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class FindingEnvelope(InputModel):
    id: str = Field(min_length=1, max_length=64)
    type: Literal["scoring.finding.created"]
    source: str = Field(max_length=100)
    occurred_at: datetime
    data: FindingData


# --- problems --------------------------------------------------------------------------------


class ProblemCreate(InputModel):
    """A problem entered by hand by a city or district admin."""

    model_config = ConfigDict(extra="forbid")

    site: SiteIn
    round_code: str | None = Field(default=None, max_length=40)
    sheet_id: str | None = Field(default=None, max_length=64)
    item_code: str | None = Field(default=None, max_length=20)
    item_title: str | None = Field(default=None, max_length=200)
    level: Level
    category: str = Field(min_length=1, max_length=100)
    severity: Severity
    description: str = Field(min_length=1, max_length=5000)
    concerns: str | None = Field(default=None, max_length=400)
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)
    responsible_unit: OrgUnit | None = Field(
        default=None, description="defaults to the person's unit, else the site's; inside the site's district"
    )
    responsible_person: PersonIn | None = None
    deadline_on: date | None = Field(default=None, description="ends 23:59:59 Asia/Shanghai")
    deadline_at: AwareDatetime | None = None
    plan_due_on: date | None = None
    midterm_due_on: date | None = None


class MilestoneRead(BaseModel):
    kind: str
    label: str
    due_at: datetime
    due_on: date
    original_due_at: datetime
    done_at: datetime | None
    provisional: bool
    days_left: int
    working_days_left: int


class PersonRead(BaseModel):
    user_id: str
    name: str | None


class ProblemRead(BaseModel):
    id: int
    source_event_id: str | None
    round_code: str | None
    sheet_id: str | None
    item_code: str | None
    item_title: str | None
    site: SiteRead
    org_unit: str
    district: str
    level: str
    category: str
    severity: str
    severity_label: str
    description: str
    concerns: str | None
    deduction_points: float | None
    evidence: list[dict[str, Any]]
    issued_by: str
    issuing_unit: str
    responsible_unit: str
    responsible_person: PersonRead | None
    status: str
    created_at: datetime
    deadline_at: datetime
    deadline_on: date
    days_left: int | None
    working_days_left: int | None
    light: str | None
    provisional: bool
    submitted_at: datetime | None
    closed_at: datetime | None
    closed_on_time: bool | None
    extension_count: int
    milestones: list[MilestoneRead]


class ProblemList(BaseModel):
    items: list[ProblemRead]
    total: int
    limit: int
    offset: int


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]


class HistoryList(BaseModel):
    items: list[HistoryRead]


# --- transitions -----------------------------------------------------------------------------


class StartIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    plan: str = Field(min_length=1, max_length=5000, description="the rectification plan (整改方案)")


class ProgressIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=5000)
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)


class SubmitIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=5000)
    evidence: list[Evidence] = Field(min_length=1, max_length=50)


class CloseIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=5000)


class ReturnIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=5000)


class AssignIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    responsible_person: PersonIn
    reason: str | None = Field(default=None, max_length=1000)


class ExtensionCreate(InputModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=5000)
    new_deadline_on: date | None = None
    new_deadline_at: AwareDatetime | None = None


class ExtensionDecision(InputModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str | None = Field(default=None, max_length=5000)


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    problem_id: int
    requested_by: str
    reason: str
    requested_deadline_at: datetime
    previous_deadline_at: datetime
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class ExtensionList(BaseModel):
    items: list[ExtensionRead]


# --- templates and the working-day calendar --------------------------------------------------


class TemplateIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    plan_days: int = Field(ge=1, le=365)
    plan_working: bool = True
    midterm_percent: int = Field(ge=1, le=99)
    completion_days: int = Field(ge=1, le=730)
    completion_working: bool = False
    verification_days: int = Field(ge=1, le=365)
    verification_working: bool = True


class TemplateRead(TemplateIn):
    severity: str
    severity_label: str
    customised: bool


class TemplateList(BaseModel):
    items: list[TemplateRead]


class CalendarYearIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    holidays: list[date] = Field(min_length=1, max_length=60, description="statutory holidays (放假日)")
    workdays: list[date] = Field(
        default_factory=list, max_length=30, description="adjusted working weekends (调休上班日)"
    )


class CalendarYearRead(BaseModel):
    year: int
    source: Literal["entered", "package", "fallback"]
    holidays: list[date]
    workdays: list[date]
    recomputed_problems: int = 0


# --- views -----------------------------------------------------------------------------------


class Counts(BaseModel):
    open: int = 0
    overdue: int = 0
    closed_on_time: int = 0
    closed_late: int = 0


class DistrictStats(Counts):
    district: str
    average_days_to_close: float | None
    by_category: dict[str, Counts]
    by_severity: dict[str, Counts]


class DistrictStatsList(BaseModel):
    items: list[DistrictStats]


class BulletinItem(BaseModel):
    problem_id: int
    district: str
    site_code: str
    site_name: str
    org_unit: str
    category: str
    severity: str
    severity_label: str
    description: str
    responsible_unit: str
    responsible_person: PersonRead | None
    deadline_at: datetime
    days_overdue: int
    status: str


class Bulletin(BaseModel):
    items: list[BulletinItem]
    total: int
    limit: int
    offset: int


class FollowUpSite(BaseModel):
    site_code: str
    district: str
    overdue_count: int


class FollowUpSites(BaseModel):
    items: list[FollowUpSite]


class CalendarTokenRead(BaseModel):
    url: str
    token: str

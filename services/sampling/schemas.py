"""API shapes of the sampling service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.kit.text import InputModel
from services.sampling.importing import CODE_RE, SITE_TYPES, SLUG_RE, USER_ID_RE

T = TypeVar("T")
SiteType = Literal[
    "district", "zone", "town", "street", "village", "community", "enterprise", "social_org", "institution"
]
Group = Literal["district_zone", "town_street", "village_community", "two_new", "institution"]
assert set(SITE_TYPES) == set(SiteType.__args__)  # type: ignore[attr-defined]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def _code(v: str) -> str:
    if not CODE_RE.match(v):
        raise ValueError("must be 1-64 letters, digits, '.', '_' or '-'")
    return v


class SiteBase(InputModel):
    name: str = Field(min_length=1, max_length=200)
    active: bool = True
    tags: list[str] = Field(default_factory=list, max_length=50)


class SiteCreate(SiteBase):
    code: str
    type: SiteType
    parent_code: str | None = None
    district: str | None = Field(None, description="Slug, required for a district or zone")

    _v_code = field_validator("code")(_code)


class SiteUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None
    tags: list[str] | None = None
    parent_code: str | None = None


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    type: str
    name: str
    parent_id: int | None
    parent_code: str | None = None
    district: str
    town_code: str | None = None
    org_unit: str
    active: bool
    tags: list[str] = []


class ImportError_(BaseModel):
    line: int = Field(description="CSV/XLSX row number (header is row 1) or JSON item number (from 1)")
    column: str | None
    code: str | None
    problem: str = Field(description="unknown-parent, duplicate-code, wrong-type, cycle, missing-field, ...")
    reason: str


class ImportReport(BaseModel):
    format: str
    dry_run: bool
    mode: Literal["all_or_nothing", "good_rows"]
    applied: bool
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[ImportError_]


class InspectorBase(InputModel):
    name: str = Field(min_length=1, max_length=100)
    home_district: str
    can_lead: bool = False
    active: bool = True
    tags: list[str] = Field(default_factory=list, max_length=50)


class InspectorCreate(InspectorBase):
    user_id: str

    @field_validator("user_id")
    @classmethod
    def _uid(cls, v: str) -> str:
        if not USER_ID_RE.match(v):
            raise ValueError("must be 1-64 letters, digits or ._:@-")
        return v


class InspectorUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    home_district: str | None = None
    can_lead: bool | None = None
    active: bool | None = None
    tags: list[str] | None = None


class InspectorRead(BaseModel):
    # Not an InputModel: a row stored before control characters were refused must still be readable.
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: str
    name: str
    home_district: str
    can_lead: bool = False
    active: bool = True
    tags: list[str] = []


class Quota(InputModel):
    """How many sites of a group to draw per district (or per town, or once city-wide)."""

    group: Group
    per: Literal["district", "town", "city"] = "district"
    count: int | None = Field(None, ge=0, description="Fixed number; or give min and max for a range")
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> Quota:
        if self.count is not None:
            if self.min not in (None, self.count) or self.max not in (None, self.count):
                raise ValueError("give either count or min/max, not both")
            self.min = self.max = self.count
        elif self.min is None or self.max is None:
            raise ValueError("give count, or both min and max")
        elif self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class FollowUpSpec(InputModel):
    site_codes: list[str] = Field(
        default_factory=list, description="Sites to revisit (回头看), named by the caller"
    )
    from_rectification: bool = Field(
        False, description="Also revisit sites with overdue problems, asked of rectification"
    )


class Plan(InputModel):
    quotas: list[Quota] = Field(min_length=1)
    exclude_last_rounds: int = Field(1, ge=0, le=20, description="Skip sites drawn in the last N rounds")
    reserve: int = Field(3, ge=0, le=50, description="Extra ranked tickets kept per stratum (候补)")
    follow_up: FollowUpSpec = Field(default_factory=FollowUpSpec)


DEFAULT_PLAN_EXAMPLE: dict[str, Any] = {
    "quotas": [
        {"group": "town_street", "per": "district", "count": 2},
        {"group": "village_community", "per": "district", "count": 4},
        {"group": "two_new", "per": "district", "min": 1, "max": 2},
        {"group": "institution", "per": "city", "count": 1},
    ],
    "exclude_last_rounds": 1,
    "reserve": 3,
    "follow_up": {"site_codes": [], "from_rectification": False},
}


class RoundCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "2026Q1",
                "title": "2026年第一季度基层党建专项督查",
                "districts": ["haishu", "yinzhou"],
                "plan": DEFAULT_PLAN_EXAMPLE,
                "visit_start_on": "2026-04-01",
            }
        }
    )

    code: str = Field(pattern=r"^\d{4}Q[1-4](-[0-9a-z]{1,10})?$", examples=["2026Q1"])
    title: str | None = Field(None, max_length=200)
    districts: list[str] | None = Field(None, description="District/zone slugs in scope; default all of them")
    plan: Plan
    visit_start_on: date
    visit_days_per_district: int = Field(2, ge=1, le=30)
    team_count: int = Field(5, ge=1, le=50)
    team_size: int = Field(6, ge=1, le=30)

    @field_validator("districts")
    @classmethod
    def _slugs(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            for d in v:
                if not SLUG_RE.match(d):
                    raise ValueError(f"{d!r} is not a district slug")
            if len(set(v)) != len(v):
                raise ValueError("districts repeat")
        return v


class RoundPlanUpdate(InputModel):
    plan: Plan
    districts: list[str] | None = None
    visit_start_on: date | None = None
    visit_days_per_district: int | None = Field(None, ge=1, le=30)
    team_count: int | None = Field(None, ge=1, le=50)
    team_size: int | None = Field(None, ge=1, le=30)


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title: str
    status: str
    districts: list[str]
    plan: dict[str, Any]
    follow_ups: list[dict[str, Any]]
    visit_start_on: date
    visit_days_per_district: int
    team_count: int
    team_size: int
    commitment: str | None
    commitment_mode: str | None
    revealed_at: datetime | None
    frame_hash: str | None
    frozen_at: datetime | None
    current_draw_number: int | None = None
    created_by: str
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class FreezeRequest(InputModel):
    commitment: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of a secret you keep and give at draw time; omit to let the server hold one",
    )


class StratumSummary(BaseModel):
    key: str
    group: str
    district: str | None
    town_code: str | None
    size: int
    excluded: int
    quota: dict[str, int]
    hash: str
    codes: list[str] | None = None


class FrameRead(BaseModel):
    round_code: str
    hash: str
    frozen_at: datetime
    commitment: str
    strata: list[StratumSummary]
    warnings: list[str]


class DrawRequest(InputModel):
    public_value: str = Field(
        min_length=1, max_length=200, description="Value read out at the meeting, e.g. lottery digits"
    )
    secret: str | None = Field(
        None, min_length=1, max_length=200, description="Only when you gave the commitment at freeze"
    )
    reason: str | None = Field(None, max_length=2000, description="Required for a redraw")

    @field_validator("public_value", "secret")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("must not contain NUL")
        return v


class DrawSummary(BaseModel):
    number: int
    algorithm: str
    public_value: str
    reason: str | None
    record_sha256: str
    created_by: str
    created_at: datetime
    current: bool
    sites: int
    warnings: list[str]


class TeamRead(BaseModel):
    id: int
    number: int
    name: str
    leader_user_id: str
    member_user_ids: list[str]
    districts: list[str]


class AssignmentSite(BaseModel):
    code: str
    name: str
    type: str
    org_unit: str
    district: str


class AssignmentTeam(BaseModel):
    id: int
    name: str
    leader_user_id: str
    member_user_ids: list[str]


class AssignmentRead(BaseModel):
    round_code: str
    status: str
    site: AssignmentSite
    team: AssignmentTeam
    visit_from: date
    visit_to: date
    follow_up: bool
    stratum: str | None
    changed_at: datetime | None = None
    change_reason: str | None = None


class AssignmentUpdate(InputModel):
    team_id: int | None = None
    visit_from: date | None = None
    visit_to: date | None = None
    reason: str = Field(min_length=1, max_length=2000)

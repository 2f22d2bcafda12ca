"""Scoring's API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from services.kit.text import InputModel

T = TypeVar("T")

SheetStatus = Literal["draft", "submitted", "reviewed", "returned", "locked"]
Severity = Literal["general", "serious", "severe"]
Level = Literal["village_community", "unit", "individual"]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- rubrics -------------------------------------------------------------------------------------


class RubricSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: str
    name: str
    status: Literal["draft", "published"]
    is_default: bool
    based_on_id: int | None
    definition_sha256: str | None
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None


class RubricRead(RubricSummary):
    definition: dict[str, Any]
    item_count: int


class RubricDraftCreate(InputModel):
    version: str = Field(min_length=1, max_length=40, examples=["2026.2"])
    name: str | None = Field(default=None, max_length=200)
    based_on_id: int | None = Field(
        default=None, ge=1, description="Version to copy; the current default when omitted"
    )


class RubricDraftUpdate(InputModel):
    definition: dict[str, Any] = Field(
        description="The whole rubric document (sections, items, weights, bands)"
    )


class RubricPublish(InputModel):
    make_default: bool = Field(default=True, description="New rounds bind this version from now on")


class RoundRubricBind(InputModel):
    rubric_id: int = Field(ge=1, description="A published rubric version's id")


class RoundRubricRead(BaseModel):
    round_code: str
    rubric_id: int
    rubric_version: str
    bound_by: str
    bound_at: datetime


# --- sheets --------------------------------------------------------------------------------------


class FindingIn(InputModel):
    """Marks a deduction as a problem to rectify (问题)."""

    category: str = Field(min_length=1, max_length=100, examples=["组织生活"])
    severity: Severity = Field(description="一般 general · 较重 serious · 严重 severe")
    level: Level
    concerns: str = Field(
        min_length=1, max_length=400, description="The village/community, unit or person it concerns"
    )


class DeductionIn(InputModel):
    id: str | None = Field(
        default=None, max_length=36, description="Keep the id when re-sending an existing deduction"
    )
    points: float = Field(description="Points taken off; more than 0, at most the item maximum")
    reason: str = Field(min_length=1, max_length=1000)
    finding: FindingIn | None = None


class EvidenceIn(InputModel):
    file_name: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ItemScoreIn(InputModel):
    """One item's score. Give the value its scoring type needs: deductions, grade, rate or met."""

    item_code: str = Field(min_length=1, max_length=20, examples=["C03"])
    deductions: list[DeductionIn] | None = None
    grade: str | None = Field(default=None, examples=["较好"])
    rate: float | None = None
    met: bool | None = None
    veto_triggered: bool = Field(default=False, description="Veto items only: the veto condition was found")
    notes: str = Field(default="", max_length=4000)
    methods: list[str] = Field(default_factory=list, examples=[["核", "查"]])
    evidence: list[EvidenceIn] = Field(default_factory=list)


class PollCounts(InputModel):
    satisfied: int = Field(ge=0, description="满意")
    basically_satisfied: int = Field(ge=0, description="基本满意")
    dissatisfied: int = Field(ge=0, description="不满意")


class SheetCreate(InputModel):
    site_code: str = Field(min_length=1, max_length=64)


class SheetUpdate(InputModel):
    """Changes to a draft or returned sheet; only the items listed change."""

    items: list[ItemScoreIn] = Field(default_factory=list)
    poll: dict[str, PollCounts] | None = Field(
        default=None, description="Satisfaction poll counts per group (party_member, resident)"
    )
    notes: str | None = Field(default=None, max_length=4000)


class ReturnIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000)


class SiteRef(BaseModel):
    code: str
    name: str
    type: str
    org_unit: str
    district: str


class TeamRef(BaseModel):
    id: str
    name: str
    leader_user_id: str
    member_user_ids: list[str]


class SectionScore(BaseModel):
    code: str
    title: str
    weight: float
    points: float
    max_points: float
    percent: float | None
    scored_items: int
    items: int


class SheetResults(BaseModel):
    sections: list[SectionScore]
    score: float | None = Field(description="100-point score over the applicable items; null until complete")
    grade: str | None
    grade_before_veto: str | None
    veto_items: list[str]
    scored_items: int
    items: int
    complete: bool


class ItemScoreRead(BaseModel):
    item_code: str
    title: str
    section_code: str
    scoring_type: str
    max_points: float
    expected_methods: list[str]
    veto: bool
    points: float | None
    deductions: list[dict[str, Any]] = Field(default_factory=list)
    grade: str | None = None
    rate: float | None = None
    met: bool | None = None
    veto_triggered: bool = False
    notes: str = ""
    methods: list[str] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    updated_by: str | None = None
    updated_at: datetime | None = None


class SheetSummary(BaseModel):
    id: str
    round_code: str
    site: SiteRef
    team_id: str
    status: SheetStatus
    version: int
    score: float | None
    grade: str | None
    veto_items: list[str]
    updated_at: datetime


class SheetRead(BaseModel):
    id: str
    round_code: str
    rubric_id: int
    rubric_version: str
    site: SiteRef
    team: TeamRef
    status: SheetStatus
    version: int
    etag: str
    poll: dict[str, Any] | None
    notes: str
    items: list[ItemScoreRead]
    results: SheetResults
    return_reason: str | None
    content_sha256: str | None = Field(description="SHA-256 of the canonical content, set when locked")
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    locked_by: str | None
    locked_at: datetime | None


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    action: str
    actor: str
    at: datetime
    changes: dict[str, Any]


# --- results -------------------------------------------------------------------------------------


class DistrictRanking(BaseModel):
    rank: int | None
    district: str
    composite: float | None
    grade: str | None
    complete: bool = Field(
        description="False when the district's own sheet or all its grassroots sheets are missing"
    )
    own_score: float | None
    own_sheets: list[dict[str, Any]]
    grassroots_mean: float | None
    grassroots_count: int
    grassroots_by_type: dict[str, dict[str, Any]]
    own_weight: float
    grassroots_weight: float
    explanation: str
    preview_sheets: int = Field(
        description="Sheets counted that are reviewed but not yet locked (preview only)"
    )


class RankingsRead(BaseModel):
    round_code: str
    rubric_version: str | None
    preview: bool
    published_at: datetime | None
    items: list[DistrictRanking]


class SiteRanking(BaseModel):
    rank: int | None
    sheet_id: str
    site: SiteRef
    status: SheetStatus
    score: float | None
    grade: str | None
    veto_items: list[str]
    sections: dict[str, Any]
    preview: bool = Field(description="True when the sheet is reviewed but not locked")


class SiteRankingsRead(BaseModel):
    round_code: str
    site_type: str
    preview: bool
    items: list[SiteRanking]
    total: int
    limit: int
    offset: int


class ItemProblems(BaseModel):
    item_code: str
    title: str
    section_code: str
    max_points: float
    sheets: int
    sheets_with_deductions: int
    deductions: int
    findings: int
    points_lost: float
    mean_points: float | None


class ItemProblemsRead(BaseModel):
    round_code: str
    preview: bool
    items: list[ItemProblems]


class TrendPoint(BaseModel):
    round_code: str
    composite: float | None
    rank: int | None


class DistrictTrend(BaseModel):
    district: str
    points: list[TrendPoint]


class TrendRead(BaseModel):
    rounds: list[str]
    items: list[DistrictTrend]


class PublicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_code: str
    published_by: str
    published_at: datetime
    locked_sheets: int

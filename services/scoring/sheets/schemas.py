"""Score sheets as the API shows and takes them: bodies, the sheet with its items, its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.scoring.enums import (
    EvidenceKind,
    FindingLevel,
    Grade,
    Method,
    ScoringType,
    Severity,
    SheetAction,
    SheetStatus,
    SiteType,
)

SHA = "9f2b5c0e8d7a4f3b1c6e2d9a8b7c5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a"
SHEET_ID = "3f0c9a52-6d1e-4f55-9a43-2f7d3c1e8b10"
_SITE: JsonDict = {
    "code": "330212001201",
    "name": "勤勇村",
    "type": "village",
    "org_unit": "ningbo/yinzhou/330212001/330212001201",
    "district": "yinzhou",
}
_FINDING: JsonDict = {
    "category": "组织生活",
    "severity": "general",
    "level": "village_community",
    "concerns": "勤勇村党支部",
}
_DEDUCTION: JsonDict = {"id": "d-1", "points": 1.0, "reason": "“三会一课”记录不全", "finding": _FINDING}
FILE_ID = "0f8e2c1a-7b3d-4e59-9a61-2d4c8b7e5f30"
_EVIDENCE: JsonDict = {"file_id": FILE_ID, "note": "三会一课记录"}
_EVIDENCE_READ: JsonDict = {
    "file_id": FILE_ID,
    "name": "三会一课记录.jpg",
    "media_type": "image/jpeg",
    "kind": "image",
    "sha256": SHA,
    "size": 482113,
    "captured_at": "2026-03-12T01:55:00Z",
    "content_url": f"/api/v1/evidence/files/{FILE_ID}/content",
    "thumbnail_url": f"/api/v1/evidence/files/{FILE_ID}/thumbnail",
    "note": "三会一课记录",
    "added_by": "u-insp1",
    "added_at": "2026-03-12T02:10:00Z",
}
_DEDUCTION_IN: JsonDict = {"points": 1, "reason": "“三会一课”记录不全", "finding": _FINDING}
_ITEM_IN: JsonDict = {
    "item_code": "C01",
    "deductions": [_DEDUCTION_IN],
    "methods": ["查", "谈"],
    "evidence": [_EVIDENCE],
}
_ITEM_NOT_APPLICABLE: JsonDict = {
    "item_code": "C14",
    "not_applicable": True,
    "not_applicable_reason": "新成立党支部，尚无党员基础信息可维护",
}
_POLL: JsonDict = {
    "party_member": {"satisfied": 28, "basically_satisfied": 3, "dissatisfied": 1},
    "resident": {"satisfied": 41, "basically_satisfied": 6, "dissatisfied": 2},
}


# --- request parameters and bodies ---------------------------------------------------------------

SHEET_SORT_FIELDS = ("site_code", "site_name", "status", "score", "updated_at")


@dataclass(frozen=True)
class SheetFilter:
    """A round's sheets, narrowed by what a front end filters on."""

    round_code: str
    status: SheetStatus | None = None
    district: str | None = None
    site_type: SiteType | None = None
    site_code: str | None = None
    team_id: str | None = None


# --- request bodies ------------------------------------------------------------------------------


class FindingIn(InputModel):
    """Marks a deduction as a problem to rectify (问题)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_FINDING]})

    category: str = Field(min_length=1, max_length=100, examples=["组织生活"])
    """The problem's category"""
    severity: Severity
    """一般 general · 较重 serious · 严重 severe"""
    level: FindingLevel
    """Whom it concerns: a village/community, a unit or a person"""
    concerns: str = Field(min_length=1, max_length=400)
    """The village/community, unit or person it concerns"""


class DeductionIn(InputModel):
    """Points taken off an item, with the reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [_DEDUCTION_IN]})

    id: str | None = Field(default=None, max_length=36)
    """Keep the id when re-sending an existing deduction"""
    points: float
    """Points taken off; more than 0, at most the item maximum"""
    reason: str = Field(min_length=1, max_length=1000)
    """Why (Chinese)"""
    finding: FindingIn | None = None
    """Set when the deduction is a problem to rectify"""


class EvidenceIn(InputModel):
    """A file uploaded to the evidence service, named by its id there (it must lie in the caller's scope)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EVIDENCE]})

    file_id: str = Field(pattern=r"^[A-Za-z0-9._\-]{1,64}$")
    """The file's id at the evidence service (``POST /api/v1/evidence/files`` answers it)"""
    note: str | None = Field(default=None, max_length=1000)
    """What the file shows"""


class ItemScoreIn(InputModel):
    """One item's score. Give the value its scoring type needs: deductions, grade, rate or met."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ITEM_IN, _ITEM_NOT_APPLICABLE]})

    item_code: str = Field(min_length=1, max_length=20, examples=["C03"])
    """The rubric item's code"""
    deductions: list[DeductionIn] | None = None
    """Deduction items: every deduction (the whole list replaces the previous one)"""
    grade: Grade | None = None
    """Graded items: the grade"""
    rate: float | None = None
    """Rate items (not from the poll): the rate between 0 and 1"""
    met: bool | None = None
    """Check items: whether the requirement is met"""
    veto_triggered: bool = False
    """Veto items only: the veto condition was found"""
    not_applicable: bool = False
    """不适用: the item does not apply at this site; its points leave the denominator (give no score)"""
    not_applicable_reason: str | None = Field(default=None, min_length=1, max_length=1000)
    """Why the item does not apply here; required with not_applicable, refused without it"""
    notes: str = Field(default="", max_length=4000)
    """The inspector's notes"""
    methods: list[Method] = Field(default_factory=list)
    """Evidence methods used (看问访核查谈)"""
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    """Files supporting the score, by id at the evidence service (the whole list replaces the previous one)"""


class PollCounts(InputModel):
    """How many of one group answered each way."""

    model_config = ConfigDict(json_schema_extra={"examples": [_POLL["resident"]]})

    satisfied: int = Field(ge=0)
    """满意"""
    basically_satisfied: int = Field(ge=0)
    """基本满意"""
    dissatisfied: int = Field(ge=0)
    """不满意"""


class SheetCreate(InputModel):
    """The site to open a sheet for."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"site_code": "330212001201"}]})

    site_code: str = Field(min_length=1, max_length=64)
    """A site drawn in the round for your team"""


SiteCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# A round has ~140 sites to score; a city's largest rounds stay well below this.
MAX_BATCH_SITES = 1000


class SheetBatchCreate(InputModel):
    """Which drawn sites of the round to open sheets for; with neither member, every one you may open."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{}, {"team_id": "T1"}, {"site_codes": ["330212001201", "330212001202"]}]
        }
    )

    team_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    """Only the sites assigned to this team (a team member may name only a team they are in)"""
    site_codes: list[SiteCode] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_SITES)
    """Only these sites, each drawn in the round (for your team, unless you are a city admin)"""


class SheetUpdate(InputModel):
    """Changes to a draft or returned sheet; only the items listed change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ITEM_IN], "poll": _POLL, "notes": "村党支部书记陪同检查"}]
        }
    )

    items: list[ItemScoreIn] = Field(default_factory=list)
    """Item scores to save"""
    poll: dict[str, PollCounts] | None = None
    """Satisfaction poll counts per group (party_member, resident)"""
    notes: str | None = Field(default=None, max_length=4000)
    """The sheet's notes"""


class ReturnIn(InputModel):
    """Why a sheet goes back for rework."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "扣分依据需补充原始记录照片"}]})

    reason: str = Field(min_length=1, max_length=2000)
    """The reason, shown to the team"""


# --- answers -------------------------------------------------------------------------------------


class SiteRef(OutputModel):
    """The site a sheet scores, as sampling reported it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SITE]})

    code: str
    """The site's code"""
    name: str
    """The site's name"""
    type: SiteType
    """The kind of site"""
    org_unit: str
    """The site's org-unit path"""
    district: str
    """Its district or zone slug"""


class TeamRef(OutputModel):
    """The inspection team assigned to the site."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "T1",
                    "name": "第一督查组",
                    "leader_user_id": "u-leader",
                    "member_user_ids": ["u-insp1"],
                }
            ]
        }
    )

    id: str
    """The team's id"""
    name: str
    """The team's name"""
    leader_user_id: str
    """The team leader"""
    member_user_ids: list[str]
    """The inspectors"""


class SectionScore(OutputModel):
    """One section's subtotal on a sheet."""

    code: str
    """The section's code"""
    title: str
    """The section's title"""
    weight: float
    """Its percent weight for this site type"""
    points: float
    """Points scored"""
    max_points: float
    """Maximum points of its applicable items"""
    percent: float | None
    """Points as a percent of the maximum; null until every item is scored"""
    scored_items: int
    """Items scored so far"""
    items: int
    """Applicable items"""


class SectionSummary(OutputModel):
    """A section's subtotal as stored on a sheet."""

    points: float
    """Points scored"""
    max_points: float
    """Maximum points"""
    percent: float | None
    """Points as a percent of the maximum"""
    weight: float
    """The section's percent weight for this site type"""


class SheetResults(OutputModel):
    """A sheet's results, computed from its items."""

    sections: list[SectionScore]
    """Per section subtotals"""
    score: float | None
    """100-point score over the applicable items; null until complete"""
    grade: Grade | None
    """The grade, capped by a failed veto item"""
    grade_before_veto: Grade | None
    """The grade the score alone earns"""
    veto_items: list[str]
    """Veto items failed"""
    not_applicable_items: list[str] = Field(default_factory=list, examples=[["C14"]])
    """Items marked not applicable (不适用) at this site: out of the denominator, not counted in `items`"""
    scored_items: int
    """Items scored so far"""
    items: int
    """Applicable items (not counting those marked not applicable)"""
    complete: bool
    """Every applicable item is scored"""


class FindingRead(OutputModel):
    """A deduction's problem to rectify."""

    category: str
    """The problem's category"""
    severity: Severity
    """一般 general · 较重 serious · 严重 severe"""
    level: FindingLevel
    """Whom it concerns"""
    concerns: str
    """The village/community, unit or person it concerns"""


class DeductionRead(OutputModel):
    """Points taken off an item."""

    id: str
    """The deduction's id (a finding's id too)"""
    points: float
    """Points taken off"""
    reason: str
    """Why"""
    finding: FindingRead | None = None
    """The problem to rectify, when the deduction is one"""


class EvidenceRead(OutputModel):
    """A file supporting an item's score, as the evidence service described it when attached.

    Evidence attached before files were named by id carries its name and SHA-256 only (``file_id`` null).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_EVIDENCE_READ]})

    file_id: str | None = None
    """The file's id at the evidence service (null: evidence given by hash, before files had ids)"""
    name: str
    """The file's name"""
    media_type: str | None = None
    """Its media type, from its content (image/jpeg, application/pdf, …)"""
    kind: EvidenceKind | None = None
    """image, pdf, document, spreadsheet or video (null: not told)"""
    sha256: str
    """SHA-256 of its content"""
    size: int | None = None
    """Its size in bytes"""
    captured_at: datetime | None = None
    """When a photo was taken (EXIF), if known"""
    content_url: str | None = None
    """Where the file can be fetched"""
    thumbnail_url: str | None = None
    """Its thumbnail (images only)"""
    note: str | None = None
    """What the file shows"""
    added_by: str
    """Who attached it"""
    added_at: datetime
    """When it was attached"""

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        # Items scored before evidence had ids hold {file_name, sha256, added_by, added_at}: read them as is.
        if isinstance(data, dict) and "file_name" in data and "name" not in data:
            data = {k: v for k, v in data.items() if k != "file_name"} | {"name": data["file_name"]}
        return data


class ItemDetail(OutputModel):
    """What an inspector recorded for an item."""

    deductions: list[DeductionRead] = Field(default_factory=list)
    """Deductions (deduction items)"""
    grade: Grade | None = None
    """The grade (graded items)"""
    rate: float | None = None
    """The rate (rate items)"""
    met: bool | None = None
    """Met or not (check items)"""
    veto_triggered: bool = False
    """The veto condition was found"""
    not_applicable: bool = False
    """不适用 at this site: no points, and out of the denominator"""
    not_applicable_reason: str | None = None
    """Why the item does not apply here (with not_applicable)"""
    notes: str = ""
    """The inspector's notes"""
    methods: list[Method] = Field(default_factory=list)
    """Evidence methods used"""
    evidence: list[EvidenceRead] = Field(default_factory=list)
    """Files supporting the score"""


class ItemState(ItemDetail):
    """What an item's score holds: the points and what they were given for."""

    points: float | None = None
    """Points awarded; null until scored"""


class ItemScoreRead(ItemState):
    """One applicable item on a sheet: the rubric's item and its score."""

    item_code: str
    """The item's code"""
    title: str
    """The item's title"""
    section_code: str
    """Its section"""
    scoring_type: ScoringType
    """How it is scored"""
    max_points: float
    """Maximum points"""
    expected_methods: list[Method]
    """Evidence methods the rubric expects"""
    veto: bool
    """A veto item"""
    updated_by: str | None = None
    """Who last scored it"""
    updated_at: datetime | None = None
    """When it was last scored"""


class PollRead(OutputModel):
    """How many of one group answered each way."""

    satisfied: int
    """满意"""
    basically_satisfied: int
    """基本满意"""
    dissatisfied: int
    """不满意"""


_SUMMARY_EXAMPLE: JsonDict = {
    "id": SHEET_ID,
    "round_code": "2026Q1",
    "site": _SITE,
    "team_id": "T1",
    "status": "submitted",
    "version": 3,
    "score": 92.5,
    "grade": "好",
    "veto_items": [],
    "updated_at": "2026-03-12T06:30:00Z",
}


class SheetSummary(OutputModel):
    """A sheet in a list: its site, status and score."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    id: str
    """The sheet's id"""
    round_code: str
    """The round"""
    site: SiteRef
    """The site scored"""
    team_id: str
    """The team assigned"""
    status: SheetStatus
    """Where the sheet is in its lifecycle"""
    version: int
    """Incremented by every change"""
    score: float | None
    """100-point score; null until complete"""
    grade: Grade | None
    """The grade; null until complete"""
    veto_items: list[str]
    """Veto items failed"""
    updated_at: datetime
    """When it last changed"""


class SheetRead(OutputModel):
    """A whole score sheet: every item, its results, its ETag."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{
                        k: v
                        for k, v in _SUMMARY_EXAMPLE.items()
                        if k not in ("team_id", "score", "grade", "veto_items")
                    },
                    "rubric_id": 1,
                    "rubric_version": "2026.1",
                    "team": {
                        "id": "T1",
                        "name": "第一督查组",
                        "leader_user_id": "u-leader",
                        "member_user_ids": ["u-insp1"],
                    },
                    "etag": f'"{SHEET_ID}.3"',
                    "poll": _POLL,
                    "notes": "",
                    "items": [
                        {
                            "item_code": "C01",
                            "title": "“三会一课”制度落实",
                            "section_code": "C",
                            "scoring_type": "deduction",
                            "max_points": 6.0,
                            "expected_methods": ["查", "谈"],
                            "veto": False,
                            "points": 5.0,
                            "deductions": [_DEDUCTION],
                            "methods": ["查"],
                            "evidence": [_EVIDENCE_READ],
                            "updated_by": "u-insp1",
                            "updated_at": "2026-03-12T02:10:00Z",
                        }
                    ],
                    "results": {
                        "sections": [],
                        "score": 92.5,
                        "grade": "好",
                        "grade_before_veto": "好",
                        "veto_items": [],
                        "scored_items": 22,
                        "items": 22,
                        "complete": True,
                    },
                    "created_by": "u-insp1",
                    "created_at": "2026-03-11T01:00:00Z",
                    "submitted_by": "u-insp1",
                    "submitted_at": "2026-03-12T06:30:00Z",
                }
            ]
        }
    )

    id: str
    """The sheet's id"""
    round_code: str
    """The round"""
    rubric_id: int
    """The rubric version it is scored on"""
    rubric_version: str
    """That version's name"""
    site: SiteRef
    """The site scored"""
    team: TeamRef
    """The team assigned"""
    status: SheetStatus
    """Where the sheet is in its lifecycle"""
    version: int
    """Incremented by every change"""
    etag: str
    """The ETag to send as If-Match with the next change"""
    poll: dict[str, PollRead] | None
    """Satisfaction poll counts per group"""
    notes: str
    """The sheet's notes"""
    items: list[ItemScoreRead]
    """Every applicable item"""
    results: SheetResults
    """Subtotals, score and grade"""
    return_reason: str | None = None
    """Why it was last returned"""
    content_sha256: str | None = Field(
        default=None, description="SHA-256 of the canonical content, set when locked"
    )
    created_by: str
    """Who opened it"""
    created_at: datetime
    """When it was opened"""
    updated_at: datetime
    """When it last changed"""
    submitted_by: str | None = None
    """Who submitted it"""
    submitted_at: datetime | None = None
    """When it was submitted"""
    reviewed_by: str | None = None
    """Which team leader reviewed it"""
    reviewed_at: datetime | None = None
    """When it was reviewed"""
    locked_by: str | None = None
    """Who locked it"""
    locked_at: datetime | None = None
    """When it was locked"""


class StatusChange(OutputModel):
    """A status before and after."""

    before: SheetStatus
    """The status before"""
    after: SheetStatus
    """The status after"""


class TextChange(OutputModel):
    """A text before and after."""

    before: str
    """The text before"""
    after: str
    """The text after"""


class PollChange(OutputModel):
    """The satisfaction poll before and after."""

    before: dict[str, PollRead] | None
    """The counts before"""
    after: dict[str, PollRead] | None
    """The counts after"""


class ItemChange(OutputModel):
    """An item's score before and after."""

    before: ItemState
    """The score before"""
    after: ItemState
    """The score after"""


class SheetChanges(OutputModel):
    """What one history entry changed; only the members that changed are present (others are null)."""

    status: StatusChange | None = None
    """The status (submitted, reviewed, returned, locked)"""
    items: dict[str, ItemChange] | None = None
    """Item scores, by item code (updated)"""
    poll: PollChange | None = None
    """The satisfaction poll (updated)"""
    notes: TextChange | None = None
    """The sheet's notes (updated)"""
    team_id: str | None = None
    """The team assigned (created)"""
    reason: str | None = None
    """Why it was returned (returned)"""
    content_sha256: str | None = None
    """The content hash fixed (locked)"""


class HistoryEntry(OutputModel):
    """One change to a sheet: who, when, what."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 4,
                    "action": "returned",
                    "actor": "u-leader",
                    "at": "2026-03-12T08:00:00Z",
                    "changes": {
                        "status": {"before": "submitted", "after": "returned"},
                        "reason": "扣分依据需补充原始记录照片",
                    },
                }
            ]
        }
    )

    version: int
    """The sheet's version after the change"""
    action: SheetAction
    """What happened"""
    actor: str
    """Who did it"""
    at: datetime
    """When"""
    changes: SheetChanges
    """What changed"""


class ContentRubric(OutputModel):
    """The rubric version a locked sheet was scored on."""

    version: str
    """The version's name"""
    sha256: str | None
    """SHA-256 of the version's canonical document"""


class ContentItem(OutputModel):
    """One item's score in a sheet's canonical content."""

    item_code: str
    """The item's code"""
    points: float | None
    """Points awarded"""
    detail: ItemDetail
    """What the inspector recorded"""


class SheetContent(OutputModel):
    """What a lock fixes, as canonical JSON (sorted keys, no spaces, UTF-8): its SHA-256 is the sheet's
    `content_sha256`. Datetimes inside are written as stored (ISO 8601 with an offset)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sheet_id": SHEET_ID,
                    "round_code": "2026Q1",
                    "rubric": {"version": "2026.1", "sha256": SHA},
                    "site": _SITE,
                    "team_id": "T1",
                    "items": [
                        {
                            "item_code": "C01",
                            "points": 5.0,
                            "detail": {"deductions": [_DEDUCTION], "methods": ["查"], "notes": ""},
                        }
                    ],
                    "poll": _POLL,
                    "notes": "",
                    "score": 92.5,
                    "grade": "好",
                    "veto_items": [],
                    "sections": {"C": {"points": 68.5, "max_points": 70.0, "percent": 97.86, "weight": 70.0}},
                    "submitted_by": "u-insp1",
                    "reviewed_by": "u-leader",
                }
            ]
        }
    )

    sheet_id: str
    """The sheet's id"""
    round_code: str
    """The round"""
    rubric: ContentRubric
    """The rubric version"""
    site: SiteRef
    """The site scored"""
    team_id: str
    """The team assigned"""
    items: list[ContentItem]
    """Every item's score, by item code"""
    poll: dict[str, PollRead] | None
    """Satisfaction poll counts per group"""
    notes: str
    """The sheet's notes"""
    score: float | None
    """The 100-point score"""
    grade: Grade | None
    """The grade"""
    veto_items: list[str]
    """Veto items failed"""
    sections: dict[str, SectionSummary]
    """Subtotals by section code"""
    submitted_by: str | None
    """Who submitted it"""
    reviewed_by: str | None
    """Which team leader reviewed it"""


class OpenedSheet(OutputModel):
    """A draft a batch opened."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": SHEET_ID,
                    "site": _SITE,
                    "team_id": "T1",
                    "status": "draft",
                    "version": 1,
                    "etag": f'"{SHEET_ID}.1"',
                }
            ]
        }
    )

    id: str
    """The sheet's id"""
    site: SiteRef
    """The site"""
    team_id: str
    """The team assigned"""
    status: SheetStatus
    """Always draft"""
    version: int
    """1: nothing is scored yet"""
    etag: str
    """The ETag to send as If-Match with the first change"""


_EXISTING: JsonDict = {
    "id": "7b1e4c2a-0f3d-4a59-8e61-5c2d9f0a3b47",
    "site": {
        **_SITE,
        "code": "330212001202",
        "name": "天童村",
        "org_unit": "ningbo/yinzhou/330212001/330212001202",
    },
    "team_id": "T1",
    "status": "submitted",
}


class ExistingSheet(OutputModel):
    """A site of the batch that already had its sheet: reported, not opened again."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXISTING]})

    id: str
    """The sheet's id"""
    site: SiteRef
    """The site"""
    team_id: str
    """The team the sheet was opened for"""
    status: SheetStatus
    """Where the sheet is in its lifecycle"""


class SheetBatchRead(OutputModel):
    """What a batch opened, and the sites that already had a sheet (sending the batch again is harmless)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "created": [
                        {
                            "id": SHEET_ID,
                            "site": _SITE,
                            "team_id": "T1",
                            "status": "draft",
                            "version": 1,
                            "etag": f'"{SHEET_ID}.1"',
                        }
                    ],
                    "existing": [_EXISTING],
                }
            ]
        }
    )

    round_code: str
    """The round"""
    created: list[OpenedSheet]
    """The drafts opened by this call, in the order of `site_codes` (or by site code)"""
    existing: list[ExistingSheet]
    """The sites that already had a sheet, left as they are"""

"""A round's results as the API shows them. Lists are pages (`items`, `total`, `limit`, `offset`)
with the round they belong to beside them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.scoring.enums import Grade, SheetStatus, SiteType
from services.scoring.sheets.schemas import SectionSummary, SiteRef

SHA = "9f2b5c0e8d7a4f3b1c6e2d9a8b7c5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a"
_SITE: JsonDict = {
    "code": "330212001201",
    "name": "勤勇村",
    "type": "village",
    "org_unit": "ningbo/yinzhou/330212001/330212001201",
    "district": "yinzhou",
}


class _PageOf(OutputModel):
    """The list envelope's paging members (every list answer has them)."""

    total: int = Field(ge=0)
    """How many items there are over all pages"""
    limit: int = Field(ge=0)
    """The page size asked for"""
    offset: int = Field(ge=0)
    """How many items come before this page"""


class _Live(_PageOf):
    """What a live results view says beside its rows: it is provisional, and which version was published."""

    provisional: bool = Field(
        default=True,
        description="Always true: computed now from the sheets locked now, so it may change with the next "
        "lock; the official results are the published versions (`…/results/published`)",
    )
    published_version: int | None
    """The round's latest published version, null until it is published"""
    published_sha256: str | None
    """SHA-256 of that version's canonical content"""
    published_at: datetime | None
    """When that version was published"""


class MissingPart(StrEnum):
    """What a district's composite lacks (本轮无计入评分表 / 缺本级 A 板块评分表 / 缺基层点位评分表)."""

    NO_COUNTED_SHEET = "no_counted_sheet"
    NO_OWN_SHEET = "no_own_sheet"
    NO_GRASSROOTS_SHEET = "no_grassroots_sheet"


class Missing(OutputModel):
    """One part a district's composite lacks, as a code and in Chinese."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "no_own_sheet", "message": "缺少区县（功能区）本级 A 板块评分表"}]
        }
    )

    code: MissingPart
    """What is missing, as a code"""
    message: str
    """What is missing, in Chinese"""


class OwnSheet(OutputModel):
    """A district's own sheet (section A), counted in its composite."""

    sheet_id: str
    """The sheet's id"""
    site_code: str
    """The district's site code"""
    site_name: str
    """The district's name"""
    score: float | None
    """The sheet's 100-point score"""
    grade: Grade | None
    """The sheet's grade"""
    status: SheetStatus
    """locked, or reviewed in a preview"""
    veto_items: list[str] = Field(examples=[[]])
    """Veto items the sheet fails (any makes the district vetoed)"""


class TypeMean(OutputModel):
    """The grassroots sites of one type in a district."""

    count: int
    """How many sheets"""
    mean: float
    """Their mean score"""


DISTRICT_EXAMPLE: JsonDict = {
    "rank": 1,
    "district": "yinzhou",
    "district_name": "鄞州区",
    "composite": 93.1,
    "grade": "好",
    "complete": True,
    "missing": [],
    "vetoed": False,
    "own_score": 95.0,
    "own_sheets": [
        {
            "sheet_id": "3f0c9a52-6d1e-4f55-9a43-2f7d3c1e8b10",
            "site_code": "330212",
            "site_name": "鄞州区",
            "score": 95.0,
            "grade": "好",
            "status": "locked",
            "veto_items": [],
        }
    ],
    "grassroots_mean": 91.83,
    "grassroots_count": 3,
    "grassroots_by_type": {"town": {"count": 1, "mean": 92.0}, "village": {"count": 2, "mean": 91.75}},
    "own_weight": 40.0,
    "grassroots_weight": 60.0,
    "explanation": "40% × 95.00（本级 A 板块）+ 60% × 91.8333…（3 个基层点位平均）= 93.10",
    "preview_sheets": 0,
}


class DistrictRanking(OutputModel):
    """A district's composite, rank and the numbers behind them."""

    model_config = ConfigDict(json_schema_extra={"examples": [DISTRICT_EXAMPLE]})

    rank: int | None
    """Competition rank in the whole city (equal standings share one); null when nothing is counted yet"""
    district: str
    """The district or zone slug"""
    district_name: str | None = None
    """Its Chinese name (慈溪市 beside cixi), from its own score sheet; null when the round has none"""
    composite: float | None
    """own_weight % of the own score + grassroots_weight % of the grassroots mean"""
    grade: Grade | None
    """The composite's grade"""
    complete: bool = Field(
        description="False when the district's own sheet or all its grassroots sheets are missing "
        "(`missing` says which); incomplete districts rank after the complete ones"
    )
    missing: list[Missing]
    """What the composite lacks (empty when complete)"""
    vetoed: bool = Field(
        description="The district's own sheet fails a veto item (一票否决): it ranks after every district without one"
    )
    own_score: float | None
    """The district's own section-A score"""
    own_sheets: list[OwnSheet]
    """The district's own sheets"""
    grassroots_mean: float | None
    """Mean score of its grassroots sites"""
    grassroots_count: int
    """How many grassroots sheets count"""
    grassroots_by_type: dict[SiteType, TypeMean]
    """Grassroots sheets per site type"""
    own_weight: float
    """Percent weight of the own score"""
    grassroots_weight: float
    """Percent weight of the grassroots mean"""
    explanation: str
    """The calculation, written out"""
    preview_sheets: int = Field(
        description="Sheets counted that are reviewed but not yet locked (preview only)"
    )


class DistrictRankingPage(_Live):
    """A page of a round's district ranking, best first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "rubric_version": "2026.1",
                    "preview": False,
                    "provisional": True,
                    "published_version": 1,
                    "published_sha256": SHA,
                    "published_at": "2026-04-02T01:00:00Z",
                    "items": [DISTRICT_EXAMPLE],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    round_code: str
    """The round"""
    rubric_version: str | None
    """The rubric version the round is scored on"""
    preview: bool
    """Reviewed sheets are counted too"""
    all_districts: bool = True
    """Every district sampling assigned a site in is listed, those with no sheet yet unranked at the end;
    false when sampling could not be asked just now (then only districts with a sheet are)"""
    items: list[DistrictRanking]
    """The districts inside your scope, best first"""


SITE_RANKING_EXAMPLE: JsonDict = {
    "rank": 1,
    "sheet_id": "3f0c9a52-6d1e-4f55-9a43-2f7d3c1e8b10",
    "site": _SITE,
    "status": "locked",
    "score": 97.62,
    "grade": "好",
    "veto_items": [],
    "vetoed": False,
    "sections": {"C": {"points": 68.5, "max_points": 70.0, "percent": 97.86, "weight": 70.0}},
    "content_sha256": SHA,
    "preview": False,
}


class SiteRanking(OutputModel):
    """A site's rank among the sites of its type."""

    model_config = ConfigDict(json_schema_extra={"examples": [SITE_RANKING_EXAMPLE]})

    rank: int | None
    """Competition rank among all sites of the type in the round"""
    sheet_id: str
    """The sheet's id"""
    site: SiteRef
    """The site"""
    status: SheetStatus
    """locked, or reviewed in a preview"""
    score: float | None
    """The 100-point score"""
    grade: Grade | None
    """The grade"""
    veto_items: list[str]
    """Veto items failed"""
    vetoed: bool = Field(
        description="The sheet fails a veto item (一票否决): it ranks after every site of its type without one"
    )
    sections: dict[str, SectionSummary]
    """Subtotals by section code"""
    content_sha256: str | None = None
    """SHA-256 of the locked sheet's canonical content (`/sheets/{id}/content`); null while not locked"""
    preview: bool = Field(description="True when the sheet is reviewed but not locked")


class SiteRankingPage(_Live):
    """A page of a round's sites of one type, best first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "site_type": "village",
                    "preview": False,
                    "provisional": True,
                    "published_version": 2,
                    "published_sha256": SHA,
                    "published_at": "2026-04-09T01:00:00Z",
                    "items": [SITE_RANKING_EXAMPLE],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    round_code: str
    """The round"""
    site_type: SiteType
    """The type ranked"""
    preview: bool
    """Reviewed sheets are counted too"""
    items: list[SiteRanking]
    """The sites inside your scope, best first"""


_ITEM_PROBLEMS: JsonDict = {
    "item_code": "C01",
    "title": "“三会一课”制度落实",
    "section_code": "C",
    "max_points": 6.0,
    "sheets": 40,
    "not_applicable": 2,
    "sheets_with_deductions": 12,
    "deductions": 15,
    "findings": 9,
    "points_lost": 18.5,
    "mean_points": 5.54,
}


class ItemProblems(OutputModel):
    """How one item fared over the round's sheets."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ITEM_PROBLEMS]})

    item_code: str
    """The item's code"""
    title: str
    """The item's title"""
    section_code: str
    """Its section"""
    max_points: float
    """Maximum points"""
    sheets: int
    """Sheets scoring it (not counting those that mark it not applicable)"""
    not_applicable: int
    """Sheets marking it not applicable (不适用) at their site"""
    sheets_with_deductions: int
    """Sheets with at least one deduction on it"""
    deductions: int
    """Deductions in all"""
    findings: int
    """Findings (problems to rectify) in all"""
    points_lost: float
    """Points lost in all"""
    mean_points: float | None
    """Mean points awarded"""


class ItemProblemsPage(_PageOf):
    """A page of the items that fail most, most findings first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "preview": False,
                    "items": [_ITEM_PROBLEMS],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    round_code: str
    """The round"""
    preview: bool
    """Reviewed sheets are counted too"""
    items: list[ItemProblems]
    """The items, most findings first"""


class TrendPoint(OutputModel):
    """A district's composite and rank in one round."""

    round_code: str
    """The round"""
    composite: float | None
    """The composite"""
    rank: int | None
    """The rank in the city"""


_TREND: JsonDict = {
    "district": "yinzhou",
    "points": [
        {"round_code": "2025Q4", "composite": 90.2, "rank": 2},
        {"round_code": "2026Q1", "composite": 93.1, "rank": 1},
    ],
}


class DistrictTrend(OutputModel):
    """A district's results across rounds, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TREND]})

    district: str
    """The district or zone slug"""
    points: list[TrendPoint]
    """One point per round it has results in"""


class TrendPage(_PageOf):
    """A page of districts with their composite and rank across rounds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rounds": ["2025Q4", "2026Q1"],
                    "items": [_TREND],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    rounds: list[str]
    """Every round with locked sheets inside your scope, oldest first"""
    items: list[DistrictTrend]
    """The districts inside your scope"""

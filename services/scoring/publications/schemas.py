"""Published results as the API takes and shows them: the publish body, a version, its content."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.scoring.results.schemas import (
    DISTRICT_EXAMPLE,
    SITE_RANKING_EXAMPLE,
    DistrictRanking,
    SiteRanking,
)
from services.scoring.sheets.schemas import ContentRubric

SHA = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
OVERRIDE = "年度考核时间节点已到，2 个点位因不可抗力无法督查，经部务会研究同意先行发布"


class PublishIn(InputModel):
    """How to publish: only a round with an expected sheet not yet locked needs a reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"override_reason": OVERRIDE}]})

    override_reason: str | None = Field(default=None, min_length=1, max_length=2000)
    """Publish although not every expected sheet is locked (city admin), and why; recorded with the
    version. Not recorded when the round is complete (nothing is overridden then)."""


class DistrictCoverage(OutputModel):
    """How many of a district's expected sheets are locked."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"district": "yinzhou", "expected": 9, "locked": 7, "missing": 2}]}
    )

    district: str
    """The district or zone slug"""
    expected: int
    """Sites sampling assigned in the round in this district"""
    locked: int
    """Of those, sites whose sheet is locked"""
    missing: int
    """Of those, sites without a locked sheet (not opened, or still being scored or reviewed)"""


_COVERAGE: JsonDict = {
    "complete": True,
    "expected": 9,
    "locked": 9,
    "missing": 0,
    "districts": [{"district": "yinzhou", "expected": 9, "locked": 9, "missing": 0}],
}


class Coverage(OutputModel):
    """Whether every sheet the round expects (every site sampling assigned) is locked."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COVERAGE]})

    complete: bool
    """Every expected sheet is locked"""
    expected: int
    """Sites sampling assigned in the round"""
    locked: int
    """Of those, sites whose sheet is locked"""
    missing: int
    """Of those, sites without a locked sheet"""
    districts: list[DistrictCoverage]
    """The same per district, by slug"""


_CONTENT: JsonDict = {
    "round_code": "2026Q1",
    "rubric": {"version": "2026.1", "sha256": SHA},
    "coverage": _COVERAGE,
    "districts": [DISTRICT_EXAMPLE],
    "sites": [SITE_RANKING_EXAMPLE],
}


class PublishedContent(OutputModel):
    """What a version publishes; its canonical JSON (sorted keys, no spaces, UTF-8) is what `content_sha256`
    hashes. Only locked sheets count."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CONTENT]})

    round_code: str
    """The round"""
    rubric: ContentRubric
    """The rubric version the round is scored on"""
    coverage: Coverage
    """Expected and locked sheets when it was published"""
    districts: list[DistrictRanking]
    """The district ranking (every district of the round, best first)"""
    sites: list[SiteRanking]
    """Every locked sheet's site, ranked within its site type, type by type"""


_VERSION: JsonDict = {
    "round_code": "2026Q1",
    "version": 2,
    "content_sha256": SHA,
    "complete": False,
    "expected_sheets": 138,
    "locked_sheets": 136,
    "override_reason": OVERRIDE,
    "published_by": "u-city-admin",
    "published_at": "2026-04-02T01:00:00Z",
}


class PublishedVersion(OutputModel):
    """One published version of a round's results: who published it, when, and how complete it was."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VERSION]})

    round_code: str
    """The round"""
    version: int = Field(ge=1)
    """1 for the first publication, then 2, 3, …"""
    content_sha256: str
    """SHA-256 (hex) of the version's canonical content"""
    complete: bool
    """Every expected sheet was locked when it was published"""
    expected_sheets: int
    """Sheets the round expected (sites sampling assigned)"""
    locked_sheets: int
    """Locked sheets counted"""
    override_reason: str | None
    """Why a city admin published although the round was incomplete; null when it was complete"""
    published_by: str
    """Who published it"""
    published_at: datetime
    """When"""


class PublishedResults(PublishedVersion):
    """A published version with exactly what it published."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_VERSION, "scoped": False, "content": _CONTENT}]}
    )

    scoped: bool
    """True when `content` is cut to the districts and sites your scope covers (it then no longer hashes to
    `content_sha256`; a city-wide reader gets it whole, byte for byte at `…/content`)"""
    content: PublishedContent
    """What was published"""

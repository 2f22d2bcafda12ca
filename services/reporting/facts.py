"""What the read model knows of a round, as plain data: the one interface between the projection
(which fills it from events) and everything that reads it (the dashboard, the charts, the documents).

Every figure the service shows is computed from these facts by :mod:`services.reporting.stats`, so
the dashboard, the 专报 and the bulletin never disagree about a number.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True)


class SiteFact(_Fact):
    code: str
    name: str
    type: str | None
    """village, community, town, street, enterprise, social_org, institution, district, zone …"""
    org_unit: str
    district: str


class VisitFact(_Fact):
    """A site drawn for the round (from sampling.round.drawn)."""

    site: SiteFact
    team_id: str | None = None
    team_name: str | None = None
    visit_on: date | None = None
    follow_up: bool = False


class DeductionFact(_Fact):
    item_code: str
    item_title: str
    section_code: str
    points: float
    reason: str


class SheetFact(_Fact):
    """A score sheet's latest state (from scoring.sheet.changed)."""

    sheet_id: str
    site: SiteFact
    team_id: str | None
    team_name: str | None
    status: str
    """draft | submitted | reviewed | returned | locked"""
    score: float | None
    grade: str | None
    """好 | 较好 | 一般 | 差 (None until scored)"""
    veto_items: list[str] = Field(default_factory=list)
    deductions: list[DeductionFact] = Field(default_factory=list)
    locked_at: datetime | None = None


class RankingRow(_Fact):
    """One district's row of the published results (from scoring.results.recorded)."""

    rank: int | None
    district: str
    composite: float | None
    grade: str | None
    section_a: float | None = None
    grassroots_mean: float | None = None
    grassroots_count: int = 0
    complete: bool | None = None


class ResultsFact(_Fact):
    version: int
    published_at: datetime
    content_sha256: str
    complete: bool
    districts: list[RankingRow]


class PersonFact(_Fact):
    user_id: str
    name: str | None


class ProblemFact(_Fact):
    """A problem's latest state (from rectification.problem.changed)."""

    problem_id: int
    site: SiteFact
    responsible_unit: str
    responsible_person: PersonFact | None
    item_code: str | None
    item_title: str | None
    category: str
    severity: str
    """general | serious | severe"""
    level: str
    title: str
    description: str
    status: str
    """open | in_progress | submitted | returned | closed | withdrawn | merged"""
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None = None
    closed_on_time: bool | None = None
    extensions: int = 0


class RoundFacts(_Fact):
    """Everything reporting knows of one round, as of `as_of` (the newest event it has applied)."""

    code: str
    name: str
    year: int | None
    quarter: int | None
    drawn_at: datetime | None
    as_of: datetime | None
    """When the newest event this answer includes happened (None: nothing received yet)."""
    district_names: dict[str, str] = Field(default_factory=dict)
    """Slug → Chinese name (慈溪市 for cixi), from the draw."""
    unit_names: dict[str, str] = Field(default_factory=dict)
    """Org unit path → name, for responsible units (from the drawn sites)."""
    visits: list[VisitFact] = Field(default_factory=list)
    sheets: list[SheetFact] = Field(default_factory=list)
    problems: list[ProblemFact] = Field(default_factory=list)
    results: ResultsFact | None = None
    """The newest published version (None: not published)."""

    def district_name(self, slug: str) -> str:
        return self.district_names.get(slug, slug)

    def unit_name(self, unit: str) -> str:
        return self.unit_names.get(unit, unit.rsplit("/", 1)[-1])

"""API shapes of rounds: the list, and a round's dashboard.

The dashboard's figures are computed by services.reporting.stats; the models here mirror stats'
models field for field, each field described for the API (tests/reporting/test_dashboard.py checks
that the dashboard equals stats' own output, so the two cannot drift apart).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict

from services.kit.pagination import Page
from services.kit.schema import OutputModel
from services.reporting.enums import Grade
from services.reporting.rounds.examples import DASHBOARD_EXAMPLE, ROUND_EXAMPLE


class District(OutputModel):
    """A district or functional zone of the city."""

    code: str
    """The district's or zone's slug (yinzhou)."""
    name: str
    """Its Chinese name (鄞州区)."""


class RoundSummary(OutputModel):
    """A round as reporting knows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ROUND_EXAMPLE]})

    code: str
    """The round's code."""
    name: str
    """Its title (its code until the draw arrives)."""
    year: int | None
    """The year it belongs to (null: not given by sampling)."""
    quarter: int | None
    """The quarter it belongs to, 1-4 (null: not given by sampling)."""
    drawn_at: datetime | None
    """When its sample was drawn (null: no draw received yet)."""
    drawn: bool
    """Whether its draw (sampling.round.drawn) has arrived."""
    published: bool
    """Whether a results version has been published."""
    as_of: datetime | None
    """When the newest event applied to this round happened."""


class RoundList(Page[RoundSummary]):
    """The rounds reporting knows, newest first (by year and quarter, else by draw time)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [ROUND_EXAMPLE],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                    "as_of": ROUND_EXAMPLE["as_of"],
                }
            ]
        }
    )

    as_of: datetime | None
    """When the newest event applied to any round happened (null: nothing received yet)."""


class CoverageRow(OutputModel):
    """Coverage of one district or one team."""

    key: str
    """The district's slug, or the team's id (「-」: sites without a team)."""
    name: str
    """The district's Chinese name, or the team's name."""
    drawn: int
    """Sites drawn."""
    visited: int
    """Drawn sites whose sheet has been submitted (submitted, reviewed or locked)."""
    sheets: dict[str, int]
    """Sheets by state: draft, submitted, reviewed, returned, locked (every state, 0 when none)."""
    coverage_rate: float | None
    """visited / drawn in percent, one decimal (null: nothing drawn)."""


class RoundCoverage(OutputModel):
    """Coverage of a round (stats.coverage): drawn sites, those visited, sheets by state."""

    drawn: int
    """Sites drawn for the round."""
    visited: int
    """Drawn sites whose sheet has been submitted."""
    coverage_rate: float | None
    """visited / drawn in percent (null: nothing drawn)."""
    sheets: dict[str, int]
    """Sheets by state (draft, submitted, reviewed, returned, locked)."""
    by_district: list[CoverageRow]
    """The same per district, by slug."""
    by_team: list[CoverageRow]
    """The same per inspection team."""


class Band(OutputModel):
    """One band of the score distribution."""

    label: str
    """The band's Chinese label (80–89分)."""
    low: float
    """Its lower bound (included)."""
    high: float
    """Its upper bound (excluded, except 100)."""
    count: int
    """Locked sheets whose score lies in it."""


class ScoreDistribution(OutputModel):
    """Scores and grades of the round's locked sheets (stats.score_distribution)."""

    locked: int
    """Locked sheets with a score."""
    mean: float | None
    """Their mean score, two decimals (null: none locked)."""
    median: float | None
    """Their median score."""
    min: float | None
    """The lowest score."""
    max: float | None
    """The highest score."""
    bands: list[Band]
    """How many scores fall in each band."""
    grades: dict[str, int]
    """Locked sheets per grade (好, 较好, 一般, 差; every grade present)."""
    grade_rates: dict[str, float | None]
    """Each grade's share of the locked sheets, in percent."""
    vetoed: int
    """Locked sheets with a vetoed item (一票否决)."""


class DistrictRank(OutputModel):
    """A district's row of the published ranking, with its change since the previous round."""

    rank: int | None
    """Its rank (null: not ranked, e.g. incomplete)."""
    district: str
    """The district's slug."""
    name: str
    """Its Chinese name."""
    composite: float | None
    """Its composite score."""
    grade: Grade | None
    """Its grade."""
    grassroots_count: int
    """Grassroots sites scored in it."""
    previous_rank: int | None
    """Its rank in the previous round (null: not ranked then, or no previous round)."""
    previous_composite: float | None
    """Its composite in the previous round."""
    rank_change: int | None
    """Places gained since the previous round (positive: moved up; null when either is unranked)."""
    composite_change: float | None
    """Composite now minus composite then."""


class Example(OutputModel):
    """A deduction cited as an example of a common problem."""

    site_name: str
    """The site it was found at."""
    district_name: str
    """Its district's Chinese name."""
    reason: str
    """The deduction's reason, as the inspector wrote it."""


class CommonProblem(OutputModel):
    """An item often deducted on locked sheets."""

    item_code: str
    """The rubric item's code."""
    item_title: str
    """Its title."""
    sheets: int
    """Locked sheets with a deduction on this item."""
    share: float | None
    """sheets / locked sheets, in percent."""
    points: float
    """Points deducted on this item, all sheets together."""
    examples: list[Example]
    """A few examples (different sites)."""


class RectificationRow(OutputModel):
    """Rectification of one district or one responsible unit."""

    key: str
    """The district's slug, or the responsible unit's org-unit path."""
    name: str
    """The district's Chinese name, or the unit's name."""
    total: int
    """Problems counted (withdrawn and merged ones are not)."""
    closed: int
    """Of those, closed (销号)."""
    closed_on_time: int
    """Of the closed, closed by their deadline."""
    overdue: int
    """Not closed and past their deadline."""
    rate: float | None
    """整改率: closed / counted, in percent (null: nothing counted)."""
    on_time_rate: float | None
    """按期整改率: closed on time / due (closed, or past their deadline), in percent."""


class Rectification(OutputModel):
    """How the round's problems are being rectified (stats.rectification)."""

    total: int
    """Problems counted (withdrawn and merged ones are not)."""
    by_state: dict[str, int]
    """Counted problems per state (open, in_progress, submitted, returned, closed)."""
    by_light: dict[str, int]
    """Open problems per light (green, yellow, red, overdue); closed ones have none."""
    by_severity: dict[str, int]
    """Counted problems per severity (general, serious, severe)."""
    closed: int
    """Closed problems."""
    closed_on_time: int
    """Problems closed by their deadline."""
    due: int
    """Problems closed or past their deadline: the denominator of 按期整改率."""
    overdue: int
    """Problems not closed and past their deadline."""
    rate: float | None
    """整改率, in percent."""
    on_time_rate: float | None
    """按期整改率, in percent."""
    by_district: list[RectificationRow]
    """The same per district."""
    by_unit: list[RectificationRow]
    """The same per responsible unit, most overdue first."""


class Practice(OutputModel):
    """A typical good practice to cite: a best-scoring grassroots site without a veto."""

    site_name: str
    """The site."""
    district_name: str
    """Its district's Chinese name."""
    site_type_label: str
    """Its type, in Chinese (村, 社区 …)."""
    score: float
    """Its score."""
    grade: Grade | None
    """Its grade."""


class ResultsInfo(OutputModel):
    """The published results version the ranking comes from."""

    version: int
    """The version's number."""
    published_at: datetime
    """When it was published."""
    complete: bool
    """Whether every expected sheet was locked when it was published."""
    content_sha256: str
    """SHA-256 of its canonical content (as scoring published it)."""


class PreviousRound(OutputModel):
    """The round the ranking's change is measured against."""

    code: str
    """Its code."""
    name: str
    """Its title."""


class Dashboard(OutputModel):
    """How a round stands, every figure defined once in services/reporting/stats.py (docs/reporting.md)."""

    model_config = ConfigDict(json_schema_extra={"examples": [DASHBOARD_EXAMPLE]})

    round: RoundSummary
    """The round."""
    district: District | None
    """The district this dashboard is cut to (a district's scope), or null for the whole city."""
    districts: list[District]
    """Every district of the city (slug and Chinese name), from the draw."""
    previous_round: PreviousRound | None
    """The round the ranking's change is measured against."""
    results: ResultsInfo | None
    """The newest published results version (null: not published; the ranking is then empty)."""
    coverage: RoundCoverage
    """Drawn, visited, sheets by state; per district and per team."""
    scores: ScoreDistribution
    """Score distribution and grades of the locked sheets."""
    ranking: list[DistrictRank]
    """The published district ranking (whole, whatever the scope), with its change since the previous round."""
    common_problems: list[CommonProblem]
    """The items most often deducted, with counts and examples."""
    rectification: Rectification
    """Problems by state and light, 整改率, 按期整改率, overdue by district and by responsible unit."""
    good_practices: list[Practice]
    """Typical good practices: the best-scoring grassroots sites without a veto."""
    as_of: datetime | None
    """When the newest event this dashboard includes happened."""
    generated_at: datetime
    """When these figures were computed (a dashboard is recomputed when an event of its round arrives)."""

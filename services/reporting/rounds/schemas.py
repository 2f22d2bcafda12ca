"""API shapes of rounds: the list, and a round's dashboard (its figures are stats.py's own models)."""

from __future__ import annotations

from datetime import datetime

from services.kit.schema import OutputModel
from services.reporting.stats import (
    CommonProblem,
    Coverage,
    DistrictRank,
    Practice,
    Rectification,
    ScoreDistribution,
)


class RoundCoverage(Coverage):
    """Coverage of a round: drawn sites, those visited, sheets by state, per district and per team
    (stats.coverage; named apart from scoring's own `Coverage` in the merged OpenAPI)."""


class District(OutputModel):
    code: str
    """The district's or zone's slug (yinzhou)."""
    name: str
    """Its Chinese name (鄞州区)."""


class RoundSummary(OutputModel):
    code: str
    """The round's code."""
    name: str
    """Its title (its code until the draw arrives)."""
    year: int | None
    quarter: int | None
    drawn_at: datetime | None
    drawn: bool
    """Whether its draw (sampling.round.drawn) has arrived."""
    published: bool
    """Whether a results version has been published."""
    as_of: datetime | None
    """When the newest event applied to this round happened."""


class RoundList(OutputModel):
    items: list[RoundSummary]
    """Every round reporting knows, newest first."""
    as_of: datetime | None
    """When the newest event applied to any round happened (null: nothing received yet)."""


class ResultsInfo(OutputModel):
    version: int
    published_at: datetime
    complete: bool
    content_sha256: str


class PreviousRound(OutputModel):
    code: str
    name: str


class Dashboard(OutputModel):
    """How a round stands, every figure defined once in services/reporting/stats.py (docs/reporting.md)."""

    round: RoundSummary
    district: District | None
    """The district this dashboard is cut to (a district's scope), or null for the whole city."""
    districts: list[District]
    """Every district of the city (slug and Chinese name), from the draw."""
    previous_round: PreviousRound | None
    """The round the ranking's change is measured against."""
    results: ResultsInfo | None
    """The newest published results version (null: not published; the ranking is then empty)."""
    coverage: RoundCoverage
    scores: ScoreDistribution
    ranking: list[DistrictRank]
    """The published district ranking (whole, whatever the scope), with its change since the previous round."""
    common_problems: list[CommonProblem]
    rectification: Rectification
    good_practices: list[Practice]
    as_of: datetime | None
    """When the newest event this dashboard includes happened."""
    generated_at: datetime
    """When these figures were computed (a dashboard is recomputed when an event of its round arrives)."""

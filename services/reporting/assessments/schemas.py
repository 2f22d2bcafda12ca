"""The annual assessment's API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.kit.schema import OutputModel


class Weights(BaseModel):
    """A year's weights: three percentages summing to 100, and two deductions in points."""

    model_config = ConfigDict(extra="forbid")

    composite_weight: float = Field(
        ge=0, le=100, description="Weight of the quarterly composites' mean, in %"
    )
    rectification_weight: float = Field(ge=0, le=100, description="Weight of 整改率, in %")
    on_time_weight: float = Field(ge=0, le=100, description="Weight of 按期整改率, in %")
    overdue_deduction: float = Field(ge=0, le=20, description="Points deducted per overdue problem")
    veto_deduction: float = Field(ge=0, le=100, description="Points deducted per vetoed site (一票否决)")


DEFAULT_WEIGHTS = Weights(
    composite_weight=60, rectification_weight=25, on_time_weight=15, overdue_deduction=0.5, veto_deduction=5
)


class WeightsRead(Weights, OutputModel):
    year: int
    defaults: bool = Field(description="true: no weights were set for the year, the defaults apply")
    set_by: str | None
    set_at: datetime | None


class QuarterScore(OutputModel):
    round_code: str
    round_name: str
    quarter: int | None
    rank: int | None
    composite: float | None


class RectificationFigures(OutputModel):
    total: int
    closed: int
    rate: float | None = Field(description="整改率, %")
    due: int
    closed_on_time: int
    on_time_rate: float | None = Field(description="按期整改率, %")
    overdue: int


class DistrictAssessment(OutputModel):
    rank: int | None
    district: str
    name: str
    quarters: list[QuarterScore]
    composite_mean: float | None
    rectification: RectificationFigures
    vetoes: int = Field(description="Locked sheets with a vetoed item over the year's rounds")
    score: float | None = Field(description="The yearly score (None: no quarterly composite yet)")
    grade: str | None = Field(description="好 / 较好 / 一般 / 差")
    explanation: list[str] = Field(description="How the score is made, line by line, in Chinese")


class AssessmentRead(OutputModel):
    year: int
    weights: WeightsRead
    note: str | None = Field(description="Said when the defaults apply")
    rounds: list[QuarterScore] = Field(description="The year's rounds with published results (no district)")
    districts: list[DistrictAssessment]
    generated_at: datetime

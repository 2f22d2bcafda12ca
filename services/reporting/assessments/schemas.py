"""The annual assessment's API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.kit.schema import OutputModel


class Grade(StrEnum):
    """The yearly grade: 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60, else 差."""

    GOOD = "好"
    FAIRLY_GOOD = "较好"
    FAIR = "一般"
    POOR = "差"


_WEIGHTS_EXAMPLE: dict[str, Any] = {
    "composite_weight": 60,
    "rectification_weight": 25,
    "on_time_weight": 15,
    "overdue_deduction": 0.5,
    "veto_deduction": 5,
}


class Weights(BaseModel):
    """A year's weights: three percentages summing to 100, and two deductions in points."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_WEIGHTS_EXAMPLE]})

    composite_weight: float = Field(
        ge=0, le=100, description="Weight of the quarterly composites' mean, in %"
    )
    rectification_weight: float = Field(ge=0, le=100, description="Weight of 整改率, in %")
    on_time_weight: float = Field(ge=0, le=100, description="Weight of 按期整改率, in %")
    overdue_deduction: float = Field(ge=0, le=20, description="Points deducted per overdue problem")
    veto_deduction: float = Field(ge=0, le=100, description="Points deducted per vetoed site (一票否决)")


DEFAULT_WEIGHTS = Weights(**_WEIGHTS_EXAMPLE)
_WEIGHTS_READ_EXAMPLE = _WEIGHTS_EXAMPLE | {
    "year": 2026,
    "defaults": False,
    "set_by": "u-admin",
    "set_at": "2026-01-05T02:00:00Z",
}


class WeightsRead(Weights, OutputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WEIGHTS_READ_EXAMPLE]})

    year: int = Field(description="The year they apply to")
    defaults: bool = Field(description="true: no weights were set for the year, the defaults apply")
    set_by: str | None = Field(description="Who set them (null: the defaults)")
    set_at: datetime | None = Field(description="When they were set (null: the defaults)")


class RoundRef(OutputModel):
    round_code: str = Field(description="The round")
    round_name: str = Field(description="The round's title, in Chinese")
    quarter: int | None = Field(description="Its quarter (1-4)")


class QuarterScore(OutputModel):
    round_code: str = Field(description="The round")
    round_name: str = Field(description="The round's title, in Chinese")
    quarter: int | None = Field(description="Its quarter (1-4)")
    rank: int | None = Field(description="The district's published rank in it (null in the list of rounds)")
    composite: float | None = Field(
        description="The district's published composite (null in the list of rounds)"
    )


class RectificationFigures(OutputModel):
    total: int = Field(description="Problems counted (withdrawn and merged ones are not)")
    closed: int = Field(description="Problems closed (销号)")
    rate: float | None = Field(description="整改率, %")
    due: int = Field(description="Problems closed or past their deadline")
    closed_on_time: int = Field(description="Problems closed by their deadline")
    on_time_rate: float | None = Field(description="按期整改率, %")
    overdue: int = Field(description="Problems overdue now")


class DistrictAssessment(OutputModel):
    rank: int | None = Field(description="Rank by yearly score (ties share one; null: no score)")
    district: str = Field(description="The district's slug")
    name: str = Field(description="The district's Chinese name")
    quarters: list[QuarterScore] = Field(description="Its composite in each of the year's published rounds")
    composite_mean: float | None = Field(description="The mean of its quarterly composites")
    rectification: RectificationFigures = Field(description="Over the problems of the year's rounds")
    vetoes: int = Field(description="Locked sheets with a vetoed item over the year's rounds")
    score: float | None = Field(description="The yearly score (None: no quarterly composite yet)")
    grade: Grade | None = Field(description="好 / 较好 / 一般 / 差")
    explanation: list[str] = Field(description="How the score is made, line by line, in Chinese")


_ASSESSMENT_EXAMPLE: dict[str, Any] = {
    "year": 2026,
    "weights": _WEIGHTS_READ_EXAMPLE,
    "note": "按2026年度设定的考核权重计算",
    "rounds": [
        {
            "round_code": "2026Q1",
            "round_name": "2026年第一季度基层党建专项督查",
            "quarter": 1,
            "rank": None,
            "composite": None,
        }
    ],
    "districts": [
        {
            "rank": 1,
            "district": "yinzhou",
            "name": "鄞州区",
            "quarters": [
                {
                    "round_code": "2026Q1",
                    "round_name": "2026年第一季度基层党建专项督查",
                    "quarter": 1,
                    "rank": 1,
                    "composite": 86.4,
                }
            ],
            "composite_mean": 86.4,
            "rectification": {
                "total": 25,
                "closed": 23,
                "rate": 92.0,
                "due": 20,
                "closed_on_time": 16,
                "on_time_rate": 80.0,
                "overdue": 3,
            },
            "vetoes": 1,
            "score": 80.34,
            "grade": "较好",
            "explanation": [
                "季度综合得分均值 86.40 × 60% = 51.84",
                "整改率 92.0% × 25% = 23.00",
                "按期整改率 80.0% × 15% = 12.00",
                "逾期问题 3 个 × 0.5 = −1.50",
                "一票否决 1 项 × 5 = −5.00",
                "年度得分 = 51.84 + 23.00 + 12.00 − 1.50 − 5.00 = 80.34，等次：较好",
            ],
        }
    ],
    "generated_at": "2026-12-02T02:00:00Z",
}


class AssessmentRead(OutputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ASSESSMENT_EXAMPLE]})

    year: int = Field(description="The year assessed")
    weights: WeightsRead = Field(description="The weights applied")
    note: str = Field(description="Which weights apply, in Chinese (says so when they are the defaults)")
    rounds: list[RoundRef] = Field(description="The year's rounds with published results, in quarter order")
    districts: list[DistrictAssessment] = Field(description="Every district, best score first")
    generated_at: datetime = Field(description="When this answer was computed")

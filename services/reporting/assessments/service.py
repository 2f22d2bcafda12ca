"""The annual assessment: a year's weights (set by a city admin, else the defaults), and the scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.reporting.assessments import compose, repository
from services.reporting.assessments.schemas import DEFAULT_WEIGHTS, AssessmentRead, Weights, WeightsRead
from services.reporting.config import Settings
from services.reporting.models import AssessmentWeights
from services.reporting.reports import source
from services.reporting.reports.errors import GenerationFailed, InvalidWeights, NoPublishedRounds
from services.reporting.reports.rendering import Renderers, in_thread

PERCENT_FIELDS = ("composite_weight", "rectification_weight", "on_time_weight")


def validate_weights(weights: Weights) -> None:
    """422 naming the fields when the three percentages do not sum to 100."""
    total = sum(getattr(weights, f) for f in PERCENT_FIELDS)
    if abs(total - 100) > 1e-6:
        msg = f"composite_weight + rectification_weight + on_time_weight must be 100 (is {total:g})"
        zh = f"季度综合得分、整改率、按期整改率三项权重之和应为 100（现为 {total:g}）"
        raise InvalidWeights(
            msg, zh=zh, errors=[field_error(["body", f], msg, zh=zh) for f in PERCENT_FIELDS]
        )


def _read(year: int, row: AssessmentWeights | None) -> WeightsRead:
    if row is None:
        return WeightsRead(year=year, defaults=True, set_by=None, set_at=None, **DEFAULT_WEIGHTS.model_dump())
    return WeightsRead(
        year=year,
        defaults=False,
        set_by=row.set_by,
        set_at=row.set_at,
        composite_weight=row.composite_weight,
        rectification_weight=row.rectification_weight,
        on_time_weight=row.on_time_weight,
        overdue_deduction=row.overdue_deduction,
        veto_deduction=row.veto_deduction,
    )


async def weights_of(session: AsyncSession, year: int) -> WeightsRead:
    return _read(year, await repository.get(session, year))


async def set_weights(
    session: AsyncSession, *, year: int, weights: Weights, principal: Principal, now: datetime
) -> WeightsRead:
    """Set (or replace) the year's weights."""
    validate_weights(weights)
    row = await repository.get(session, year, for_update=True)
    if row is None:
        row = AssessmentWeights(year=year, set_by=principal.sub, set_at=now, **weights.model_dump())
        await repository.add(session, row)
    else:
        for k, v in weights.model_dump().items():
            setattr(row, k, v)
        row.set_by, row.set_at = principal.sub, now
        await session.flush()
    return _read(year, row)


async def assessment(session: AsyncSession, *, year: int, now: datetime) -> AssessmentRead:
    """The year's assessment (409 until a round of the year has published results)."""
    rounds = [
        await source.load_round_facts(session, code) for code in await source.rounds_of_year(session, year)
    ]
    if not any(r.results is not None for r in rounds):
        raise NoPublishedRounds(
            f"No round of {year} has published results yet",
            zh=f"{year} 年尚无已发布结果的督查轮次",
            year=year,
        )
    return compose.assess(year, rounds, await weights_of(session, year), now)


async def assessment_file(
    session: AsyncSession, *, year: int, fmt: str, renderers: Renderers, settings: Settings, now: datetime
) -> tuple[bytes, str]:
    a = await assessment(session, year=year, now=now)
    try:
        if fmt == "xlsx":
            content = await in_thread(renderers.xlsx, compose.workbook(a))
        else:
            content = await in_thread(renderers.pdf, compose.document(a, issuer_mark=settings.issuer_mark))
    except Exception as exc:
        raise GenerationFailed(
            f"The assessment could not be generated ({type(exc).__name__})",
            zh=f"年度考核文件未能生成（{type(exc).__name__}）",
        ) from exc
    return content, f"{compose.title(year)}.{fmt}"

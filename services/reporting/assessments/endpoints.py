"""The annual assessment (年度考核): a year's weights, and every district's yearly score explained."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.reporting.assessments import service
from services.reporting.assessments.access import READERS, WRITERS
from services.reporting.assessments.schemas import AssessmentRead, Weights, WeightsRead
from services.reporting.deps import SettingsDep
from services.reporting.reports.access import require_city_wide
from services.reporting.reports.rendering import RenderersDep, file_response

TAG = "reporting.assessments"
router = APIRouter(tags=[TAG])
Year = Annotated[int, Path(ge=2000, le=2100, description="The year, e.g. 2026", examples=[2026])]
_FILE = {**errors(409, 503), 200: {"content": {"application/octet-stream": {}}, "description": "The file"}}


@router.get("/years/{year}/assessment/weights", response_model=WeightsRead, **allow(*READERS))
async def get_assessment_weights(year: Year, session: SessionDep, principal: PrincipalDep) -> WeightsRead:
    """Read the year's assessment weights (the defaults when none were set)."""
    require_city_wide(principal, "The annual assessment")
    return await service.weights_of(session, year)


@router.put("/years/{year}/assessment/weights", response_model=WeightsRead, **allow(*WRITERS))
async def put_assessment_weights(
    year: Year, weights: Weights, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> WeightsRead:
    """Set the year's weights: the three percentages must sum to 100."""
    require_city_wide(principal, "The annual assessment")
    return await service.set_weights(
        session, year=year, weights=weights, principal=principal, now=clock.now()
    )


@router.get(
    "/years/{year}/assessment", response_model=AssessmentRead, responses=errors(409), **allow(*READERS)
)
async def get_assessment(
    year: Year, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> AssessmentRead:
    """Read the year's assessment: per district its quarterly composites, rectification, score and grade, explained."""
    require_city_wide(principal, "The annual assessment")
    return await service.assessment(session, year=year, now=clock.now())


@router.get("/years/{year}/assessment.xlsx", response_class=Response, responses=_FILE, **allow(*READERS))
async def get_assessment_xlsx(
    year: Year,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the year's assessment as XLSX."""
    require_city_wide(principal, "The annual assessment")
    content, name = await service.assessment_file(
        session, year=year, fmt="xlsx", renderers=renderers, settings=settings, now=clock.now()
    )
    return file_response(content, fmt="xlsx", filename=name)


@router.get("/years/{year}/assessment.pdf", response_class=Response, responses=_FILE, **allow(*READERS))
async def get_assessment_pdf(
    year: Year,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the year's assessment as PDF."""
    require_city_wide(principal, "The annual assessment")
    content, name = await service.assessment_file(
        session, year=year, fmt="pdf", renderers=renderers, settings=settings, now=clock.now()
    )
    return file_response(content, fmt="pdf", filename=name)

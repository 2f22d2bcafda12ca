"""Problem lists per district (问题清单), for the meeting where each district receives its problems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.reporting.deps import SettingsDep
from services.reporting.notices import service
from services.reporting.notices.access import READERS, require_district
from services.reporting.reports.params import RoundCodePath
from services.reporting.reports.rendering import RenderersDep, file_response

TAG = "reporting.problem-lists"
router = APIRouter(tags=[TAG])
DistrictPath = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$", description="The district, e.g. yinzhou"),
]
_FILE = {**errors(404, 503), 200: {"content": {"application/octet-stream": {}}, "description": "The file"}}


async def _problem_list(
    fmt: str,
    round_code: str,
    district: str,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    require_district(principal, district)
    content, name = await service.problem_list_file(
        session,
        round_code=round_code,
        district=district,
        fmt=fmt,
        renderers=renderers,
        settings=settings,
        now=clock.now(),
    )
    return file_response(content, fmt=fmt, filename=name)


@router.get(
    "/rounds/{round_code}/districts/{district}/problem-list.docx",
    response_class=Response,
    responses=_FILE,
    **allow(*READERS),
)
async def problem_list_docx(
    round_code: RoundCodePath,
    district: DistrictPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the district's problem list of the round as DOCX (a district admin: their own only)."""
    return await _problem_list("docx", round_code, district, session, principal, clock, settings, renderers)


@router.get(
    "/rounds/{round_code}/districts/{district}/problem-list.xlsx",
    response_class=Response,
    responses=_FILE,
    **allow(*READERS),
)
async def problem_list_xlsx(
    round_code: RoundCodePath,
    district: DistrictPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the district's problem list of the round as XLSX."""
    return await _problem_list("xlsx", round_code, district, session, principal, clock, settings, renderers)

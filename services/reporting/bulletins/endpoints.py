"""The quarterly bulletin (党建争强通报) of a round, as DOCX, PDF or XLSX."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.reporting.bulletins import service
from services.reporting.bulletins.access import READERS, require_readable
from services.reporting.deps import SettingsDep
from services.reporting.reports.params import RoundCodePath
from services.reporting.reports.rendering import RenderersDep, file_response

TAG = "reporting.bulletins"
router = APIRouter(tags=[TAG])
_FILE = {
    **errors(404, 409, 503),
    200: {"content": {"application/octet-stream": {}}, "description": "The file"},
}


async def _bulletin(
    fmt: str,
    round_code: str,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    require_readable(principal)
    content, name = await service.bulletin_file(
        session, round_code=round_code, fmt=fmt, renderers=renderers, settings=settings, now=clock.now()
    )
    return file_response(content, fmt=fmt, filename=name)


@router.get("/rounds/{round_code}/bulletin.docx", response_class=Response, responses=_FILE, **allow(*READERS))
async def bulletin_docx(
    round_code: RoundCodePath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the round's 党建争强通报 as DOCX (rankings, grades, overdue units, typical practices)."""
    return await _bulletin("docx", round_code, session, principal, clock, settings, renderers)


@router.get("/rounds/{round_code}/bulletin.pdf", response_class=Response, responses=_FILE, **allow(*READERS))
async def bulletin_pdf(
    round_code: RoundCodePath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the round's 党建争强通报 as PDF."""
    return await _bulletin("pdf", round_code, session, principal, clock, settings, renderers)


@router.get("/rounds/{round_code}/bulletin.xlsx", response_class=Response, responses=_FILE, **allow(*READERS))
async def bulletin_xlsx(
    round_code: RoundCodePath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the round's 党建争强通报 figures as XLSX (every unit's row)."""
    return await _bulletin("xlsx", round_code, session, principal, clock, settings, renderers)

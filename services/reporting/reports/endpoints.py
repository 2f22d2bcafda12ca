"""专报 (special reports): drafting from the data, editing, review, issue and download.

Thin: each route checks the role (``allow``) and the scope, calls reports/service.py and shapes the
answer; the report's ETag travels in the ``ETag`` header.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.reporting.deps import SettingsDep
from services.reporting.models import SpecialReport
from services.reporting.reports import service
from services.reporting.reports.access import READERS, WRITERS, require_city_wide
from services.reporting.reports.params import IfMatch, ReportId, RoundCodePath
from services.reporting.reports.rendering import RenderersDep, file_response
from services.reporting.reports.schemas import (
    IssueIn,
    ReportStatus,
    ReviewIn,
    SpecialReportDraft,
    SpecialReportRead,
    SpecialReportSummary,
    SpecialReportUpdate,
)

TAG = "reporting.special-reports"
router = APIRouter(tags=[TAG])
# Changes: 409 for the report's status, 412 for a stale ETag, 428 without If-Match.
CHANGE_ERRORS = errors(409, 412, 428)


async def _readable(session: SessionDep, principal: PrincipalDep, report_id: ReportId) -> SpecialReport:
    require_city_wide(principal, "A special report")
    return await service.readable(session, principal, report_id)


async def _for_update(session: SessionDep, principal: PrincipalDep, report_id: ReportId) -> SpecialReport:
    """Row-locked until the request's transaction ends: two writers with one ETag can't both win."""
    require_city_wide(principal, "A special report")
    return await service.readable(session, principal, report_id, for_update=True)


ReadableReport = Annotated[SpecialReport, Depends(_readable)]
ReportForUpdate = Annotated[SpecialReport, Depends(_for_update)]


def _answer(report: SpecialReport, response: Response) -> SpecialReportRead:
    response.headers["ETag"] = service.etag_of(report)
    return service.read(report)


@router.post(
    "/rounds/{round_code}/special-reports",
    status_code=201,
    response_model=SpecialReportRead,
    responses=errors(404, 409),
    **allow(*WRITERS),
)
async def draft_special_report(
    round_code: RoundCodePath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    response: Response,
    draft_in: Annotated[
        SpecialReportDraft | None,
        Body(examples=[{"title": "关于2026年第一季度基层党建专项督查情况的专报"}]),
    ] = None,
) -> SpecialReportRead:
    """Draft a 专报 from the round's published data, with sections to edit before review."""
    require_city_wide(principal, "A special report")
    report = await service.draft_report(
        session,
        round_code=round_code,
        draft_in=draft_in or SpecialReportDraft(),
        principal=principal,
        settings=settings,
        now=clock.now(),
    )
    response.headers["Location"] = f"/special-reports/{report.id}"
    return _answer(report, response)


@router.get(
    "/rounds/{round_code}/special-reports",
    response_model=Page[SpecialReportSummary],
    responses=errors(404),
    **allow(*READERS),
)
async def list_special_reports(
    round_code: RoundCodePath,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[ReportStatus | None, Query(description="Only reports in this status")] = None,
) -> Page[SpecialReportSummary]:
    """List the round's 专报 (leaders and integrations: the issued ones), newest first."""
    require_city_wide(principal, "A special report")
    return await service.list_reports(
        session, round_code=round_code, status=status, principal=principal, page=page
    )


@router.get(
    "/special-reports/{report_id}", response_model=SpecialReportRead, responses=errors(404), **allow(*READERS)
)
async def get_special_report(report: ReadableReport, response: Response) -> SpecialReportRead:
    """Read a 专报 with its sections, its status and, once issued, its files' SHA-256."""
    return _answer(report, response)


@router.patch(
    "/special-reports/{report_id}",
    response_model=SpecialReportRead,
    responses=errors(404, 409, 412, 428),
    **allow(*WRITERS),
)
async def update_special_report(
    update: SpecialReportUpdate,
    report: ReportForUpdate,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SpecialReportRead:
    """Edit a draft or returned 专报's title and sections (If-Match: its ETag)."""
    await service.update_report(session, report=report, update=update, if_match=if_match, now=clock.now())
    return _answer(report, response)


@router.post(
    "/special-reports/{report_id}/submit",
    response_model=SpecialReportRead,
    responses={**CHANGE_ERRORS, **errors(404)},
    **allow(*WRITERS),
)
async def submit_special_report(
    report: ReportForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SpecialReportRead:
    """Send the 专报 for review by another city admin."""
    await service.submit_report(
        session, report=report, principal=principal, if_match=if_match, now=clock.now()
    )
    return _answer(report, response)


@router.post(
    "/special-reports/{report_id}/review",
    response_model=SpecialReportRead,
    responses={**CHANGE_ERRORS, **errors(404)},
    **allow(*WRITERS),
)
async def review_special_report(
    review: ReviewIn,
    report: ReportForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SpecialReportRead:
    """Approve the 专报, or return it with a comment (a city admin other than its author)."""
    await service.review_report(
        session, report=report, review=review, principal=principal, if_match=if_match, now=clock.now()
    )
    return _answer(report, response)


@router.post(
    "/special-reports/{report_id}/issue",
    response_model=SpecialReportRead,
    responses={**CHANGE_ERRORS, **errors(404, 503)},
    **allow(*WRITERS),
)
async def issue_special_report(
    issue: IssueIn,
    report: ReportForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
    response: Response,
    if_match: IfMatch = None,
) -> SpecialReportRead:
    """Issue the approved 专报 under a 发文字号: its DOCX and PDF are made once and never change."""
    await service.issue_report(
        session,
        report=report,
        issue=issue,
        principal=principal,
        renderers=renderers,
        settings=settings,
        if_match=if_match,
        now=clock.now(),
    )
    return _answer(report, response)


async def _download(
    fmt: Literal["docx", "pdf"],
    report: SpecialReport,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    content, etag = await service.document_bytes(
        session, report, fmt, renderers=renderers, settings=settings, now=clock.now()
    )
    name = report.doc_number or f"{report.title}（草稿）"
    return file_response(content, fmt=fmt, filename=f"{name}.{fmt}", etag=etag, request=request)


_FILE_RESPONSES = {
    **errors(404, 503),
    200: {"content": {"application/octet-stream": {}}, "description": "The file"},
    304: {"description": "Not modified (If-None-Match named the file's ETag)"},
}


@router.get(
    "/special-reports/{report_id}/document.docx",
    response_class=Response,
    responses=_FILE_RESPONSES,
    **allow(*READERS),
)
async def download_special_report_docx(
    report: ReadableReport,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the 专报 as DOCX: the stored file once issued (ETag: its SHA-256), else a 草稿 made now."""
    return await _download("docx", report, request, session, clock, settings, renderers)


@router.get(
    "/special-reports/{report_id}/document.pdf",
    response_class=Response,
    responses=_FILE_RESPONSES,
    **allow(*READERS),
)
async def download_special_report_pdf(
    report: ReadableReport,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    renderers: RenderersDep,
) -> Response:
    """Download the 专报 as PDF: the stored file once issued (ETag: its SHA-256), else a 草稿 made now."""
    return await _download("pdf", report, request, session, clock, settings, renderers)

"""Score sheets over HTTP (thin: rules live in service.py, who may do what in access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from starlette.responses import Response as RawResponse

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep, HttpDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep, Sort, sort_param
from services.scoring.deps import DistrictQuery, EvidenceDep, IfMatch, RoundCode, SettingsDep
from services.scoring.enums import SheetStatus, SiteType
from services.scoring.models import ScoreSheet
from services.scoring.sheets import access, service
from services.scoring.sheets.schemas import (
    SHEET_SORT_FIELDS,
    HistoryEntry,
    ReturnIn,
    SheetBatchCreate,
    SheetBatchRead,
    SheetContent,
    SheetCreate,
    SheetFilter,
    SheetRead,
    SheetSummary,
    SheetUpdate,
)

TAG = "scoring.sheets"
router = APIRouter(tags=[TAG])

# Sheet ids are UUIDs; the pattern keeps NUL and other bytes a database refuses out of every query.
SheetId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=36,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The score sheet's id (a UUID)",
        examples=["3f0c9a52-6d1e-4f55-9a43-2f7d3c1e8b10"],
    ),
]
SiteCodeQuery = Annotated[
    str | None,
    Query(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Only the sheet of this site"
    ),
]
TeamQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Only this team's sheets"),
]
StatusQuery = Annotated[SheetStatus | None, Query(description="Only sheets in this status")]
SiteTypeQuery = Annotated[SiteType | None, Query(description="Only sites of this type")]
SheetSort = Annotated[Sort, Depends(sort_param(SHEET_SORT_FIELDS, "site_code"))]
# Changes: 409 for the sheet's state, 412 for a stale ETag, 428 without If-Match (the server requires it).
CHANGE_ERRORS = errors(409, 412, 428)


async def valid_sheet(session: SessionDep, principal: PrincipalDep, sheet_id: SheetId) -> ScoreSheet:
    """The sheet, or 404 when it is missing or the caller may not see it (the same answer)."""
    return await service.readable_sheet(session, principal, sheet_id)


async def sheet_for_update(session: SessionDep, principal: PrincipalDep, sheet_id: SheetId) -> ScoreSheet:
    """The sheet, row-locked until the request's transaction ends, so two writers with one ETag can't both win."""
    return await service.readable_sheet(session, principal, sheet_id, for_update=True)


ValidSheet = Annotated[ScoreSheet, Depends(valid_sheet)]
SheetForUpdate = Annotated[ScoreSheet, Depends(sheet_for_update)]


async def _answer(session: SessionDep, sheet: ScoreSheet, response: Response) -> SheetRead:
    body, etag = await service.sheet_out(session, sheet)
    response.headers["ETag"] = etag
    return body


@router.post(
    "/rounds/{round_code}/sheets",
    response_model=SheetRead,
    status_code=201,
    responses=errors(409),
    **allow(*access.WRITERS),
)
async def create_sheet(
    round_code: RoundCode,
    body: SheetCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    settings: SettingsDep,
    response: Response,
) -> SheetRead:
    """Open the score sheet for a site drawn in this round (its team only)."""
    sheet = await service.create_sheet(
        session,
        http=http,
        sampling_url=settings.sampling_url,
        round_code=round_code,
        site_code=body.site_code,
        principal=principal,
        now=clock.now(),
    )
    response.headers["Location"] = f"/sheets/{sheet.id}"
    return await _answer(session, sheet, response)


@router.post(
    "/rounds/{round_code}/sheets/batch",
    response_model=SheetBatchRead,
    status_code=201,
    responses={
        200: {
            "model": SheetBatchRead,
            "description": "Nothing to open: every site chosen already has its sheet",
        },
        **errors(409),
    },
    **allow(*access.BATCH_OPENERS),
)
async def create_sheets_batch(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    settings: SettingsDep,
    response: Response,
    body: Annotated[
        SheetBatchCreate | None,
        Body(
            description="Which sites (optional: every drawn site you may open)", examples=[{"team_id": "T1"}]
        ),
    ] = None,
) -> SheetBatchRead:
    """Open the score sheets of a round's drawn sites in one call, all or none (your team's; a city admin's:
    every team's in scope); sites that already have one are reported, not opened again."""
    result = await service.create_sheets_batch(
        session,
        http=http,
        sampling_url=settings.sampling_url,
        round_code=round_code,
        batch=body or SheetBatchCreate(),
        principal=principal,
        now=clock.now(),
    )
    if not result.created:
        response.status_code = 200
    return result


@router.get("/rounds/{round_code}/sheets", response_model=Page[SheetSummary], **allow(*access.READERS))
async def list_sheets(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: SheetSort,
    status: StatusQuery = None,
    district: DistrictQuery = None,
    site_type: SiteTypeQuery = None,
    site_code: SiteCodeQuery = None,
    team_id: TeamQuery = None,
) -> Page[SheetSummary]:
    """List a round's score sheets you may see (inside your scope, or your team's)."""
    where = SheetFilter(
        round_code=round_code,
        status=status,
        district=district,
        site_type=site_type,
        site_code=site_code,
        team_id=team_id,
    )
    return await service.list_sheets(session, where=where, principal=principal, sort=sort, page=page)


@router.get("/sheets/{sheet_id}", response_model=SheetRead, **allow(*access.READERS))
async def get_sheet(sheet: ValidSheet, session: SessionDep, response: Response) -> SheetRead:
    """Read a score sheet with every item, its results and its ETag."""
    return await _answer(session, sheet, response)


@router.patch(
    "/sheets/{sheet_id}", response_model=SheetRead, responses=CHANGE_ERRORS, **allow(*access.WRITERS)
)
async def update_sheet(
    sheet: SheetForUpdate,
    body: SheetUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    files: EvidenceDep,
    if_match: IfMatch = None,
) -> SheetRead:
    """Save item scores, the satisfaction poll or notes (If-Match required)."""
    await service.update_sheet(
        session,
        sheet=sheet,
        update=body,
        principal=principal,
        if_match=if_match,
        now=clock.now(),
        files=files,
    )
    return await _answer(session, sheet, response)


@router.post(
    "/sheets/{sheet_id}/submit", response_model=SheetRead, responses=CHANGE_ERRORS, **allow(*access.WRITERS)
)
async def submit_sheet(
    sheet: SheetForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    settings: SettingsDep,
    response: Response,
    files: EvidenceDep,
    if_match: IfMatch = None,
    body: Annotated[
        SheetUpdate | None,
        Body(
            description="Last changes to save before submitting, in the same transaction (optional)",
            examples=[{"notes": "已复核全部扣分依据"}],
        ),
    ] = None,
) -> SheetRead:
    """Submit a complete sheet to the team leader (optionally saving last changes first, atomically)."""
    await service.submit_sheet(
        session,
        sheet=sheet,
        principal=principal,
        if_match=if_match,
        now=clock.now(),
        http=http,
        sampling_url=settings.sampling_url,
        last_changes=body,
        files=files,
    )
    return await _answer(session, sheet, response)


@router.post(
    "/sheets/{sheet_id}/review", response_model=SheetRead, responses=CHANGE_ERRORS, **allow(*access.REVIEWERS)
)
async def review_sheet(
    sheet: SheetForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SheetRead:
    """Confirm a submitted sheet as its team leader."""
    await service.review_sheet(session, sheet=sheet, principal=principal, if_match=if_match, now=clock.now())
    return await _answer(session, sheet, response)


@router.post(
    "/sheets/{sheet_id}/return", response_model=SheetRead, responses=CHANGE_ERRORS, **allow(*access.RETURNERS)
)
async def return_sheet(
    sheet: SheetForUpdate,
    body: ReturnIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SheetRead:
    """Return a submitted or reviewed sheet for rework, with a reason."""
    await service.return_sheet(
        session, sheet=sheet, reason=body.reason, principal=principal, if_match=if_match, now=clock.now()
    )
    return await _answer(session, sheet, response)


@router.post(
    "/sheets/{sheet_id}/lock", response_model=SheetRead, responses=CHANGE_ERRORS, **allow(*access.LOCKERS)
)
async def lock_sheet(
    sheet: SheetForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SheetRead:
    """Lock a reviewed sheet: immutable from now on, with a SHA-256 of its content."""
    await service.lock_sheet(session, sheet=sheet, principal=principal, if_match=if_match, now=clock.now())
    return await _answer(session, sheet, response)


@router.get("/sheets/{sheet_id}/history", response_model=Page[HistoryEntry], **allow(*access.READERS))
async def get_sheet_history(sheet: ValidSheet, session: SessionDep, page: PageDep) -> Page[HistoryEntry]:
    """List every change to a sheet: who, when, what (oldest first)."""
    return await service.sheet_history(session, sheet, page=page)


@router.get(
    "/sheets/{sheet_id}/content",
    response_class=RawResponse,
    responses={200: {"model": SheetContent, "description": "The canonical content, exactly as hashed"}},
    **allow(*access.READERS),
)
async def get_sheet_content(sheet: ValidSheet, session: SessionDep) -> RawResponse:
    """Download the canonical content whose SHA-256 a locked sheet carries."""
    body = await service.sheet_content_json(session, sheet)
    return RawResponse(body, media_type="application/json", headers={"ETag": service.etag_of(sheet)})

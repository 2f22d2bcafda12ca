"""A round's results over HTTP (thin: the arithmetic lives in calc.py, the rules in service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response as RawResponse

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import HttpDep
from services.kit.pagination import PageDep
from services.scoring.deps import DistrictQuery, RoundCode, SettingsDep
from services.scoring.enums import ExportTable, SiteType
from services.scoring.results import access, service
from services.scoring.results.schemas import (
    DistrictRankingPage,
    ItemProblemsPage,
    SiteRankingPage,
    TrendPage,
)

TAG = "scoring.results"
router = APIRouter(tags=[TAG])

Preview = Annotated[
    bool, Query(description="Include reviewed (not yet locked) sheets, marked as preview; city_admin only")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/rounds/{round_code}/rankings/districts", response_model=DistrictRankingPage, **allow(*access.READERS)
)
async def get_district_rankings(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    http: HttpDep,
    settings: SettingsDep,
    preview: Preview = False,
) -> DistrictRankingPage:
    """Rank districts and zones by their composite, with the numbers behind each.

    Every district sampling assigned a site in is listed: those with no sheet counted yet come last,
    unranked (`all_districts` is false when sampling could not be asked just now)."""
    access.require_preview_allowed(preview, principal)
    assigned = await service.assigned_districts(http, settings.sampling_url, round_code=round_code)
    return await service.district_rankings(
        session, round_code=round_code, preview=preview, principal=principal, page=page, assigned=assigned
    )


@router.get("/rounds/{round_code}/rankings/sites", response_model=SiteRankingPage, **allow(*access.READERS))
async def get_site_rankings(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    site_type: Annotated[SiteType, Query(description="The type of site to rank")],
    page: PageDep,
    preview: Preview = False,
) -> SiteRankingPage:
    """Rank the sites of one type by their 100-point score."""
    access.require_preview_allowed(preview, principal)
    return await service.site_rankings(
        session, round_code=round_code, site_type=site_type, preview=preview, principal=principal, page=page
    )


@router.get(
    "/rounds/{round_code}/problems/by-item", response_model=ItemProblemsPage, **allow(*access.READERS)
)
async def get_problems_by_item(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    preview: Preview = False,
) -> ItemProblemsPage:
    """Count deductions and findings per item: which items fail most."""
    access.require_preview_allowed(preview, principal)
    return await service.problems_by_item(
        session, round_code=round_code, preview=preview, principal=principal, page=page
    )


@router.get("/trend", response_model=TrendPage, **allow(*access.READERS))
async def get_trend(
    session: SessionDep, principal: PrincipalDep, page: PageDep, district: DistrictQuery = None
) -> TrendPage:
    """Show each district's composite and rank across rounds."""
    return await service.trend(session, district=district, principal=principal, page=page)


@router.get(
    "/rounds/{round_code}/export.csv",
    response_class=RawResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The table as CSV"}
    },
    **allow(*access.READERS),
)
async def export_results_csv(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    table: Annotated[ExportTable, Query(description="Which table to export")] = ExportTable.DISTRICTS,
) -> RawResponse:
    """Export one table of the round's locked results as CSV (Chinese headers)."""
    body = await service.export_csv(session, round_code=round_code, table=table, principal=principal)
    return RawResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{round_code}-{table.value}.csv"'},
    )


@router.get(
    "/rounds/{round_code}/export.xlsx",
    response_class=RawResponse,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The workbook",
        }
    },
    **allow(*access.READERS),
)
async def export_results_xlsx(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep
) -> RawResponse:
    """Export the round's locked results as XLSX: district ranking, one sheet per site type, items."""
    body = await service.export_xlsx(session, round_code=round_code, principal=principal)
    return RawResponse(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{round_code}-results.xlsx"'},
    )

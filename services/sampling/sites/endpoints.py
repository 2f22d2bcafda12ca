"""Directory (名录库) routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep, SearchQuery, Sort, sort_param
from services.sampling.deps import ExportFormatQuery, UploadDep, download, import_route
from services.sampling.enums import FileFormat, SiteSubtype, SiteType
from services.sampling.sites import service
from services.sampling.sites.access import EDITORS, EXPORTERS, READERS, ValidSite, ValidSiteCode
from services.sampling.sites.schemas import (
    ExportLanguage,
    ImportReport,
    SiteCreate,
    SiteFilter,
    SiteRead,
    SiteUpdate,
)

TAG = "sampling.sites"
router = APIRouter(tags=[TAG])

TypesQuery = Annotated[list[SiteType] | None, Query(description="Site types (repeatable)")]
SubtypesQuery = Annotated[
    list[SiteSubtype] | None, Query(description="Site subtypes, e.g. hospital (repeatable)")
]
DistrictQuery = Annotated[str | None, Query(description="Slug of the district or zone")]
ActiveQuery = Annotated[bool | None, Query(description="Only active (true) or inactive (false) sites")]
LangQuery = Annotated[
    ExportLanguage,
    Query(
        description="Headers and labels of a CSV/XLSX export: `en` (code, village, true) or `zh` "
        "(编码, 村, 是; CSV with a BOM for Excel); both import back unchanged. JSON keeps `en`."
    ),
]
SiteSort = Annotated[Sort, Depends(sort_param(["code", "name", "type", "district"], "code"))]


@router.get("/sites", response_model=Page[SiteRead], **allow(*READERS))
async def list_sites(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: SiteSort,
    type: TypesQuery = None,
    subtype: SubtypesQuery = None,
    parent_code: Annotated[str | None, Query(description="Only the children of this site")] = None,
    district: DistrictQuery = None,
    active: ActiveQuery = None,
    q: SearchQuery = None,
) -> Page[SiteRead]:
    """List directory sites inside your scope, filtered, sorted and paginated."""
    where = SiteFilter(
        types=type, subtypes=subtype, parent_code=parent_code, district=district, active=active, q=q
    )
    rows, total = await service.list_sites(session, principal=principal, where=where, page=page, sort=sort)
    return Page.of([SiteRead.model_validate(r) for r in rows], total, page)


@router.post(
    "/sites", response_model=SiteRead, status_code=201, responses=errors(409, 415), **allow(*EDITORS)
)
async def create_site(
    site_in: SiteCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> SiteRead:
    """Add one site to the directory under an existing parent."""
    site = await service.create_site(session, principal=principal, site_in=site_in, now=clock.now())
    return SiteRead.model_validate(site)


@router.post(
    "/sites/import",
    response_model=ImportReport,
    responses=errors(409, 413, 415),
    **import_route(allow(*EDITORS)),
)
async def import_sites(
    upload: UploadDep, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> ImportReport:
    """Upsert sites by code from CSV, XLSX or JSON; all or nothing unless good_rows_only, nothing at all on dry_run."""
    return await service.import_sites(
        session, principal=principal, data=upload.data, opts=upload.options, now=clock.now()
    )


@router.get("/sites/export", response_class=Response, **allow(*EXPORTERS))
async def export_sites(
    session: SessionDep,
    principal: PrincipalDep,
    format: ExportFormatQuery = FileFormat.CSV,
    type: TypesQuery = None,
    subtype: SubtypesQuery = None,
    district: DistrictQuery = None,
    active: ActiveQuery = None,
    lang: LangQuery = ExportLanguage.EN,
) -> Response:
    """Export the directory inside your scope in the import format (CSV, XLSX or JSON)."""
    where = SiteFilter(types=type, subtypes=subtype, district=district, active=active)
    data = await service.export_sites(
        session, principal=principal, where=where, fmt=format.value, chinese=lang is ExportLanguage.ZH
    )
    return download(data, format.value, "sites")


@router.get("/sites/by-code/{code}", response_model=SiteRead, **allow(*READERS))
async def get_site_by_code(site: ValidSiteCode) -> SiteRead:
    """Read one site by its external code."""
    return SiteRead.model_validate(site)


@router.get("/sites/{site_id}", response_model=SiteRead)
async def get_site(site: ValidSite) -> SiteRead:
    """Read one site of the directory."""
    return SiteRead.model_validate(site)


@router.patch("/sites/{site_id}", response_model=SiteRead, responses=errors(415), **allow(*EDITORS))
async def update_site(
    site: ValidSite, site_in: SiteUpdate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> SiteRead:
    """Rename, retag, (de)activate or move a site (its subtree moves with it)."""
    site = await service.update_site(
        session, principal=principal, site=site, site_in=site_in, now=clock.now()
    )
    return SiteRead.model_validate(site)


@router.delete("/sites/{site_id}", status_code=204, responses=errors(409), **allow(*EDITORS))
async def delete_site(site: ValidSite, session: SessionDep) -> Response:
    """Remove a site that has no children."""
    await service.delete_site(session, site=site)
    return Response(status_code=204)

"""Inspector pool (人员库) routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep, SearchQuery, Sort, sort_param
from services.sampling.deps import ExportFormatQuery, UploadDep, download, import_route
from services.sampling.enums import FileFormat
from services.sampling.inspectors import access, service
from services.sampling.inspectors.access import ValidInspector
from services.sampling.inspectors.schemas import (
    InspectorCreate,
    InspectorFilter,
    InspectorRead,
    InspectorUpdate,
)
from services.sampling.sites.endpoints import LangQuery
from services.sampling.sites.schemas import ExportLanguage, ImportReport

TAG = "sampling.inspectors"
router = APIRouter(tags=[TAG])

InspectorSort = Annotated[Sort, Depends(sort_param(["user_id", "name", "home_district"], "user_id"))]


@router.get("/inspectors", response_model=Page[InspectorRead], **access.read())
async def list_inspectors(
    session: SessionDep,
    page: PageDep,
    sort: InspectorSort,
    home_district: Annotated[str | None, Query(description="Slug of the people's home district")] = None,
    can_lead: Annotated[
        bool | None, Query(description="Only people who may (or may not) lead a team")
    ] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) people")] = None,
    q: SearchQuery = None,
) -> Page[InspectorRead]:
    """List the inspector pool, filtered, sorted and paginated."""
    where = InspectorFilter(home_district=home_district, can_lead=can_lead, active=active, q=q)
    rows, total = await service.list_inspectors(session, where=where, page=page, sort=sort)
    return Page.of([InspectorRead.model_validate(r) for r in rows], total, page)


@router.post(
    "/inspectors",
    response_model=InspectorRead,
    status_code=201,
    responses=errors(409, 415),
    **access.manage(),
)
async def create_inspector(
    inspector_in: InspectorCreate, session: SessionDep, clock: ClockDep
) -> InspectorRead:
    """Add a person to the inspector pool."""
    return InspectorRead.model_validate(
        await service.create_inspector(session, inspector_in=inspector_in, now=clock.now())
    )


@router.post(
    "/inspectors/import",
    response_model=ImportReport,
    responses=errors(413, 415),
    **import_route(access.manage()),
)
async def import_inspectors(upload: UploadDep, session: SessionDep, clock: ClockDep) -> ImportReport:
    """Upsert inspectors by user_id from CSV, XLSX or JSON, with the same modes as the site import."""
    return await service.import_inspectors(session, data=upload.data, opts=upload.options, now=clock.now())


@router.get("/inspectors/export", response_class=Response, **access.manage())
async def export_inspectors(
    session: SessionDep, format: ExportFormatQuery = FileFormat.CSV, lang: LangQuery = ExportLanguage.EN
) -> Response:
    """Export the inspector pool in the import format."""
    data = await service.export_inspectors(session, fmt=format.value, chinese=lang is ExportLanguage.ZH)
    return download(data, format.value, "inspectors")


@router.get("/inspectors/{inspector_id}", response_model=InspectorRead, **access.read())
async def get_inspector(inspector: ValidInspector) -> InspectorRead:
    """Read one inspector."""
    return InspectorRead.model_validate(inspector)


@router.patch(
    "/inspectors/{inspector_id}", response_model=InspectorRead, responses=errors(415), **access.manage()
)
async def update_inspector(
    inspector: ValidInspector, inspector_in: InspectorUpdate, session: SessionDep, clock: ClockDep
) -> InspectorRead:
    """Change an inspector's district, leading permission, active flag or tags."""
    row = await service.update_inspector(
        session, inspector=inspector, inspector_in=inspector_in, now=clock.now()
    )
    return InspectorRead.model_validate(row)

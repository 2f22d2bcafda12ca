"""Directory (名录库) and inspector pool (人员库) routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.params import OffsetQuery
from services.sampling import directory, importing, repository
from services.sampling.access import city_wide
from services.sampling.deps import ValidInspector, ValidSite, ValidSiteCode
from services.sampling.directory import ImportOptions
from services.sampling.errors import UnreadableFileProblem
from services.sampling.schemas import (
    ImportReport,
    InspectorCreate,
    InspectorRead,
    InspectorUpdate,
    Page,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)

router = APIRouter(tags=["directory"])
pool_router = APIRouter(tags=["inspector pool"])

READERS = ("city_admin", "district_admin", "leader", "system", "inspector", "team_leader")
EDITORS = ("city_admin", "district_admin", "system")
Format = Literal["csv", "xlsx", "json"]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = OffsetQuery
IMPORT_BODY = {
    "requestBody": {
        "description": "The file: raw body (Content-Type text/csv, application/json or the XLSX type) or multipart field `file`",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            importing.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


def _import_route(kw: dict[str, Any]) -> dict[str, Any]:
    """Route kwargs plus the documented upload body (both live in ``openapi_extra``)."""
    kw["openapi_extra"] = {**kw["openapi_extra"], **IMPORT_BODY}
    return kw


async def _upload(request: Request, fmt: str | None) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "")
    filename = None
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise UnreadableFileProblem("Send the file in the multipart field `file`")
        data = await upload.read()
        filename, content_type = upload.filename, upload.content_type or ""
    else:
        data = await request.body()
    try:
        return data, importing.detect_format(fmt, content_type, filename)
    except importing.UnreadableFile as exc:
        raise UnreadableFileProblem(str(exc)) from exc


def _file(data: bytes, fmt: str, name: str) -> Response:
    return Response(
        data,
        media_type=importing.MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get("/sites", response_model=Page[SiteRead], **allow(*READERS))
async def list_sites(
    session: SessionDep,
    principal: PrincipalDep,
    type: Annotated[list[str] | None, Query(description="Site types (repeatable)")] = None,
    parent_code: str | None = None,
    district: str | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SiteRead]:
    """List directory sites inside your scope, filtered and paginated."""
    conds = repository.site_filters(
        principal, type_=type, parent_code=parent_code, district=district, active=active, q=q
    )
    rows, total = await repository.list_sites(session, conds, limit=limit, offset=offset)
    return Page[SiteRead](
        items=[SiteRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/sites", response_model=SiteRead, status_code=201, **allow(*EDITORS))
async def create_site(
    site_in: SiteCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> SiteRead:
    """Add one site to the directory under an existing parent."""
    site = await directory.create_site(session, principal=principal, site_in=site_in, now=clock.now())
    return SiteRead.model_validate(site)


@router.post(
    "/sites/import",
    response_model=ImportReport,
    **_import_route(allow(*EDITORS)),
)
async def import_sites(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    format: Format | None = None,
    dry_run: bool = False,
    good_rows_only: bool = False,
) -> ImportReport:
    """Upsert sites by code from CSV, XLSX or JSON; all or nothing unless good_rows_only, nothing at all on dry_run."""
    data, fmt = await _upload(request, format)
    opts = ImportOptions(fmt=fmt, dry_run=dry_run, good_rows_only=good_rows_only)
    return await directory.import_sites(session, principal=principal, data=data, opts=opts, now=clock.now())


@router.get(
    "/sites/export", response_class=Response, **allow("city_admin", "district_admin", "leader", "system")
)
async def export_sites(
    session: SessionDep,
    principal: PrincipalDep,
    format: Format = "csv",
    type: Annotated[list[str] | None, Query()] = None,
    district: str | None = None,
    active: bool | None = None,
) -> Response:
    """Export the directory inside your scope in the import format (CSV, XLSX or JSON)."""
    conds = repository.site_filters(principal, type_=type, district=district, active=active)
    return _file(await directory.export_sites(session, conds=conds, fmt=format), format, "sites")


@router.get("/sites/by-code/{code}", response_model=SiteRead, **allow(*READERS))
async def get_site_by_code(site: ValidSiteCode) -> SiteRead:
    """Read one site by its external code."""
    return SiteRead.model_validate(site)


@router.get("/sites/{site_id}", response_model=SiteRead)
async def get_site(site: ValidSite) -> SiteRead:
    """Read one site of the directory."""
    return SiteRead.model_validate(site)


@router.patch("/sites/{site_id}", response_model=SiteRead, **allow(*EDITORS))
async def update_site(
    site: ValidSite, site_in: SiteUpdate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> SiteRead:
    """Rename, retag, (de)activate or move a site (its subtree moves with it)."""
    site = await directory.update_site(
        session, principal=principal, site=site, site_in=site_in, now=clock.now()
    )
    return SiteRead.model_validate(site)


@router.delete("/sites/{site_id}", status_code=204, **allow(*EDITORS))
async def delete_site(site: ValidSite, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a site that has no children."""
    await directory.delete_site(session, principal=principal, site=site)
    return Response(status_code=204)


POOL_ROLES = ("city_admin", "system")
POOL = "The inspector pool (people and their home districts)"


@pool_router.get(
    "/inspectors", response_model=Page[InspectorRead], **city_wide(*POOL_ROLES, "leader", what=POOL)
)
async def list_inspectors(
    session: SessionDep,
    home_district: str | None = None,
    can_lead: bool | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[InspectorRead]:
    """List the inspector pool, filtered and paginated."""
    rows, total = await repository.list_inspectors(
        session, district=home_district, can_lead=can_lead, active=active, q=q, limit=limit, offset=offset
    )
    return Page[InspectorRead](
        items=[InspectorRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@pool_router.post(
    "/inspectors", response_model=InspectorRead, status_code=201, **city_wide(*POOL_ROLES, what=POOL)
)
async def create_inspector(
    inspector_in: InspectorCreate, session: SessionDep, clock: ClockDep
) -> InspectorRead:
    """Add a person to the inspector pool."""
    return InspectorRead.model_validate(
        await directory.create_inspector(session, inspector_in=inspector_in, now=clock.now())
    )


@pool_router.post(
    "/inspectors/import", response_model=ImportReport, **_import_route(city_wide(*POOL_ROLES, what=POOL))
)
async def import_inspectors(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    format: Format | None = None,
    dry_run: bool = False,
    good_rows_only: bool = False,
) -> ImportReport:
    """Upsert inspectors by user_id from CSV, XLSX or JSON, with the same modes as the site import."""
    data, fmt = await _upload(request, format)
    opts = ImportOptions(fmt=fmt, dry_run=dry_run, good_rows_only=good_rows_only)
    return await directory.import_inspectors(session, data=data, opts=opts, now=clock.now())


@pool_router.get("/inspectors/export", response_class=Response, **city_wide(*POOL_ROLES, what=POOL))
async def export_inspectors(session: SessionDep, format: Format = "csv") -> Response:
    """Export the inspector pool in the import format."""
    return _file(await directory.export_inspectors(session, fmt=format), format, "inspectors")


@pool_router.get(
    "/inspectors/{inspector_id}", response_model=InspectorRead, **city_wide(*POOL_ROLES, "leader", what=POOL)
)
async def get_inspector(inspector: ValidInspector) -> InspectorRead:
    """Read one inspector."""
    return InspectorRead.model_validate(inspector)


@pool_router.patch(
    "/inspectors/{inspector_id}", response_model=InspectorRead, **city_wide(*POOL_ROLES, what=POOL)
)
async def update_inspector(
    inspector: ValidInspector, inspector_in: InspectorUpdate, session: SessionDep, clock: ClockDep
) -> InspectorRead:
    """Change an inspector's district, leading permission, active flag or tags."""
    row = await directory.update_inspector(
        session, inspector=inspector, inspector_in=inspector_in, now=clock.now()
    )
    return InspectorRead.model_validate(row)

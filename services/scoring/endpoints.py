"""Scoring's HTTP endpoints (thin: rules live in service.py and results.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.responses import Response as RawResponse

from services.kit.auth import Principal, PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep, HttpDep
from services.kit.errors import Forbidden, NotFound
from services.kit.params import IdPath, OffsetQuery
from services.scoring import exports, repository, results, rubric_service, service
from services.scoring.deps import (
    DistrictQuery,
    IfMatch,
    RoundCode,
    SettingsDep,
    SheetForUpdate,
    ValidSheet,
)
from services.scoring.models import Rubric, ScoreSheet
from services.scoring.present import sheet_read, sheet_summary
from services.scoring.rubric import SITE_TYPES
from services.scoring.schemas import (
    HistoryEntry,
    ItemProblemsRead,
    Page,
    PublicationRead,
    RankingsRead,
    ReturnIn,
    RoundRubricBind,
    RoundRubricRead,
    RubricDraftCreate,
    RubricDraftUpdate,
    RubricPublish,
    RubricRead,
    RubricSummary,
    SheetCreate,
    SheetRead,
    SheetStatus,
    SheetSummary,
    SheetUpdate,
    SiteRankingsRead,
    TrendRead,
)

ANY_READER = ("city_admin", "inspector", "team_leader", "district_admin", "leader", "system")
RESULT_READERS = ("city_admin", "district_admin", "leader", "system")
TEAM = ("inspector", "team_leader")

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500)")]
Offset = OffsetQuery
SiteType = Literal[SITE_TYPES]  # type: ignore[valid-type]
Preview = Annotated[
    bool, Query(description="Include reviewed (not yet locked) sheets, marked as preview; city_admin only")
]

router = APIRouter(tags=["scoring"])


def _rubric_read(rubric: Rubric) -> RubricRead:
    return RubricRead.model_validate(
        {
            **RubricSummary.model_validate(rubric).model_dump(),
            "definition": rubric.definition,
            "item_count": sum(len(s.get("items", [])) for s in rubric.definition.get("sections", [])),
        }
    )


async def _sheet_out(session: SessionDep, sheet: ScoreSheet, response: Response) -> SheetRead:
    rubric, definition, items = await service.load_sheet_context(session, sheet)
    response.headers["ETag"] = service.etag_of(sheet)
    return sheet_read(sheet, rubric, definition, items)


def _preview_allowed(preview: bool, principal: PrincipalDep) -> None:
    if preview and not principal.has_role("city_admin"):
        raise Forbidden("Only a city admin may preview results that are not locked yet")


def _require_city_wide(principal: Principal, action: str) -> None:
    """Rubric versions, round bindings and publication concern the whole city: a district's scope is not enough."""
    if not principal.city_wide:
        raise Forbidden(
            f"{action} is a city-wide action; your scope {principal.scope!r} is not the whole city",
            scope=principal.scope,
        )


# --- rubrics -------------------------------------------------------------------------------------


@router.get("/rubrics", response_model=Page[RubricSummary], **allow(*ANY_READER))
async def list_rubrics(session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> Page[RubricSummary]:
    """List rubric versions, drafts and published."""
    rows, total = await repository.list_rubrics(session, limit=limit, offset=offset)
    return Page(
        items=[RubricSummary.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/rubrics/{rubric_id}", response_model=RubricRead, **allow(*ANY_READER))
async def get_rubric(rubric_id: IdPath, session: SessionDep) -> RubricRead:
    """Read one rubric version with its whole document."""
    return _rubric_read(await rubric_service.get_rubric(session, rubric_id))


@router.post("/rubrics", response_model=RubricRead, status_code=201, **allow("city_admin"))
async def create_rubric_draft(
    body: RubricDraftCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Draft a new rubric version as a copy of an existing one."""
    _require_city_wide(principal, "Drafting a rubric version")
    rubric = await rubric_service.create_draft(
        session,
        version=body.version,
        name=body.name,
        based_on_id=body.based_on_id,
        actor=principal.sub,
        now=clock.now(),
    )
    return _rubric_read(rubric)


@router.put("/rubrics/{rubric_id}", response_model=RubricRead, **allow("city_admin"))
async def update_rubric_draft(
    rubric_id: IdPath, body: RubricDraftUpdate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Replace a draft's items, points and weights."""
    _require_city_wide(principal, "Editing a rubric version")
    rubric = await rubric_service.get_rubric(session, rubric_id)
    return _rubric_read(
        await rubric_service.update_draft(session, rubric=rubric, definition=body.definition, now=clock.now())
    )


@router.post("/rubrics/{rubric_id}/publish", response_model=RubricRead, **allow("city_admin"))
async def publish_rubric(
    rubric_id: IdPath, body: RubricPublish, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Validate a draft and publish it, frozen from then on."""
    _require_city_wide(principal, "Publishing a rubric version")
    rubric = await rubric_service.get_rubric(session, rubric_id)
    return _rubric_read(
        await rubric_service.publish_rubric(
            session, rubric=rubric, make_default=body.make_default, actor=principal.sub, now=clock.now()
        )
    )


async def _round_rubric_read(session: SessionDep, round_code: str) -> RoundRubricRead:
    binding = await repository.get_round_rubric(session, round_code)
    if binding is None:
        raise NotFound(
            f"Round {round_code} is not bound to a rubric yet; its first sheet binds the default",
            round_code=round_code,
        )
    rubric = await rubric_service.get_rubric(session, binding.rubric_id)
    return RoundRubricRead(
        round_code=round_code,
        rubric_id=binding.rubric_id,
        rubric_version=rubric.version,
        bound_by=binding.bound_by,
        bound_at=binding.bound_at,
    )


@router.get("/rounds/{round_code}/rubric", response_model=RoundRubricRead, **allow(*ANY_READER))
async def get_round_rubric(round_code: RoundCode, session: SessionDep) -> RoundRubricRead:
    """Show which rubric version a round is scored on."""
    return await _round_rubric_read(session, round_code)


@router.put("/rounds/{round_code}/rubric", response_model=RoundRubricRead, **allow("city_admin"))
async def bind_round_rubric(
    round_code: RoundCode,
    body: RoundRubricBind,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> RoundRubricRead:
    """Bind a round to a published rubric version."""
    _require_city_wide(principal, "Binding a round to a rubric version")
    await rubric_service.bind_round(
        session, round_code=round_code, rubric_id=body.rubric_id, actor=principal.sub, now=clock.now()
    )
    return await _round_rubric_read(session, round_code)


# --- sheets --------------------------------------------------------------------------------------


@router.post("/rounds/{round_code}/sheets", response_model=SheetRead, status_code=201, **allow(*TEAM))
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
    return await _sheet_out(session, sheet, response)


@router.get("/rounds/{round_code}/sheets", response_model=Page[SheetSummary], **allow(*ANY_READER))
async def list_sheets(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    status: SheetStatus | None = None,
    district: DistrictQuery = None,
    site_type: SiteType | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SheetSummary]:
    """List a round's score sheets you may see (inside your scope, or your team's)."""
    rows, total = await repository.list_sheets(
        session,
        round_code=round_code,
        status=status,
        district=district,
        site_type=site_type,
        reader=principal if principal.has_role(*service.SCOPED_READERS) else None,
        team_user=principal.sub if principal.has_role(*service.TEAM_ROLES) else None,
        limit=limit,
        offset=offset,
    )
    return Page(items=[sheet_summary(s) for s in rows], total=total, limit=limit, offset=offset)


@router.get("/sheets/{sheet_id}", response_model=SheetRead, **allow(*ANY_READER))
async def get_sheet(sheet: ValidSheet, session: SessionDep, response: Response) -> SheetRead:
    """Read a score sheet with every item, its results and its ETag."""
    return await _sheet_out(session, sheet, response)


@router.patch("/sheets/{sheet_id}", response_model=SheetRead, **allow(*TEAM))
async def update_sheet(
    sheet: SheetForUpdate,
    body: SheetUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SheetRead:
    """Save item scores, the satisfaction poll or notes (If-Match required)."""
    await service.update_sheet(
        session, sheet=sheet, update=body, principal=principal, if_match=if_match, now=clock.now()
    )
    return await _sheet_out(session, sheet, response)


@router.post("/sheets/{sheet_id}/submit", response_model=SheetRead, **allow(*TEAM))
async def submit_sheet(
    sheet: SheetForUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
    body: SheetUpdate | None = None,
) -> SheetRead:
    """Submit a complete sheet to the team leader (optionally saving last changes first, atomically)."""
    if body is not None:
        await service.update_sheet(
            session, sheet=sheet, update=body, principal=principal, if_match=if_match, now=clock.now()
        )
        if_match = service.etag_of(sheet)
    await service.submit_sheet(
        session,
        sheet=sheet,
        principal=principal,
        if_match=if_match,
        now=clock.now(),
        http=http,
        sampling_url=settings.sampling_url,
    )
    return await _sheet_out(session, sheet, response)


@router.post("/sheets/{sheet_id}/review", response_model=SheetRead, **allow("team_leader"))
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
    return await _sheet_out(session, sheet, response)


@router.post("/sheets/{sheet_id}/return", response_model=SheetRead, **allow("team_leader", "city_admin"))
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
    return await _sheet_out(session, sheet, response)


@router.post("/sheets/{sheet_id}/lock", response_model=SheetRead, **allow("city_admin"))
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
    return await _sheet_out(session, sheet, response)


@router.get("/sheets/{sheet_id}/history", response_model=list[HistoryEntry], **allow(*ANY_READER))
async def get_sheet_history(sheet: ValidSheet, session: SessionDep) -> list[HistoryEntry]:
    """List every change to a sheet: who, when, what."""
    return [HistoryEntry.model_validate(h) for h in await repository.sheet_history(session, sheet.id)]


@router.get("/sheets/{sheet_id}/content", response_class=RawResponse, **allow(*ANY_READER))
async def get_sheet_content(sheet: ValidSheet, session: SessionDep) -> RawResponse:
    """Download the canonical content whose SHA-256 a locked sheet carries."""
    rubric, _, items = await service.load_sheet_context(session, sheet)
    body = rubric_service.canonical_json(service.sheet_content(sheet, rubric, items))
    return RawResponse(body, media_type="application/json", headers={"ETag": service.etag_of(sheet)})


# --- results -------------------------------------------------------------------------------------


@router.get("/rounds/{round_code}/rankings/districts", response_model=RankingsRead, **allow(*RESULT_READERS))
async def get_district_rankings(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep, preview: Preview = False
) -> RankingsRead:
    """Rank districts and zones by their composite, with the numbers behind each."""
    _preview_allowed(preview, principal)
    return RankingsRead.model_validate(
        await results.district_rankings(session, round_code=round_code, preview=preview, principal=principal)
    )


@router.get("/rounds/{round_code}/rankings/sites", response_model=SiteRankingsRead, **allow(*RESULT_READERS))
async def get_site_rankings(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    site_type: Annotated[SiteType, Query()],
    preview: Preview = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SiteRankingsRead:
    """Rank the sites of one type by their 100-point score."""
    _preview_allowed(preview, principal)
    data = await results.site_rankings(
        session,
        round_code=round_code,
        site_type=site_type,
        preview=preview,
        principal=principal,
        limit=limit,
        offset=offset,
    )
    return SiteRankingsRead.model_validate(data)


@router.get(
    "/rounds/{round_code}/problems/by-item", response_model=ItemProblemsRead, **allow(*RESULT_READERS)
)
async def get_problems_by_item(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep, preview: Preview = False
) -> ItemProblemsRead:
    """Count deductions and findings per item: which items fail most."""
    _preview_allowed(preview, principal)
    return ItemProblemsRead.model_validate(
        await results.problems_by_item(session, round_code=round_code, preview=preview, principal=principal)
    )


@router.get("/trend", response_model=TrendRead, **allow(*RESULT_READERS))
async def get_trend(
    session: SessionDep, principal: PrincipalDep, district: DistrictQuery = None
) -> TrendRead:
    """Show each district's composite and rank across rounds."""
    return TrendRead.model_validate(await results.trend(session, district=district, principal=principal))


@router.post(
    "/rounds/{round_code}/results/publish",
    response_model=PublicationRead,
    status_code=201,
    **allow("city_admin"),
)
async def publish_results(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> PublicationRead:
    """Publish the round's results (locked sheets only) and notify districts and leaders."""
    _require_city_wide(principal, "Publishing a round's results")
    return PublicationRead.model_validate(
        await results.publish_results(session, round_code=round_code, actor=principal.sub, now=clock.now())
    )


async def _export_tables(
    session: SessionDep, round_code: str, principal: PrincipalDep
) -> tuple[dict, list, dict]:  # type: ignore[type-arg]
    ranking = await results.district_rankings(
        session, round_code=round_code, preview=False, principal=principal
    )
    rows = await repository.result_rows(session, round_code=round_code, statuses=results.LOCKED_ONLY)
    # Ranked within each site type, listed type by type.
    sites = [
        r
        for t in SITE_TYPES
        for r in results.site_rows([row for row in rows if row.site_type == t])
        if principal.covers(r["site"]["org_unit"])
    ]
    items = await results.problems_by_item(session, round_code=round_code, preview=False, principal=principal)
    return ranking, sites, items


@router.get("/rounds/{round_code}/export.csv", response_class=RawResponse, **allow(*RESULT_READERS))
async def export_results_csv(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    table: Literal["districts", "sites", "items"] = "districts",
) -> RawResponse:
    """Export one table of the round's locked results as CSV (Chinese headers)."""
    ranking, sites, items = await _export_tables(session, round_code, principal)
    _, definition = await results.round_definition(session, round_code)
    data = {
        "districts": lambda: exports.district_table(ranking["items"]),
        "sites": lambda: exports.site_table(sites, definition),
        "items": lambda: exports.item_table(items["items"]),
    }[table]()
    return RawResponse(
        exports.to_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{round_code}-{table}.csv"'},
    )


@router.get("/rounds/{round_code}/export.xlsx", response_class=RawResponse, **allow(*RESULT_READERS))
async def export_results_xlsx(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep
) -> RawResponse:
    """Export the round's locked results as XLSX: district ranking, one sheet per site type, items."""
    ranking, sites, items = await _export_tables(session, round_code, principal)
    _, definition = await results.round_definition(session, round_code)
    tables: list[tuple[str, exports.Table]] = [("区县排名", exports.district_table(ranking["items"]))]
    for t in SITE_TYPES:
        of_type = [s for s in sites if s["site"]["type"] == t]
        if of_type:
            tables.append((f"{exports.SITE_TYPE_TITLES[t]}排名", exports.site_table(of_type, definition)))
    tables.append(("细项问题统计", exports.item_table(items["items"])))
    body = await asyncio.to_thread(exports.to_xlsx, tables)
    return RawResponse(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{round_code}-results.xlsx"'},
    )

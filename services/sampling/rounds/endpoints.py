"""Round (督查批次), draw, team and assignment routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse

from services.kit.auth import PrincipalDep, allow, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep, HttpDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep, Sort, sort_param
from services.kit.params import INT64_MAX
from services.sampling.deps import RectificationUrlDep
from services.sampling.enums import RoundStatus
from services.sampling.rounds import access, service
from services.sampling.rounds.access import LockedRound, ValidRound
from services.sampling.rounds.schemas import (
    FREEZE_EXAMPLE,
    AssignmentRead,
    AssignmentUpdate,
    DrawRecord,
    DrawRequest,
    DrawSummary,
    FrameRead,
    FreezeRequest,
    RoundCreate,
    RoundPlanUpdate,
    RoundRead,
    TeamRead,
)

ROUNDS, DRAWS, ASSIGNMENTS = "sampling.rounds", "sampling.draws", "sampling.assignments"
router = APIRouter()

TeamIdQuery = Annotated[int | None, Query(ge=1, le=INT64_MAX, description="Only this team's visits")]
DistrictQuery = Annotated[str | None, Query(description="Only visits in this district or zone (slug)")]
SiteCodePath = Annotated[str, Path(max_length=64, description="The site's external code")]
DrawNumberPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The draw's number in the round")]
RoundSort = Annotated[Sort, Depends(sort_param(["code", "created_at", "status"], "-code"))]


@router.post(
    "/rounds",
    response_model=RoundRead,
    status_code=201,
    tags=[ROUNDS],
    responses=errors(409, 415),
    **access.run_round(),
)
async def create_round(
    round_in: RoundCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    rectification_url: RectificationUrlDep,
) -> RoundRead:
    """Open a round in planning with its districts, quotas, exclusions and follow-up visits."""
    rnd = await service.create_round(
        session,
        http=http,
        rectification_url=rectification_url,
        principal=principal,
        round_in=round_in,
        now=clock.now(),
    )
    return await service.round_read(session, rnd)


@router.get("/rounds", response_model=Page[RoundRead], tags=[ROUNDS])
async def list_rounds(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: RoundSort,
    status: Annotated[RoundStatus | None, Query(description="Only rounds in this status")] = None,
) -> Page[RoundRead]:
    """List rounds, newest quarter first."""
    return await service.list_rounds(session, principal=principal, status=status, page=page, sort=sort)


@router.get("/rounds/{round_code}", response_model=RoundRead, tags=[ROUNDS])
async def get_round(rnd: ValidRound, session: SessionDep, principal: PrincipalDep) -> RoundRead:
    """Read a round: status, plan, frame hash and seed commitment."""
    return access.shown_to(principal, await service.round_read(session, rnd))


@router.put(
    "/rounds/{round_code}/plan",
    response_model=RoundRead,
    tags=[ROUNDS],
    responses=errors(409, 415),
    **access.run_round(),
)
async def update_round_plan(
    rnd: LockedRound,
    plan_in: RoundPlanUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    http: HttpDep,
    rectification_url: RectificationUrlDep,
) -> RoundRead:
    """Replace the plan of a round that is still planning."""
    rnd = await service.update_plan(
        session, http=http, rectification_url=rectification_url, principal=principal, rnd=rnd, plan_in=plan_in
    )
    return await service.round_read(session, rnd)


@router.post(
    "/rounds/{round_code}/freeze",
    response_model=FrameRead,
    tags=[ROUNDS],
    responses=errors(409, 415),
    **access.run_round(),
)
async def freeze_round(
    rnd: LockedRound,
    session: SessionDep,
    clock: ClockDep,
    body: Annotated[FreezeRequest | None, Body(examples=[FREEZE_EXAMPLE])] = None,
) -> FrameRead:
    """Freeze the frame (sorted eligible codes and SHA-256 per stratum) and record the seed commitment."""
    commitment = (body or FreezeRequest()).commitment
    return await service.freeze_round(session, rnd=rnd, commitment=commitment, now=clock.now())


@router.get(
    "/rounds/{round_code}/frame",
    response_model=FrameRead,
    tags=[ROUNDS],
    responses=errors(409),
    **access.oversight(),
)
async def get_round_frame(
    rnd: ValidRound,
    session: SessionDep,
    include_codes: Annotated[bool, Query(description="Also list every stratum's sorted codes")] = False,
) -> FrameRead:
    """Read the frozen frame: strata, sizes, quotas and hashes (and the codes when asked)."""
    return await service.get_frame(session, rnd=rnd, with_codes=include_codes)


@router.post(
    "/rounds/{round_code}/draws",
    response_model=DrawSummary,
    status_code=201,
    tags=[DRAWS],
    responses=errors(409, 415),
    **access.run_round(),
)
async def draw_round(
    rnd: LockedRound, draw_in: DrawRequest, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> DrawSummary:
    """Draw sites and teams from the frozen frame with the committed secret and a public value; a redraw needs a reason."""
    return await service.draw_round(session, rnd=rnd, draw_in=draw_in, principal=principal, now=clock.now())


@router.get(
    "/rounds/{round_code}/draws", response_model=Page[DrawSummary], tags=[DRAWS], **access.oversight()
)
async def list_draws(rnd: ValidRound, session: SessionDep) -> Page[DrawSummary]:
    """List every draw of the round, redraws included, oldest first."""
    return Page.whole(await service.list_draws(session, rnd=rnd))


@router.get(
    "/rounds/{round_code}/draws/{number}", response_model=DrawRecord, tags=[DRAWS], **access.oversight()
)
async def get_draw_record(rnd: ValidRound, number: DrawNumberPath, session: SessionDep) -> JSONResponse:
    """Export one draw's full record as JSON (what `python -m services.sampling.verify` checks)."""
    record = await service.draw_record(session, rnd=rnd, number=number)
    # The record goes out as stored: re-serialising it could change what its SHA-256 covers.
    return JSONResponse(
        record, headers={"content-disposition": f'attachment; filename="draw-{rnd.code}-{number}.json"'}
    )


@router.post(
    "/rounds/{round_code}/reveal",
    response_model=RoundRead,
    tags=[DRAWS],
    responses=errors(409),
    **access.run_round(),
)
async def reveal_round_seed(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Reveal the secret behind the commitment (once), so anyone can verify the draw."""
    return await service.round_read(session, await service.reveal_seed(session, rnd=rnd, now=clock.now()))


@router.post(
    "/rounds/{round_code}/publish",
    response_model=RoundRead,
    tags=[ROUNDS],
    responses=errors(409),
    **access.run_round(),
)
async def publish_round(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Publish the current draw: teams get their visit lists, districts only their visit windows."""
    return await service.round_read(session, await service.publish_round(session, rnd=rnd, now=clock.now()))


@router.post(
    "/rounds/{round_code}/close",
    response_model=RoundRead,
    tags=[ROUNDS],
    responses=errors(409),
    **access.run_round(),
)
async def close_round(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Close a published round."""
    return await service.round_read(session, await service.close_round(session, rnd=rnd, now=clock.now()))


@router.get(
    "/rounds/{round_code}/teams", response_model=Page[TeamRead], tags=[DRAWS], **allow(*access.READERS)
)
async def list_round_teams(rnd: ValidRound, session: SessionDep, principal: PrincipalDep) -> Page[TeamRead]:
    """List the teams of the current draw you may see (inspectors: their own; districts: those visiting them, once published)."""
    return Page.whole(await service.list_teams(session, rnd=rnd, principal=principal))


@router.get(
    "/rounds/{round_code}/assignments",
    response_model=Page[AssignmentRead],
    tags=[ASSIGNMENTS],
    **allow(*access.READERS),
)
async def list_round_assignments(
    rnd: ValidRound,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    team_id: TeamIdQuery = None,
    district: DistrictQuery = None,
) -> Page[AssignmentRead]:
    """List the sites drawn in the round inside your scope, with their team and visit window."""
    return await service.list_assignments(
        session, rnd=rnd, principal=principal, team_id=team_id, district=district, page=page
    )


@router.get(
    "/rounds/{round_code}/assignments/{site_code}",
    response_model=AssignmentRead,
    tags=[ASSIGNMENTS],
    **allow(*access.READERS),
)
async def get_round_assignment(
    rnd: ValidRound, site_code: SiteCodePath, session: SessionDep, principal: PrincipalDep
) -> AssignmentRead:
    """Say whether a site inside your scope was drawn in the round, and by which team and when it is visited."""
    return await service.get_assignment(session, rnd=rnd, site_code=site_code, principal=principal)


@router.get(
    "/internal/rounds/{round_code}/assignments",
    response_model=Page[AssignmentRead],
    tags=[ASSIGNMENTS],
    **internal(),
)
async def list_round_assignments_internal(
    rnd: ValidRound, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[AssignmentRead]:
    """List every site drawn in the round's current draw (for the services themselves, e.g. scoring)."""
    return await service.list_assignments(
        session, rnd=rnd, principal=principal, team_id=None, district=None, page=page
    )


@router.get(
    "/internal/rounds/{round_code}/assignments/{site_code}",
    response_model=AssignmentRead,
    tags=[ASSIGNMENTS],
    **internal(),
)
async def get_round_assignment_internal(
    rnd: ValidRound, site_code: SiteCodePath, session: SessionDep, principal: PrincipalDep
) -> AssignmentRead:
    """Say whether a site was drawn in the round, by which team and when (for scoring's sheets)."""
    return await service.get_assignment(session, rnd=rnd, site_code=site_code, principal=principal)


@router.patch(
    "/rounds/{round_code}/assignments/{site_code}",
    response_model=AssignmentRead,
    tags=[ASSIGNMENTS],
    responses=errors(409, 415),
    **access.run_round(),
)
async def update_round_assignment(
    rnd: LockedRound,
    site_code: SiteCodePath,
    change: AssignmentUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> AssignmentRead:
    """Move a visit to another team or window (recusal still holds); published rounds notify the teams."""
    return await service.change_assignment(
        session, rnd=rnd, site_code=site_code, change=change, principal=principal, now=clock.now()
    )


@router.get(
    "/me/assignments",
    response_model=Page[AssignmentRead],
    tags=[ASSIGNMENTS],
    **allow(*access.MY_ASSIGNMENTS),
)
async def list_my_assignments(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    round_code: Annotated[
        str | None, Query(max_length=20, description="Only the visits of this round (e.g. 2026Q1)")
    ] = None,
) -> Page[AssignmentRead]:
    """List your own visits in published rounds (as a team leader or member), newest round first."""
    rows = await service.assignments_of_user(session, principal=principal, round_code=round_code)
    return Page.slice(rows, page)

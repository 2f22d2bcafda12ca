"""Round (督查批次), draw, team and assignment routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from services.kit.auth import Principal, PrincipalDep, allow, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep, HttpDep
from services.kit.params import INT64_MAX, IdPath, OffsetQuery
from services.sampling import access, assignments, draws, repository, rounds
from services.sampling.access import OVERSEER_ROLES, TEAM_ROLES, city_wide
from services.sampling.deps import LockedRound, ValidRound
from services.sampling.errors import AssignmentNotFound, DrawNotFound, FrameNotFrozen
from services.sampling.models import Assignment, Draw, Round, Team
from services.sampling.schemas import (
    AssignmentRead,
    AssignmentUpdate,
    DrawRequest,
    DrawSummary,
    FrameRead,
    FreezeRequest,
    Page,
    RoundCreate,
    RoundPlanUpdate,
    RoundRead,
    StratumSummary,
    TeamRead,
)

router = APIRouter(tags=["rounds"])
me_router = APIRouter(tags=["my assignments"])
internal_router = APIRouter(tags=["internal"])

OVERSEERS = OVERSEER_ROLES


def _run_round() -> dict[str, Any]:
    return city_wide("city_admin", what="Running a round")


def _oversight() -> dict[str, Any]:
    return city_wide(*OVERSEERS, what="A round's frame and draw records")


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = OffsetQuery
TeamIdQuery = Annotated[int | None, Query(ge=1, le=INT64_MAX)]
SiteCodePath = Annotated[str, Path(max_length=64)]


def _round_read(rnd: Round, draw_number: int | None = None) -> RoundRead:
    return RoundRead.model_validate({**rnd.model_dump(), "current_draw_number": draw_number})


async def _read(session: Any, rnd: Round) -> RoundRead:
    number = None
    if rnd.current_draw_id is not None:
        draw = await session.get(Draw, rnd.current_draw_id)
        number = draw.number if draw else None
    return _round_read(rnd, number)


def _for(principal: Principal, read: RoundRead) -> RoundRead:
    """Hide which sites will be revisited from everyone but city-wide overseers: a district must not learn them early."""
    if not access.oversees(principal):
        follow_up = {**read.plan.get("follow_up", {}), "site_codes": []}
        return read.model_copy(update={"follow_ups": [], "plan": {**read.plan, "follow_up": follow_up}})
    return read


def _assignment(rnd: Round, team: Team, a: Assignment) -> AssignmentRead:
    return AssignmentRead.model_validate(
        {
            "round_code": rnd.code,
            "status": rnd.status,
            "site": {
                "code": a.site_code,
                "name": a.site_name,
                "type": a.site_type,
                "org_unit": a.org_unit,
                "district": a.district,
            },
            "team": {
                "id": team.id,
                "name": team.name,
                "leader_user_id": team.leader_user_id,
                "member_user_ids": team.member_user_ids,
            },
            "visit_from": a.visit_from,
            "visit_to": a.visit_to,
            "follow_up": a.follow_up,
            "stratum": a.stratum,
            "changed_at": a.changed_at,
            "change_reason": a.change_reason,
        }
    )


def _team_read(t: Team) -> TeamRead:
    assert t.id is not None
    return TeamRead(
        id=t.id,
        number=t.number,
        name=t.name,
        leader_user_id=t.leader_user_id,
        member_user_ids=list(t.member_user_ids),
        districts=list(t.districts),
    )


async def _visible_teams(session: Any, rnd: Round, principal: Principal) -> list[Team]:
    """The teams of the current draw this caller may see.

    City-wide overseers see every team at any time. Before publication a district-scoped overseer is
    refused (403) and an inspector sees none; after it, a district-scoped overseer sees the teams
    visiting its scope and an inspector its own team.
    """
    if rnd.current_draw_id is None:
        return []
    teams = await repository.teams_of_draw(session, rnd.current_draw_id)
    if access.oversees(principal):
        return teams
    access.require_round_visible(principal, rnd)
    if not access.is_published(rnd):
        return []
    ids: set[int | None] = set()
    if principal.has_role(*access.OVERSEER_ROLES):
        rows, _ = await repository.list_assignments(session, rnd.current_draw_id, visible_to=principal)
        ids = {a.team_id for a in rows}
    return [
        t
        for t in teams
        if t.id in ids or principal.sub == t.leader_user_id or principal.sub in t.member_user_ids
    ]


@router.post("/rounds", response_model=RoundRead, status_code=201, **_run_round())
async def create_round(
    round_in: RoundCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    request: Request,
) -> RoundRead:
    """Open a round in planning with its districts, quotas, exclusions and follow-up visits."""
    rnd = await rounds.create_round(
        session,
        http=http,
        rectification_url=request.app.state.settings.rectification_url,
        principal=principal,
        round_in=round_in,
        now=clock.now(),
    )
    return _round_read(rnd)


@router.get("/rounds", response_model=Page[RoundRead])
async def list_rounds(
    session: SessionDep,
    principal: PrincipalDep,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RoundRead]:
    """List rounds, newest quarter first."""
    rows, total = await repository.list_rounds(session, status=status, limit=limit, offset=offset)
    return Page[RoundRead](
        items=[_for(principal, await _read(session, r)) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/rounds/{round_code}", response_model=RoundRead)
async def get_round(rnd: ValidRound, session: SessionDep, principal: PrincipalDep) -> RoundRead:
    """Read a round: status, plan, frame hash and seed commitment."""
    return _for(principal, await _read(session, rnd))


@router.put("/rounds/{round_code}/plan", response_model=RoundRead, **_run_round())
async def update_round_plan(
    rnd: LockedRound,
    plan_in: RoundPlanUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    http: HttpDep,
    request: Request,
) -> RoundRead:
    """Replace the plan of a round that is still planning."""
    rnd = await rounds.update_plan(
        session,
        http=http,
        rectification_url=request.app.state.settings.rectification_url,
        principal=principal,
        rnd=rnd,
        plan_in=plan_in,
    )
    return _round_read(rnd)


@router.post("/rounds/{round_code}/freeze", response_model=FrameRead, **_run_round())
async def freeze_round(
    rnd: LockedRound, session: SessionDep, clock: ClockDep, body: FreezeRequest | None = None
) -> FrameRead:
    """Freeze the frame (sorted eligible codes and SHA-256 per stratum) and record the seed commitment."""
    frame = await rounds.freeze_round(
        session, rnd=rnd, commitment=(body or FreezeRequest()).commitment, now=clock.now()
    )
    return _frame_read(rnd, frame.frame, with_codes=False)


def _frame_read(rnd: Round, frame: dict[str, Any], *, with_codes: bool) -> FrameRead:
    assert rnd.frozen_at is not None and rnd.commitment is not None
    strata = [
        StratumSummary.model_validate({**s, "codes": s["codes"] if with_codes else None})
        for s in frame["strata"]
    ]
    return FrameRead(
        round_code=rnd.code,
        hash=frame["hash"],
        frozen_at=rnd.frozen_at,
        commitment=rnd.commitment,
        strata=strata,
        warnings=frame["warnings"],
    )


@router.get("/rounds/{round_code}/frame", response_model=FrameRead, **_oversight())
async def get_round_frame(rnd: ValidRound, session: SessionDep, include_codes: bool = False) -> FrameRead:
    """Read the frozen frame: strata, sizes, quotas and hashes (and the codes when asked)."""
    frame = await repository.get_frame(session, rnd.id) if rnd.id else None
    if frame is None:
        raise FrameNotFrozen(f"Round {rnd.code} has no frozen frame yet")
    return _frame_read(rnd, frame.frame, with_codes=include_codes)


def _draw_summary(rnd: Round, d: Draw) -> DrawSummary:
    return DrawSummary(
        number=d.number,
        algorithm=d.algorithm,
        public_value=d.public_value,
        reason=d.reason,
        record_sha256=d.record_sha256,
        created_by=d.created_by,
        created_at=d.created_at,
        current=rnd.current_draw_id == d.id,
        sites=sum(len(s["selected"]) for s in d.record["result"]["strata"]) + len(d.record["follow_ups"]),
        warnings=d.record["warnings"],
    )


@router.post("/rounds/{round_code}/draws", response_model=DrawSummary, status_code=201, **_run_round())
async def draw_round(
    rnd: LockedRound, draw_in: DrawRequest, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> DrawSummary:
    """Draw sites and teams from the frozen frame with the committed secret and a public value; a redraw needs a reason."""
    draw = await draws.draw_round(session, rnd=rnd, draw_in=draw_in, principal=principal, now=clock.now())
    return _draw_summary(rnd, draw)


@router.get("/rounds/{round_code}/draws", response_model=list[DrawSummary], **_oversight())
async def list_draws(rnd: ValidRound, session: SessionDep) -> list[DrawSummary]:
    """List every draw of the round, redraws included, oldest first."""
    assert rnd.id is not None
    return [_draw_summary(rnd, d) for d in await repository.list_draws(session, rnd.id)]


@router.get("/rounds/{round_code}/draws/{number}", **_oversight())
async def get_draw_record(rnd: ValidRound, number: IdPath, session: SessionDep) -> JSONResponse:
    """Export one draw's full record as JSON (what `python -m services.sampling.verify` checks)."""
    assert rnd.id is not None
    draw = await repository.get_draw(session, rnd.id, number)
    frame = await repository.get_frame(session, rnd.id)
    if draw is None or frame is None:
        raise DrawNotFound(f"Round {rnd.code} has no draw {number}", round_code=rnd.code, number=number)
    record = draws.export_record(rnd, draw, frame.frame)
    return JSONResponse(
        record, headers={"content-disposition": f'attachment; filename="draw-{rnd.code}-{number}.json"'}
    )


@router.post("/rounds/{round_code}/reveal", response_model=RoundRead, **_run_round())
async def reveal_round_seed(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Reveal the secret behind the commitment (once), so anyone can verify the draw."""
    return await _read(session, await draws.reveal_seed(session, rnd=rnd, now=clock.now()))


@router.post("/rounds/{round_code}/publish", response_model=RoundRead, **_run_round())
async def publish_round(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Publish the current draw: teams get their visit lists, districts only their visit windows."""
    return await _read(session, await rounds.publish_round(session, rnd=rnd, now=clock.now()))


@router.post("/rounds/{round_code}/close", response_model=RoundRead, **_run_round())
async def close_round(rnd: LockedRound, session: SessionDep, clock: ClockDep) -> RoundRead:
    """Close a published round."""
    return await _read(session, await rounds.close_round(session, rnd=rnd, now=clock.now()))


@router.get("/rounds/{round_code}/teams", response_model=list[TeamRead], **allow(*OVERSEERS, *TEAM_ROLES))
async def list_round_teams(rnd: ValidRound, session: SessionDep, principal: PrincipalDep) -> list[TeamRead]:
    """List the teams of the current draw you may see (inspectors: their own; districts: those visiting them, once published)."""
    return [_team_read(t) for t in await _visible_teams(session, rnd, principal)]


@router.get(
    "/rounds/{round_code}/assignments", response_model=Page[AssignmentRead], **allow(*OVERSEERS, *TEAM_ROLES)
)
async def list_round_assignments(
    rnd: ValidRound,
    session: SessionDep,
    principal: PrincipalDep,
    team_id: TeamIdQuery = None,
    district: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AssignmentRead]:
    """List the sites drawn in the round inside your scope, with their team and visit window."""
    teams = {t.id: t for t in await _visible_teams(session, rnd, principal)}
    return await _assignment_page(
        session, rnd, teams, principal, team_id=team_id, district=district, limit=limit, offset=offset
    )


async def _assignment_page(
    session: Any,
    rnd: Round,
    teams: dict[int | None, Team],
    principal: Principal,
    *,
    team_id: int | None,
    district: str | None,
    limit: int,
    offset: int,
) -> Page[AssignmentRead]:
    if rnd.current_draw_id is None or not teams:
        return Page[AssignmentRead](items=[], total=0, limit=limit, offset=offset)
    ids = [i for i in teams if i is not None and (team_id is None or i == team_id)]
    rows, total = await repository.list_assignments(
        session,
        rnd.current_draw_id,
        team_ids=ids,
        district=district,
        visible_to=principal,
        limit=limit,
        offset=offset,
    )
    return Page[AssignmentRead](
        items=[_assignment(rnd, teams[a.team_id], a) for a in rows], total=total, limit=limit, offset=offset
    )


async def _current_assignment(
    session: Any, rnd: Round, site_code: str, principal: Principal
) -> tuple[Team, Assignment]:
    """The site's visit in the current draw, or 404 (the same answer whether missing or not yours)."""
    a = (
        await repository.get_assignment(session, rnd.current_draw_id, site_code)
        if rnd.current_draw_id
        else None
    )
    teams = {t.id: t for t in await _visible_teams(session, rnd, principal)}
    if a is None or a.team_id not in teams or not principal.covers(a.org_unit):
        raise AssignmentNotFound(
            f"Site {site_code} was not drawn in round {rnd.code}", round_code=rnd.code, site_code=site_code
        )
    return teams[a.team_id], a


@router.get(
    "/rounds/{round_code}/assignments/{site_code}",
    response_model=AssignmentRead,
    **allow(*OVERSEERS, *TEAM_ROLES),
)
async def get_round_assignment(
    rnd: ValidRound, site_code: SiteCodePath, session: SessionDep, principal: PrincipalDep
) -> AssignmentRead:
    """Say whether a site inside your scope was drawn in the round, and by which team and when it is visited."""
    team, a = await _current_assignment(session, rnd, site_code, principal)
    return _assignment(rnd, team, a)


@internal_router.get(
    "/internal/rounds/{round_code}/assignments", response_model=Page[AssignmentRead], **internal()
)
async def list_round_assignments_internal(
    rnd: ValidRound,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AssignmentRead]:
    """List every site drawn in the round's current draw (for the services themselves, e.g. scoring)."""
    teams = {t.id: t for t in await _visible_teams(session, rnd, principal)}
    return await _assignment_page(
        session, rnd, teams, principal, team_id=None, district=None, limit=limit, offset=offset
    )


@internal_router.get(
    "/internal/rounds/{round_code}/assignments/{site_code}", response_model=AssignmentRead, **internal()
)
async def get_round_assignment_internal(
    rnd: ValidRound, site_code: SiteCodePath, session: SessionDep, principal: PrincipalDep
) -> AssignmentRead:
    """Say whether a site was drawn in the round, by which team and when (for scoring's sheets)."""
    team, a = await _current_assignment(session, rnd, site_code, principal)
    return _assignment(rnd, team, a)


@router.patch("/rounds/{round_code}/assignments/{site_code}", response_model=AssignmentRead, **_run_round())
async def update_round_assignment(
    rnd: LockedRound,
    site_code: SiteCodePath,
    change: AssignmentUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> AssignmentRead:
    """Move a visit to another team or window (recusal still holds); published rounds notify the teams."""
    _, a = await _current_assignment(session, rnd, site_code, principal)
    a = await assignments.change_assignment(
        session,
        rnd=rnd,
        assignment=a,
        team_id=change.team_id,
        visit_from=change.visit_from,
        visit_to=change.visit_to,
        reason=change.reason,
        now=clock.now(),
    )
    team = (await repository.teams_by_ids(session, [a.team_id]))[a.team_id]
    return _assignment(rnd, team, a)


@me_router.get("/me/assignments", response_model=Page[AssignmentRead], **allow(*TEAM_ROLES, "city_admin"))
async def list_my_assignments(
    session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> Page[AssignmentRead]:
    """List your own visits in published rounds (as a team leader or member)."""
    rows = await assignments.assignments_of_user(session, principal=principal)
    page = rows[offset : offset + limit]
    return Page[AssignmentRead](
        items=[_assignment(r, t, a) for r, t, a in page], total=len(rows), limit=limit, offset=offset
    )

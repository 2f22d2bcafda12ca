"""Visit calendars (JSON and iCalendar) of teams and people, and a round's visit settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.kit.params import INT64_MAX
from services.sampling.rounds import access as rounds_access
from services.sampling.rounds.access import LockedRound, ValidRound
from services.sampling.visits import service
from services.sampling.visits.schemas import VisitPlanUpdate, VisitRead, VisitSettingsRead

TAG = "sampling.visits"
router = APIRouter(tags=[TAG])

TeamNumberPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The team's number in the round")]
UserIdPath = Annotated[
    str, Path(min_length=1, max_length=64, description="The inspector's user id, e.g. u-insp-07")
]
RoundCodeQuery = Annotated[
    str | None, Query(max_length=20, description="Only the visits of this round (e.g. 2026Q1)")
]
ICS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "RFC 5545 calendar, one all-day event per visit"}
}


def _ics(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "content-disposition": f'inline; filename="{name}.ics"',
            "cache-control": "private, max-age=300",
        },
    )


@router.get(
    "/rounds/{round_code}/teams/{number}/visits",
    response_model=Page[VisitRead],
    responses=errors(403),
    **allow(*rounds_access.READERS),
)
async def list_team_visits(
    rnd: ValidRound, number: TeamNumberPath, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[VisitRead]:
    """List a team's visits by working day, then site code (its members once published; city-wide overseers always)."""
    return await service.team_visit_page(session, rnd=rnd, number=number, principal=principal, page=page)


@router.get(
    "/rounds/{round_code}/teams/{number}/visits.ics",
    response_class=Response,
    responses={**ICS, **errors(403)},
    **allow(*rounds_access.READERS),
)
async def get_team_visits_ics(
    rnd: ValidRound, number: TeamNumberPath, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> Response:
    """Download a team's visits as iCalendar: all-day events, a reminder at 18:00 the evening before."""
    visits, _ = await service.team_visits(session, rnd=rnd, number=number, principal=principal, page=None)
    team = visits[0].team.name if visits else f"第{number}组"
    return _ics(
        service.ics(visits, name=f"{rnd.code} {team}督查日程", now=clock.now()),
        f"visits-{rnd.code}-team-{number}",
    )


@router.get(
    "/inspectors/{user_id}/visits",
    response_model=Page[VisitRead],
    responses=errors(403),
    **allow(*rounds_access.READERS),
)
async def list_person_visits(
    user_id: UserIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    round_code: RoundCodeQuery = None,
) -> Page[VisitRead]:
    """List a person's visits on any team by working day (yours in published rounds; anyone's for city-wide overseers)."""
    rows = await service.person_visits(session, user_id=user_id, principal=principal, round_code=round_code)
    return Page.slice(rows, page)


@router.get(
    "/inspectors/{user_id}/visits.ics",
    response_class=Response,
    responses={**ICS, **errors(403)},
    **allow(*rounds_access.READERS),
)
async def get_person_visits_ics(
    user_id: UserIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    round_code: RoundCodeQuery = None,
) -> Response:
    """Download a person's visits as iCalendar: all-day events, a reminder at 18:00 the evening before."""
    rows = await service.person_visits(session, user_id=user_id, principal=principal, round_code=round_code)
    return _ics(service.ics(rows, name=f"{user_id} 督查日程", now=clock.now()), f"visits-{user_id}")


@router.get(
    "/rounds/{round_code}/visit-plan",
    response_model=VisitSettingsRead,
    **rounds_access.oversight(),
)
async def get_visit_plan(rnd: ValidRound, session: SessionDep) -> VisitSettingsRead:
    """Read a round's visit settings (first day, days per district, daily cap) and its schedule's span."""
    return await service.visit_settings(session, rnd)


@router.put(
    "/rounds/{round_code}/visit-plan",
    response_model=VisitSettingsRead,
    responses=errors(409, 415),
    **rounds_access.run_round(),
)
async def update_visit_plan(
    rnd: LockedRound, plan_in: VisitPlanUpdate, session: SessionDep, clock: ClockDep
) -> VisitSettingsRead:
    """Change the visit settings until publication; a drawn round's visits are scheduled again."""
    return await service.update_visit_plan(session, rnd=rnd, plan_in=plan_in, now=clock.now())

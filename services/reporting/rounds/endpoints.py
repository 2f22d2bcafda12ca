"""Routes of rounds: the list, a round's dashboard and its charts."""

from __future__ import annotations

import asyncio
import importlib
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from starlette.responses import Response as RawResponse

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import PageDep
from services.reporting.deps import DashboardCacheDep, RoundCode, SettingsDep
from services.reporting.rounds import access, service
from services.reporting.rounds.schemas import Dashboard, RoundList

TAG = "reporting.rounds"
router = APIRouter(tags=[TAG])

ChartName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z_]+$",
        description="coverage, grades, ranking or rectification",
        examples=["coverage"],
    ),
]
MEDIA_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}


@router.get("/rounds", response_model=RoundList, **allow(*access.READERS))
async def list_rounds(session: SessionDep, principal: PrincipalDep, page: PageDep) -> RoundList:
    """List the rounds reporting knows (newest first), with how fresh each is."""
    access.district_scope(principal)
    return await service.list_rounds(session, page)


@router.get(
    "/rounds/{round_code}/dashboard",
    response_class=RawResponse,
    responses={200: {"model": Dashboard, "description": "The dashboard"}, **errors(404)},
    **allow(*access.READERS),
)
async def get_dashboard(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    cache: DashboardCacheDep,
) -> RawResponse:
    """Show how a round stands: coverage, scores and grades, the ranking and its change, common
    problems, rectification, good practices (a district's scope: its own district)."""
    body = await service.dashboard_json(
        session,
        round_code,
        district=access.district_scope(principal),
        now=clock.now(),
        settings=settings,
        cache=cache,
    )
    return RawResponse(body, media_type="application/json")


async def _chart(
    round_code: str,
    name: str,
    fmt: Literal["svg", "png"],
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    cache: DashboardCacheDep,
) -> RawResponse:
    body = await service.dashboard_json(
        session,
        round_code,
        district=access.district_scope(principal),
        now=clock.now(),
        settings=settings,
        cache=cache,
    )
    chart = service.chart(name, Dashboard.model_validate_json(body))
    # The renderers are another package's (services.reporting.render.charts): looked up when drawn.
    charts = importlib.import_module("services.reporting.render.charts")
    # Off the event loop: a chart takes 0.1-1 s of CPU (the renderers lock per process).
    image: bytes = await asyncio.to_thread(charts.render, chart, fmt)
    return RawResponse(
        image,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{round_code}-{name}.{fmt}"'},
    )


@router.get(
    "/rounds/{round_code}/dashboard/charts/{name}.svg",
    response_class=RawResponse,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "The chart"},
        **errors(404),
    },
    **allow(*access.READERS),
)
async def get_dashboard_chart_svg(
    round_code: RoundCode,
    name: ChartName,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    cache: DashboardCacheDep,
) -> RawResponse:
    """Draw one of the dashboard's charts as SVG (coverage, grades, ranking, rectification), in Chinese."""
    return await _chart(round_code, name, "svg", session, principal, clock, settings, cache)


@router.get(
    "/rounds/{round_code}/dashboard/charts/{name}.png",
    response_class=RawResponse,
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The chart",
        },
        **errors(404),
    },
    **allow(*access.READERS),
)
async def get_dashboard_chart_png(
    round_code: RoundCode,
    name: ChartName,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    cache: DashboardCacheDep,
) -> RawResponse:
    """Draw one of the dashboard's charts as PNG (coverage, grades, ranking, rectification), in Chinese."""
    return await _chart(round_code, name, "png", session, principal, clock, settings, cache)
